/**
 * Replicas of one model over an in-memory sync log: they converge on one model, the model depends only on
 * the records folded (full or compacted log, any replica), a single replica is exactly a single process,
 * a departed replica's unsynced delta is merged once, and staleness is the time since the last sync.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { createModel, type VariantSpec } from '../../../src/models/variant.js';
import type { ModelState, OnlineModel } from '../../../src/models/types.js';
import { Replica, mergedStates } from '../../../src/scale/replica.js';
import { MemorySyncLog, type SyncRecord } from '../../../src/scale/syncLog.js';

const specs: VariantSpec[] = [
  { name: 'lin', model: 'linear', options: { loss: 'logistic' }, robust: { clip: 5 } },
  { name: 'mlp', model: 'mlp', options: { hidden: [4], normalizer: 'batch', seed: 3 } },
];

function fresh(): Record<string, OnlineModel> {
  const out: Record<string, OnlineModel> = {};
  for (const s of specs) out[s.name] = createModel(s, { kind: 'vector', dim: 3 });
  return out;
}

/** Deterministic batches of 8 events: two Gaussian classes in 3 dimensions. */
function batches(count: number, seed: number): { X: number[][]; Y: number[] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const X: number[][] = [];
    const Y: number[] = [];
    for (let i = 0; i < 8; i++) {
      const y = rng.next() < 0.5 ? 0 : 1;
      X.push([rng.normal() + 2 * y, rng.normal() - y, rng.normal()]);
      Y.push(y);
    }
    return { X, Y };
  });
}

function learn(models: Record<string, OnlineModel>, b: { X: number[][]; Y: number[] }): void {
  for (const m of Object.values(models)) m.learnMany(b.X, b.Y);
}

/** Every finite number of two states, side by side (local keys included: they must be equal where compared). */
function numbers(s: unknown, out: number[] = [], skip: readonly string[] = []): number[] {
  if (typeof s === 'number') out.push(s);
  else if (Array.isArray(s)) for (const v of s) numbers(v, out, skip);
  else if (s !== null && typeof s === 'object') {
    for (const [k, v] of Object.entries(s))
      if (!['rng', 'optimizer', 'guard', 'augmenter', ...skip].includes(k)) numbers(v, out, skip);
  }
  return out;
}

function expectStatesClose(a: ModelState, b: ModelState, tol = 1e-9, skip: readonly string[] = []): void {
  const x = numbers(a, [], skip);
  const y = numbers(b, [], skip);
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++)
    expect(Math.abs(x[i] - y[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(y[i])));
}

/** Three replicas learning a stream's batches round-robin, syncing every `every` batches, then a final round. */
async function runGroup(log: MemorySyncLog, stream: { X: number[][]; Y: number[] }[], every: number) {
  const reps = ['a', 'b', 'c'].map(
    (id) => new Replica({ id, log: log.reader(), models: fresh(), every: { batches: every, ms: 1e12 } }),
  );
  for (let i = 0; i < stream.length; i++) {
    const r = reps[i % reps.length];
    learn(r.models, stream[i]);
    if (r.learned(stream[i].Y.length)) await r.sync();
  }
  for (const r of reps) await r.sync();
  for (const r of reps) await r.sync();
  return reps;
}

describe('Replica', () => {
  it("replicas converge on one merged model: initial + every replica's summed deltas", async () => {
    const log = new MemorySyncLog();
    const reps = await runGroup(log, batches(30, 1), 2);
    const init: Record<string, ModelState> = {};
    for (const [k, m] of Object.entries(fresh())) init[k] = m.state();
    const merged = mergedStates(init, log.records);
    for (const r of reps)
      for (const name of ['lin', 'mlp']) expectStatesClose(r.models[name].state(), merged[name]);
    expect(reps.map((r) => r.events)).toEqual([80, 80, 80]);
    expect(reps[0].groupEvents()).toBe(240);
    // Learning moved the merged model away from the initial one (the comparison above is not vacuous).
    expect(
      Math.abs(numbers(merged.lin).reduce((s, v) => s + v, 0) - numbers(init.lin).reduce((s, v) => s + v, 0)),
    ).toBeGreaterThan(1e-3);
  });

  it('is deterministic given the same sync log: full or compacted, replayed twice', async () => {
    const log = new MemorySyncLog();
    await runGroup(log, batches(24, 2), 3);
    const observe = async (compacted: boolean) => {
      const o = new Replica({ id: 'observer', log: log.reader({ compacted }), models: fresh() });
      await o.sync();
      return o.models;
    };
    const full1 = await observe(false);
    const full2 = await observe(false);
    const compact = await observe(true);
    for (const name of ['lin', 'mlp']) {
      expect(full2[name].state()).toEqual(full1[name].state());
      expectStatesClose(compact[name].state(), full1[name].state());
    }
    // The same stream and schedule give the same sync log, record for record (publication times aside).
    const again = new MemorySyncLog();
    await runGroup(again, batches(24, 2), 3);
    const strip = (rs: SyncRecord[]) => rs.map(({ publishedAt: _t, ...r }) => r);
    expect(strip(again.records)).toEqual(strip(log.records));
  });

  it('a single replica is exactly a single process (sync changes nothing)', async () => {
    const stream = batches(12, 3);
    const single = fresh();
    const r = new Replica({
      id: 'only',
      log: new MemorySyncLog().reader(),
      models: fresh(),
      every: { batches: 1, ms: 1e12 },
    });
    for (const b of stream) {
      learn(single, b);
      learn(r.models, b);
      if (r.learned(b.Y.length)) await r.sync();
    }
    for (const name of ['lin', 'mlp']) expectStatesClose(r.models[name].state(), single[name].state(), 1e-12);
  });

  it("merges a departed replica's unsynced delta once: nothing it learned is lost or doubled", async () => {
    const stream = batches(12, 4);
    const log = new MemorySyncLog();
    const mk = (id: string) =>
      new Replica({ id, log: log.reader(), models: fresh(), every: { batches: 1000, ms: 1e12 } });
    const [a, c] = [mk('a'), mk('c')];
    // Reference: c publishes everything it learned.
    const refLog = new MemorySyncLog();
    const [ra, rc] = ['a', 'c'].map(
      (id) => new Replica({ id, log: refLog.reader(), models: fresh(), every: { batches: 1000, ms: 1e12 } }),
    );
    for (let i = 0; i < 6; i++) {
      const [x, rx] = i % 2 === 0 ? [a, ra] : [c, rc];
      learn(x.models, stream[i]);
      learn(rx.models, stream[i]);
      x.learned(8);
      rx.learned(8);
    }
    for (const x of [a, c, ra, rc]) await x.sync();
    for (let i = 6; i < 10; i++) {
      learn(c.models, stream[i]);
      learn(rc.models, stream[i]);
      c.learned(8);
      rc.learned(8);
    }
    // c dies with 4 unsynced batches; its checkpoint holds them, and a adopts them once.
    const unsynced = c.syncState().unsyncedEvents;
    expect(unsynced).toBe(32);
    a.adopt(c.unsynced(), unsynced);
    await a.sync();
    await rc.sync();
    await ra.sync();
    await a.sync();
    const init: Record<string, ModelState> = {};
    for (const [k, m] of Object.entries(fresh())) init[k] = m.state();
    const merged = mergedStates(init, log.records);
    const ref = mergedStates(init, refLog.records);
    expectStatesClose(merged.lin, ref.lin);
    // Moving-average statistics mix by the weight of each publication, which adoption changes: compared apart.
    expectStatesClose(merged.mlp, ref.mlp, 1e-9, ['runningMean', 'runningVar']);
    const rm = (st: ModelState) =>
      (st as unknown as { normalizers: { runningMean: number[] }[] }).normalizers[0].runningMean;
    expectStatesClose({ kind: 'x', v: rm(merged.mlp) }, { kind: 'x', v: rm(ref.mlp) }, 0.5);
    // Events: a's own 24 + adopted 32, c's published 24: the 80 learned, none twice.
    expect(a.events + 24).toBe(80);
    // Folding the same records again changes nothing.
    const before = a.models.lin.state();
    a.fold(log.records);
    expect(a.models.lin.state()).toEqual(before);
  });

  it('staleness is the time since the last completed sync', async () => {
    let t = 1000;
    const r = new Replica({
      id: 'a',
      log: new MemorySyncLog().reader(),
      models: fresh(),
      every: { batches: 100, ms: 500 },
      now: () => t,
    });
    t = 1300;
    expect(r.stalenessMs()).toBe(300);
    expect(r.learned(8)).toBe(false);
    t = 1600;
    expect(r.learned(8)).toBe(true);
    await r.sync();
    expect(r.stalenessMs()).toBe(0);
  });
});
