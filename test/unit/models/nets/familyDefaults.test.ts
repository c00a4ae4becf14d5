import { describe, expect, it } from 'vitest';
import { modelFamily } from '../../../../src/models/modelFamilies.js';
import type { Mlp } from '../../../../src/models/nets/mlp.js';
import type { Rnn } from '../../../../src/models/nets/rnn.js';
import type { WindowNet } from '../../../../src/models/nets/windowNet.js';

describe('net family defaults (docs/nets.md)', () => {
  it('WindowNet: 16 channels, kernel 7, narrowed to leave a conv output of length >= 2 on short windows', () => {
    const f = modelFamily('windownet');
    const make = (length: number, extra = {}): WindowNet =>
      f.create({ normalizer: 'none', ...extra }, { kind: 'window', channels: 2, length }) as WindowNet;
    expect([make(32).hidden, make(32).kernel]).toEqual([16, 7]);
    expect(make(8).kernel).toBe(7);
    expect(make(5).kernel).toBe(4);
    expect(make(1).kernel).toBe(1);
    expect(make(5, { kernel: 5 }).kernel).toBe(5);
    expect(() => make(4, { normalizer: 'instance' })).not.toThrow();
  });

  it('Mlp: one hidden layer of 64; Rnn: 64 hidden units reading out the mean state', () => {
    const mlp = modelFamily('mlp').create({}, { kind: 'vector', dim: 10 }) as Mlp;
    expect(mlp.hidden).toEqual([64]);
    const f = modelFamily('rnn');
    const rnn = f.create({}, { kind: 'window', channels: 3, length: 12 }) as Rnn;
    expect([rnn.hidden, rnn.readout]).toEqual([64, 'mean']);
    // the CLI's flat options reach it (compare --hidden 32 --readout last)
    const old = f.create(f.optionsFrom({ hidden: 32, readout: 'last' }, 2), {
      kind: 'window',
      channels: 3,
      length: 12,
    }) as Rnn;
    expect([old.hidden, old.readout]).toEqual([32, 'last']);
  });
});
