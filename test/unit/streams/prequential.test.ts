import { describe, expect, it } from 'vitest';
import { firstValueFrom, from, toArray } from 'rxjs';
import { ConfigError, ModelError } from '../../../src/errors.js';
import type { Features, ModelState, OnlineModel, WeightStats } from '../../../src/models/types.js';
import type { Decoded } from '../../../src/streams/decodeEvents.js';
import type { DeadLetter, Envelope, StreamEvent } from '../../../src/streams/event.js';
import { LOG_LOSS_EPS, prequential, type PrequentialResult } from '../../../src/streams/prequential.js';
import { TinyLogistic, eventJson } from './helpers.js';

function env(ev: StreamEvent, offset: number, partition = 0): Envelope {
  return {
    event: ev,
    origin: { topic: 't', partition, offset: String(offset), timestamp: ev.ts },
    receivedAt: 0,
  };
}
function dead(offset: number, partition = 0): DeadLetter {
  return {
    origin: { topic: 't', partition, offset: String(offset), timestamp: 0 },
    key: null,
    reason: 'bad_json',
    detail: 'x',
    raw: '{',
  };
}

async function run(
  batches: Decoded[][],
  model: Parameters<typeof prequential>[0],
  opts = {},
): Promise<PrequentialResult[]> {
  return firstValueFrom(from(batches).pipe(prequential(model, opts), toArray()));
}

/** A regressor that predicts the mean of the labels it has learned (0 before any). */
class MeanRegressor implements OnlineModel {
  readonly kind = 'mean';
  readonly task = 'regression' as const;
  readonly classes = 1;
  readonly rejectedUpdates = 0;
  sum = 0;
  n = 0;
  learnOne(_x: Features, y: number): void {
    this.sum += y;
    this.n++;
  }
  learnMany(X: Features[], Y: number[]): void {
    Y.forEach((y) => this.learnOne(X[0], y));
  }
  predictOne(): number {
    return this.n ? this.sum / this.n : 0;
  }
  predictMany(X: Features[]): number[] {
    return X.map(() => this.predictOne());
  }
  weightStats(): WeightStats {
    return { l1: 0, l2: 0, sparsity: 0, count: 0 };
  }
  state(): ModelState {
    return { kind: 'mean', sum: this.sum, n: this.n };
  }
}

describe('prequential', () => {
  it('predicts every event of a batch before learning any of it', async () => {
    // A model whose prediction for the event flips once it has learned it.
    const model = new MeanRegressor();
    const [r] = await run(
      [[env({ id: 'a', ts: 0, x: [0], y: 10 }, 0), env({ id: 'b', ts: 0, x: [0], y: 20 }, 1)]],
      model,
    );
    expect(r.variants[0].predictions.map((p) => p.predicted)).toEqual([0, 0]);
    expect(r.variants[0].predictions.map((p) => p.loss)).toEqual([100, 400]);
    expect(r.variants[0].loss).toBe(250);
    expect(Number.isNaN(r.variants[0].error)).toBe(true);
    expect(model.predictOne()).toBe(15);
    const [r2] = await run([[env({ id: 'c', ts: 0, x: [0], y: 15 }, 2)]], model);
    expect(r2.variants[0].predictions[0]).toMatchObject({ id: 'c', predicted: 15, y: 15, loss: 0 });
  });

  it('classifier: log loss of the pre-learning probability, 0/1 error, one learnMany per batch', async () => {
    const model = new TinyLogistic(3);
    const events = [0, 1, 2, 3].map((i) => eventJson(i));
    const before = events.map((e) => model.predictProbaOne(e.x));
    const [r] = await run([events.map((e, i) => env(e, i))], model);
    const v = r.variants[0];
    expect(model.learnCalls).toEqual([events.map((e) => e.y)]);
    v.predictions.forEach((p, j) => {
      expect(p.proba).toEqual(before[j]);
      expect(p.loss).toBeCloseTo(-Math.log(before[j][events[j].y!]), 12);
      expect(p.error).toBe(p.predicted === events[j].y ? 0 : 1);
    });
    expect(v.running.events).toBe(4);
    expect(v.running.labeled).toBe(4);
    expect(v.running.loss).toBeCloseTo(v.loss, 12);
    expect(v.task).toBe('classification');
  });

  it("learn: 'one' makes one learnOne per labeled event, after predicting the whole batch", async () => {
    const model = new TinyLogistic(3);
    const events = [0, 1, 2].map((i) => eventJson(i));
    const before = events.map((e) => model.predictProbaOne(e.x));
    const [r] = await run([events.map((e, i) => env(e, i))], model, { learn: 'one' });
    expect(model.learnCalls).toEqual(events.map((e) => [e.y]));
    expect(r.variants[0].predictions.map((p) => p.proba)).toEqual(before);
  });

  it('clips log loss at 1e-15', async () => {
    const model = new TinyLogistic(1);
    model.w = [1000];
    const [r] = await run([[env({ id: 'a', ts: 0, x: [1], y: 0 }, 0)]], model);
    expect(r.variants[0].loss).toBeCloseTo(-Math.log(LOG_LOSS_EPS), 9);
  });

  it('predicts unlabeled events without learning them, and never shows dead letters to the model', async () => {
    const model = new TinyLogistic(3);
    const unlabeled = eventJson(1, 3, false);
    const [r] = await run([[env(eventJson(0), 0), dead(1), env(unlabeled, 2), dead(3, 1)]], model);
    expect(model.learnCalls).toEqual([[eventJson(0).y]]);
    expect(r.variants[0].predictions.map((p) => p.id)).toEqual(['e0', 'e1']);
    expect(r.variants[0].predictions[1].loss).toBeUndefined();
    expect(r.variants[0].labeled).toBe(1);
    expect(r.variants[0].running.events).toBe(2);
    expect(r.deadLetters.length).toBe(2);
    expect(r.messages).toBe(4);
    expect(r.offsets).toEqual({ 't:0': '3', 't:1': '4' });
  });

  it('a batch of dead letters only moves offsets', async () => {
    const model = new TinyLogistic(3);
    const [r] = await run([[dead(41)]], model);
    expect(model.learnCalls).toEqual([]);
    expect(r.variants[0].labeled).toBe(0);
    expect(Number.isNaN(r.variants[0].loss)).toBe(true);
    expect(r.offsets).toEqual({ 't:0': '42' });
  });

  it('compares offsets numerically, beyond 2^53', async () => {
    const big = (o: string): DeadLetter => ({
      ...dead(0),
      origin: { topic: 't', partition: 0, offset: o, timestamp: 0 },
    });
    const [r] = await run([[big('9007199254740993'), big('999')]], new TinyLogistic(1));
    expect(r.offsets).toEqual({ 't:0': '9007199254740994' });
  });

  it('keeps cumulative and faded running scores across batches', async () => {
    const model = new MeanRegressor();
    const ys = [1, 3, 2, 8, 4];
    const results = await run(
      ys.map((y, i) => [env({ id: `${i}`, ts: 0, x: [0], y }, i)]),
      model,
      { fading: 0.5 },
    );
    const losses = results.map((r) => r.variants[0].loss);
    const last = results.at(-1)!.variants[0].running;
    expect(last.loss).toBeCloseTo(losses.reduce((a, b) => a + b) / ys.length, 12);
    let s = 0;
    let n = 0;
    for (const l of losses) {
      s = l + 0.5 * s;
      n = 1 + 0.5 * n;
    }
    expect(last.fadedLoss).toBeCloseTo(s / n, 12);
    expect(results.map((r) => r.batch)).toEqual([0, 1, 2, 3, 4]);
  });

  it('resumes scores and batch numbers from a checkpoint', async () => {
    const first = await run([[env({ id: 'a', ts: 0, x: [0], y: 2 }, 0)]], new MeanRegressor());
    const scores = { default: first[0].variants[0].running };
    const [r] = await run([[env({ id: 'b', ts: 0, x: [0], y: 2 }, 1)]], new MeanRegressor(), {
      resume: { scores, batches: 1 },
    });
    expect(r.batch).toBe(1);
    expect(r.variants[0].running.events).toBe(2);
    expect(r.variants[0].running.lossSum).toBe(8);
  });

  it('runs several variants on identical batches, labeled by name, in the order given', async () => {
    const a = new TinyLogistic(3, 0.1);
    const b = new TinyLogistic(3, 1.0);
    const batches = [0, 1, 2].map((k) => [0, 1, 2, 3].map((i) => env(eventJson(4 * k + i), 4 * k + i)));
    const results = await run(batches, { slow: a, fast: b });
    expect(results.map((r) => r.variants.map((v) => v.variant))).toEqual([
      ['slow', 'fast'],
      ['slow', 'fast'],
      ['slow', 'fast'],
    ]);
    expect(a.learnCalls).toEqual(b.learnCalls);
    expect(a.w).not.toEqual(b.w);
    expect(Object.keys(results[0].models)).toEqual(['slow', 'fast']);
  });

  it('a label outside the classes errors the stream with a ModelError', async () => {
    await expect(
      run([[env({ id: 'a', ts: 0, x: [1], y: 3 }, 0)]], new TinyLogistic(1)),
    ).rejects.toBeInstanceOf(ModelError);
  });

  it('a throwing model errors the stream', async () => {
    const m = new TinyLogistic(1);
    m.learnMany = () => {
      throw new Error('model broke');
    };
    await expect(run([[env({ id: 'a', ts: 0, x: [1], y: 1 }, 0)]], m)).rejects.toThrow('model broke');
  });

  it('rejects bad options at construction', () => {
    expect(() => prequential({})).toThrow(ConfigError);
    expect(() => prequential(new TinyLogistic(1), { fading: 0 })).toThrow(
      /fading must be in \(0, 1\], got 0/,
    );
    expect(() => prequential({ 'bad name': new TinyLogistic(1) })).toThrow(/variant name/);
    expect(() => prequential({ x: {} as OnlineModel })).toThrow(/not an OnlineModel/);
  });
});
