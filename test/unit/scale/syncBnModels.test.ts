/**
 * `run --sync-bn` reaches the BatchNorm layers the model has at each learning call (src/scale/syncBnModels.ts):
 * after a replica folds a peer's delta (a new model behind its slot) and after a training-mode prediction restores
 * the layers from a snapshot, learning still pools through the reducers; predictions pool nothing; reducers are
 * detached after each call and a step is closed after each call.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { createModel } from '../../../src/models/variant.js';
import type { OnlineModel } from '../../../src/models/types.js';
import { BatchNorm } from '../../../src/normalizers/batchNorm.js';
import type { Normalizer } from '../../../src/normalizers/normalizer.js';
import { Replica } from '../../../src/scale/replica.js';
import { hasBatchNorm, withLayerReducers, type LayerReducer } from '../../../src/scale/syncBnModels.js';
import { MemorySyncLog } from '../../../src/scale/syncLog.js';

function mlp(normalizer: string, hidden = [4, 3]): OnlineModel {
  return createModel(
    { name: 'v', model: 'mlp', options: { hidden, normalizer, seed: 3 } },
    { kind: 'vector', dim: 3 },
  );
}

function batch(seed: number): { X: number[][]; Y: number[] } {
  const rng = new Rng(seed);
  const X = Array.from({ length: 4 }, () => [rng.normal(), rng.normal(), rng.normal()]);
  return { X, Y: X.map((x) => (x[0] > 0 ? 1 : 0)) };
}

/** Reducers that pool nothing (identity) and record what reached them. */
function recording(): { calls: string[]; reducerFor: (ch: string) => LayerReducer } {
  const calls: string[] = [];
  return {
    calls,
    reducerFor: (ch) => ({
      poolMoments: (l) => (calls.push(`${ch} forward`), l),
      poolGradients: (l) => (calls.push(`${ch} backward`), l),
      close: () => calls.push(`${ch} close`),
    }),
  };
}

function layers(m: OnlineModel): (Normalizer | null)[] {
  return (m as unknown as { normalizerLayers(): (Normalizer | null)[] }).normalizerLayers();
}

describe('withLayerReducers', () => {
  it('pools every BatchNorm layer of a learning step, forward then backward, and detaches after', () => {
    const rec = recording();
    const [m] = Object.values(withLayerReducers({ v: mlp('batch') }, rec.reducerFor));
    const b = batch(1);
    m.learnMany(b.X, b.Y);
    expect(rec.calls).toEqual([
      'v/0 forward',
      'v/1 forward',
      'v/1 backward',
      'v/0 backward',
      'v/0 close',
      'v/1 close',
    ]);
    expect(layers(m).every((n) => n instanceof BatchNorm && n.reducer === null)).toBe(true);
  });

  it('predictions pool nothing, the training-mode one (train-versus-inference gap) included, and learning still pools after it', () => {
    const rec = recording();
    const [m] = Object.values(withLayerReducers({ v: mlp('batch') }, rec.reducerFor));
    const b = batch(2);
    const before = layers(m)[0];
    (m as unknown as { predictProbaMany(X: number[][], o: object): number[][] }).predictProbaMany(b.X, {
      training: true,
    });
    m.predictMany(b.X);
    expect(rec.calls).toEqual([]);
    // The training-mode prediction restored the layers from a snapshot: new objects.
    expect(layers(m)[0]).not.toBe(before);
    m.learnMany(b.X, b.Y);
    expect(rec.calls.filter((c) => c.endsWith('forward'))).toEqual(['v/0 forward', 'v/1 forward']);
  });

  it("follows the model a replica swaps in when it folds a peer's delta", async () => {
    const log = new MemorySyncLog();
    const a = new Replica({ id: 'a', log: log.reader(), models: { v: mlp('batch') } });
    const peer = new Replica({ id: 'b', log: log.reader(), models: { v: mlp('batch') } });
    const rec = recording();
    const models = withLayerReducers(a.models, rec.reducerFor);
    const b = batch(3);
    peer.models.v.learnMany(b.X, b.Y);
    peer.learned(4);
    await peer.sync();
    const before = layers(models.v)[0];
    await a.sync();
    expect(layers(models.v)[0]).not.toBe(before); // a new model behind the slot
    models.v.learnMany(b.X, b.Y);
    expect(rec.calls.filter((c) => c.endsWith('backward'))).toEqual(['v/1 backward', 'v/0 backward']);
  });

  it('leaves models without BatchNorm alone', () => {
    const rec = recording();
    const { v } = withLayerReducers({ v: mlp('layer') }, rec.reducerFor);
    const b = batch(4);
    v.learnMany(b.X, b.Y);
    expect(rec.calls).toEqual([]);
    expect(hasBatchNorm(v)).toBe(false);
    expect(hasBatchNorm(mlp('batch'))).toBe(true);
  });
});
