import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.js';
import { EarlyStopping } from '../../../src/models/earlyStopping.js';
import { LinearModel } from '../../../src/models/linear/index.js';
import { Mlp } from '../../../src/models/nets/mlp.js';
import { WindowNet } from '../../../src/models/nets/windowNet.js';
import { RobustModel } from '../../../src/models/robust.js';
import {
  DEFAULT_ROBUST,
  createVariant,
  defaultVariantFor,
  modelFromState,
} from '../../../src/models/variant.js';
import { vectorTask, windowTask } from './nets/helpers.js';

const win = windowTask(8, 1, 3, 12);
const vec = vectorTask(8, 2, 5);

describe('variants', () => {
  it('builds each model from the first event shape', () => {
    const w = createVariant(
      { name: 'bn', model: 'windownet', options: { normalizer: 'batch', hidden: 4 } },
      win.X[0],
    );
    expect(w).toBeInstanceOf(WindowNet);
    expect((w as WindowNet).inChannels).toBe(3);
    expect((w as WindowNet).length).toBe(12);
    const m = createVariant({ name: 'mlp', model: 'mlp', options: { hidden: [4], classes: 3 } }, vec.X[0]);
    expect(m).toBeInstanceOf(Mlp);
    expect(m.classes).toBe(3);
    const l = createVariant(
      { name: 'lin', model: 'linear', options: { regularizer: { l1: 0.01 } } },
      vec.X[0],
    );
    expect(l).toBeInstanceOf(LinearModel);
    l.learnOne(vec.X[0], vec.Y[0]);
    const s = createVariant(
      { name: 'hash', model: 'linear', options: { dim: 1024 } },
      { indices: [3], values: [1] },
    );
    s.learnOne({ indices: [1000], values: [2] }, 1);
    const es = createVariant({ name: 'es', model: 'mlp', earlyStopping: { patience: 2 } }, vec.X[0]);
    expect(es).toBeInstanceOf(EarlyStopping);
  });

  it('defaults: logistic LinearModel for vectors, WindowNet with LayerNorm for windows', () => {
    expect(defaultVariantFor(vec.X[0])).toEqual({
      name: 'default',
      model: 'linear',
      options: { loss: 'logistic' },
      robust: DEFAULT_ROBUST,
    });
    const d = defaultVariantFor(win.X[0]);
    expect(d).toEqual({
      name: 'default',
      model: 'windownet',
      options: { normalizer: 'layer' },
      robust: DEFAULT_ROBUST,
    });
    const robust = createVariant(d, win.X[0]) as RobustModel;
    expect(robust).toBeInstanceOf(RobustModel);
    const net = robust.model as WindowNet;
    expect(net.opts.normalizer).toBe('layer');
    // LayerNorm trains on single events.
    robust.learnOne(win.X[0], win.Y[0]);
    expect(net.steps).toBe(1);
    expect(() => defaultVariantFor({ indices: [1], values: [1] })).toThrow(/dim/);
    expect(defaultVariantFor({ indices: [1], values: [1] }, 64).options).toEqual({
      loss: 'logistic',
      dim: 64,
    });
  });

  it('restores any model by kind, early stopping included', () => {
    for (const spec of [
      { name: 'a', model: 'windownet' as const, options: { normalizer: 'batch' } },
      { name: 'b', model: 'windownet' as const, earlyStopping: { holdoutEvery: 3, evalEvery: 2 } },
    ]) {
      const m = createVariant(spec, win.X[0]);
      m.learnMany(win.X, win.Y);
      const r = modelFromState(JSON.parse(JSON.stringify(m.state())));
      expect(r.kind).toBe(m.kind);
      expect(r.predictMany(win.X)).toEqual(m.predictMany(win.X));
      expect(JSON.stringify(r.state())).toBe(JSON.stringify(m.state()));
    }
    const l = createVariant({ name: 'l', model: 'linear' }, vec.X[0]);
    l.learnMany(vec.X, vec.Y);
    expect(modelFromState(JSON.parse(JSON.stringify(l.state()))).predictMany(vec.X)).toEqual(
      l.predictMany(vec.X),
    );
    expect(() => modelFromState({ kind: 'Forest' })).toThrow(/Forest/);
  });

  it('rejects bad specs with errors naming the variant and the field', () => {
    expect(() => createVariant({ name: 'x', model: 'svm' } as never, vec.X[0])).toThrow(/variant x: model/);
    expect(() => createVariant({ name: '', model: 'mlp' }, vec.X[0])).toThrow(/variant\.name/);
    expect(() => createVariant({ name: 'w', model: 'windownet' }, vec.X[0])).toThrow(
      /variant w: model: a WindowNet needs window/,
    );
    expect(() => createVariant({ name: 'm', model: 'mlp' }, win.X[0])).toThrow(/variant m: model/);
    expect(() => createVariant({ name: 'l', model: 'linear' }, win.X[0])).toThrow(/variant l: model/);
    expect(() => createVariant({ name: 's', model: 'linear' }, { indices: [1], values: [1] })).toThrow(
      /options\.dim/,
    );
    expect(() => createVariant({ name: 'k', model: 'windownet', options: { kernel: 99 } }, win.X[0])).toThrow(
      /variant k: kernel/,
    );
    expect(() =>
      createVariant({ name: 'n', model: 'mlp', options: { normalizer: 'instance' } }, vec.X[0]),
    ).toThrow(ModelError);
  });
});
