/**
 * RobustModel's step guard measures and undoes a step through the model's `stepMark()` when it has one
 * (LinearModel), instead of two full `state()` snapshots per batch. The mark must change nothing: over random
 * streams with outliers (so steps are refused and undone) and every optimizer, regularizer store and input
 * kind, a RobustModel with marks and one without reach the same state bit for bit after every batch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { LinearModel, type LinearModelOptions } from '../../../src/models/linear/index.js';
import { RobustModel } from '../../../src/models/robust.js';
import type { Features, ModelState, OnlineModel } from '../../../src/models/types.js';
import { modelFromState } from '../../../src/models/variant.js';

/** The same model with its stepMark hidden, so RobustModel takes the two-snapshot path. */
function unmarked(m: OnlineModel): OnlineModel {
  Object.defineProperty(m, 'stepMark', { value: undefined });
  return m;
}

const configs: Array<{ name: string; options: LinearModelOptions; sparse: boolean }> = [
  { name: 'sgd', options: { loss: 'logistic' }, sparse: false },
  {
    name: 'adam + l2',
    options: { loss: 'logistic', optimizer: { type: 'adam', lr: 0.05 }, regularizer: { l2: 1e-3 } },
    sparse: false,
  },
  {
    name: 'adagrad + elastic net',
    options: {
      loss: 'logistic',
      optimizer: { type: 'adagrad', lr: 0.1 },
      regularizer: { l1: 1e-3, l2: 1e-3 },
    },
    sparse: false,
  },
  {
    name: 'sgd + elastic net, sparse (lazy store)',
    options: { loss: 'logistic', regularizer: { l1: 1e-3, l2: 1e-4 }, dim: 64 },
    sparse: true,
  },
  {
    name: 'ftrl, sparse',
    options: {
      loss: 'logistic',
      optimizer: { type: 'ftrl', alpha: 0.5 },
      regularizer: { l1: 1e-3 },
      dim: 64,
    },
    sparse: true,
  },
  {
    name: 'softmax, 3 classes',
    options: { loss: 'softmax', classes: 3, optimizer: { type: 'adam' } },
    sparse: false,
  },
];

function stream(seed: number, n: number, sparse: boolean, classes: number): { x: Features; y: number }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    // Every 37th event is an outlier, so the guard refuses steps and undoes them.
    const scale = i % 37 === 36 ? 1e4 : 1;
    const y = rng.int(classes);
    if (sparse) {
      const indices = [rng.int(32), 32 + rng.int(32)];
      return { x: { indices, values: [scale * (rng.normal() + y), scale * rng.normal()] }, y };
    }
    return { x: [scale * (rng.normal() + y), scale * rng.normal(), rng.normal() - y], y };
  });
}

describe('LinearModel.stepMark under RobustModel', () => {
  for (const c of configs) {
    it(`${c.name}: the same states as two state() snapshots, refused steps included`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 1e6 }),
          fc.integer({ min: 1, max: 16 }),
          fc.boolean(),
          (seed, batch, clipped) => {
            const classes = c.options.classes ?? 2;
            const restoreMarked = (s: ModelState): OnlineModel => modelFromState(s);
            const restorePlain = (s: ModelState): OnlineModel => unmarked(modelFromState(s));
            // A tight guard (1.2 × the recent steps) refuses many steps, so the undo path runs often.
            const robust = { clip: clipped ? 5 : Infinity, step: { factor: 1.2, warmup: 3 } };
            const marked = new RobustModel(new LinearModel(c.options), restoreMarked, robust);
            const plain = new RobustModel(unmarked(new LinearModel(c.options)), restorePlain, robust);
            const evs = stream(seed, 160, c.sparse, classes);
            for (let i = 0; i < evs.length; i += batch) {
              const b = evs.slice(i, i + batch);
              const X = b.map((e) => e.x);
              const Y = b.map((e) => e.y);
              marked.learnMany(X, Y);
              plain.learnMany(X, Y);
              expect(marked.state()).toEqual(plain.state());
            }
            expect(marked.outsizedUpdates).toBe(plain.outsizedUpdates);
            expect(JSON.stringify(marked.state())).toBe(JSON.stringify(plain.state()));
          },
        ),
        { numRuns: 15 },
      );
    });
  }

  it('the streams above do refuse steps (the undo path is exercised)', () => {
    const m = new RobustModel(new LinearModel(configs[0].options), modelFromState, {
      clip: Infinity,
      step: { factor: 1.2, warmup: 3 },
    });
    const evs = stream(7, 160, false, 2);
    for (let i = 0; i < evs.length; i += 4)
      m.learnMany(
        evs.slice(i, i + 4).map((e) => e.x),
        evs.slice(i, i + 4).map((e) => e.y),
      );
    expect(m.outsizedUpdates).toBeGreaterThan(0);
  });

  it('a mark taken before the dimension is known (first step allocates) restores the empty model', () => {
    const m = new LinearModel({ loss: 'logistic' });
    const mark = m.stepMark();
    m.learnMany([[1, 2, 3]], [1]);
    expect(mark.norm()).toBe(0);
    expect(mark.state()).toEqual(new LinearModel({ loss: 'logistic' }).state());
  });

  it('state() of a mark does not disturb the live model', () => {
    const rng = new Rng(3);
    const m = new LinearModel({ loss: 'logistic', optimizer: { type: 'adam' }, dim: 3 });
    m.learnMany([[1, 0, -1]], [1]);
    const mark = m.stepMark();
    m.learnMany([[rng.normal(), rng.normal(), rng.normal()]], [0]);
    const after = m.state();
    mark.state();
    expect(m.state()).toEqual(after);
  });
});
