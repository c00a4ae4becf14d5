import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { WindowNet } from '../../../src/models/nets/windowNet.js';
import { BatchNorm } from '../../../src/normalizers/batchNorm.js';
import { BatchRenorm, parseBatchRenormSpec } from '../../../src/normalizers/batchRenorm.js';
import {
  createNormalizer,
  defaultNormalizerSpecs,
  isNormalizerSpec,
} from '../../../src/normalizers/descriptors.js';
import { randomTensor } from './gradCheck.js';

describe('Batch Renorm spec grammar and warm-up schedule (Ioffe 2017)', () => {
  it("'batchrenorm' keeps the fixed final clips rMax 3, dMax 5 from the first step", () => {
    expect(parseBatchRenormSpec('batchrenorm')).toEqual({ kind: 'batchrenorm', rMax: 3, dMax: 5 });
    const b = createNormalizer('batchrenorm', { channels: 2 }) as BatchRenorm;
    expect(b.schedule).toBeNull();
    expect(b.limits()).toEqual({ rMax: 3, dMax: 5 });
    expect(parseBatchRenormSpec('batchrenorm:rmax2.5:dmax1')).toEqual({
      kind: 'batchrenorm',
      rMax: 2.5,
      dMax: 1,
    });
  });

  it('with start/warmup/dwarmup keys builds the schedule, defaults filled in', () => {
    expect(parseBatchRenormSpec('batchrenorm:warmup100')?.schedule).toEqual({
      rMaxEnd: 3,
      dMaxEnd: 5,
      warmupSteps: 100,
      dWarmupSteps: 100,
      startStep: 0,
    });
    expect(
      parseBatchRenormSpec('batchrenorm:start5000:warmup35000:dwarmup20000:rmax3:dmax5')?.schedule,
    ).toEqual({ rMaxEnd: 3, dMaxEnd: 5, warmupSteps: 35000, dWarmupSteps: 20000, startStep: 5000 });
  });

  it.each([
    'batchrenorm:',
    'batchrenorm:warmup',
    'batchrenorm:warmup1.5',
    'batchrenorm:start-1',
    'batchrenorm:rmax0.5',
    'batchrenorm:warmup1:warmup2',
    'batchrenorm:warmup=10',
    'batchrenorm:warmup10,start2',
    'batchrenorm:speed3',
    'batchrenorm:warmup10:',
  ])('refuses %j', (spec) => {
    expect(parseBatchRenormSpec(spec)).toBeNull();
    expect(isNormalizerSpec(spec)).toBe(false);
  });

  it('ramps rMax from 1 and dMax from 0 linearly after `start`, each over its own steps, then holds', () => {
    const b = createNormalizer('batchrenorm:start2:warmup4:dwarmup2:rmax3:dmax5', {
      channels: 2,
    }) as BatchRenorm;
    const rng = new Rng(1);
    const seen: { rMax: number; dMax: number }[] = [];
    for (let s = 0; s < 9; s++) {
      seen.push(b.limits());
      b.forward(randomTensor(rng, [4, 2]));
    }
    expect(seen.map((l) => l.rMax)).toEqual([1, 1, 1, 1.5, 2, 2.5, 3, 3, 3]);
    expect(seen.map((l) => l.dMax)).toEqual([0, 0, 0, 2.5, 5, 5, 5, 5, 5]);
  });

  it('at step 0 of a schedule equals BatchNorm: outputs, input and γ/β gradients, running statistics', () => {
    const brn = createNormalizer('batchrenorm:warmup50', { channels: 3, length: 2 }) as BatchRenorm;
    const bn = new BatchNorm({ channels: 3 });
    // Running statistics far from the batch's, so fixed clips (rMax 3, dMax 5) would differ from BatchNorm.
    brn.runningMean.fill(4);
    brn.runningVar.fill(30);
    bn.runningMean.fill(4);
    bn.runningVar.fill(30);
    const rng = new Rng(2);
    const x = randomTensor(rng, [5, 3, 2], 2, 0.5);
    const dy = randomTensor(rng, [5, 3, 2]);
    const a = brn.forward(x);
    const b = bn.forward(x);
    const da = brn.backward(dy);
    const db = bn.backward(dy);
    for (let i = 0; i < a.data.length; i++) {
      expect(a.data[i]).toBeCloseTo(b.data[i], 12);
      expect(da.data[i]).toBeCloseTo(db.data[i], 12);
    }
    for (let j = 0; j < 3; j++) {
      expect(brn.grads.gamma![j]).toBeCloseTo(bn.grads.gamma![j], 12);
      expect(brn.grads.beta![j]).toBeCloseTo(bn.grads.beta![j], 12);
      expect(brn.runningMean[j]).toBeCloseTo(bn.runningMean[j], 12);
      expect(brn.runningVar[j]).toBeCloseTo(bn.runningVar[j], 12);
    }
    expect(Array.from(brn.r)).toEqual([1, 1, 1]);
    // The same batch through the fixed-clip spec is corrected toward the running statistics instead.
    const fixed = createNormalizer('batchrenorm', { channels: 3, length: 2 }) as BatchRenorm;
    fixed.runningMean.fill(4);
    fixed.runningVar.fill(30);
    const f = fixed.forward(x);
    expect(Math.max(...f.data.map((v, i) => Math.abs(v - b.data[i])))).toBeGreaterThan(0.1);
  });

  it('fits in the CLI lists: a variant item NAME=SPEC and a comma list keep the spec whole', async () => {
    const { parseVariantList } = await import('../../../src/cli/variants.js');
    expect(parseVariantList('brn=batchrenorm:start10:warmup100,layer')).toEqual([
      { name: 'brn', model: 'windownet', normalizer: 'batchrenorm:start10:warmup100' },
      { name: 'layer', model: 'windownet', normalizer: 'layer' },
    ]);
  });

  it('a net keeps the schedule position across a state round trip', () => {
    const rng = new Rng(3);
    const X = Array.from({ length: 12 }, () =>
      Array.from({ length: 2 }, () => Array.from({ length: 6 }, () => rng.normal())),
    );
    const Y = X.map((_, i) => i % 2);
    const opts = {
      inChannels: 2,
      length: 6,
      hidden: 4,
      kernel: 3,
      classes: 2,
      normalizer: 'batchrenorm:start1:warmup3',
      seed: 1,
    };
    const a = new WindowNet(opts);
    for (let i = 0; i < 8; i += 4) a.learnMany(X.slice(i, i + 4), Y.slice(i, i + 4));
    const b = WindowNet.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(b.state().normalizers[0]!.steps).toBe(2);
    a.learnMany(X.slice(8), Y.slice(8));
    b.learnMany(X.slice(8), Y.slice(8));
    expect(b.state()).toEqual(a.state());
  });
});

describe("compare's default Batch Renorm", () => {
  it('is the warm-up form (plain BatchNorm first, then the clips ramp up, as Ioffe 2017 trains it)', () => {
    const specs = defaultNormalizerSpecs().filter((s) => s.startsWith('batchrenorm'));
    expect(specs).toEqual(['batchrenorm:start50:warmup500']);
    expect(parseBatchRenormSpec(specs[0])).toMatchObject({
      schedule: { rMaxEnd: 3, dMaxEnd: 5, startStep: 50, warmupSteps: 500, dWarmupSteps: 500 },
    });
  });
});
