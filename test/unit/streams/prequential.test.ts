import { describe, expect, it } from 'vitest';
import { firstValueFrom, from, toArray } from 'rxjs';
import { ConfigError } from '../../../src/errors.js';
import { LinearModel, type LinearModelState } from '../../../src/models/linear/index.js';
import type { OnlineModel } from '../../../src/models/types.js';
import type { Decoded } from '../../../src/streams/decodeEvents.js';
import type { DeadLetter } from '../../../src/streams/event.js';
import { LOG_LOSS_EPS, prequential, type PrequentialResult } from '../../../src/streams/prequential.js';
import { SpyLinearModel, envelope as env, eventJson, logistic } from './helpers.js';

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

const clone = (m: LinearModel): LinearModel => LinearModel.fromState(m.state() as LinearModelState);
const regressor = (lr = 0.5) => new SpyLinearModel({ loss: 'squared', optimizer: { type: 'sgd', lr } });

describe('prequential', () => {
  it('predicts every event of a batch before learning any of it', async () => {
    const model = regressor();
    const batch = [
      env({ id: 'a', ts: 0, x: [1, 2], y: 10 }, 0),
      env({ id: 'b', ts: 0, x: [2, -1], y: 20 }, 1),
    ];
    const before = clone(model);
    const [r] = await run([batch], model);
    const predicted = r.variants[0].predictions.map((p) => p.predicted);
    expect(predicted).toEqual(batch.map((e) => before.predictOne(e.event.x)));
    // Learning the batch moved the model, so a predict-after-learn loop would have given other numbers.
    const after = batch.map((e) => model.predictOne(e.event.x));
    after.forEach((v, j) => expect(Math.abs(v - predicted[j])).toBeGreaterThan(1));
    expect(r.variants[0].predictions.map((p) => p.loss)).toEqual(
      batch.map((e, j) => (e.event.y! - predicted[j]) ** 2),
    );
    expect(Number.isNaN(r.variants[0].error)).toBe(true);
    expect(r.variants[0].task).toBe('regression');
  });

  it('classifier: log loss of the pre-learning probability, 0/1 error, one learnMany per batch', async () => {
    const model = logistic(0.5);
    model.learnMany([eventJson(100).x, eventJson(101).x], [1, 0]); // leave the all-0.5 start
    model.learnCalls = [];
    const events = [0, 1, 2, 3].map((i) => eventJson(i));
    const before = events.map((e) => model.predictProbaOne(e.x));
    const [r] = await run([events.map((e, i) => env(e, i))], model);
    const v = r.variants[0];
    expect(model.learnCalls).toEqual([{ method: 'many', y: events.map((e) => e.y) }]);
    v.predictions.forEach((p, j) => {
      expect(p.proba).toEqual(before[j]);
      expect(p.loss).toBeCloseTo(-Math.log(before[j][events[j].y!]), 12);
      expect(p.predicted).toBe(before[j][1] > before[j][0] ? 1 : 0);
      expect(p.error).toBe(p.predicted === events[j].y ? 0 : 1);
    });
    expect(v.running.events).toBe(4);
    expect(v.running.labeled).toBe(4);
    expect(v.running.loss).toBeCloseTo(v.loss, 12);
    expect(v.task).toBe('classification');
  });

  it("learn: 'one' makes one learnOne per labeled event, after predicting the whole batch", async () => {
    const model = logistic();
    const events = [0, 1, 2].map((i) => eventJson(i));
    const before = events.map((e) => model.predictProbaOne(e.x));
    const [r] = await run([events.map((e, i) => env(e, i))], model, { learn: 'one' });
    expect(model.learnCalls).toEqual(events.map((e) => ({ method: 'one', y: [e.y] })));
    expect(r.variants[0].predictions.map((p) => p.proba)).toEqual(before);
  });

  it('clips log loss at 1e-15', async () => {
    const model = logistic(1000);
    for (let i = 0; i < 5; i++) model.learnOne([1], 1);
    expect(model.predictProbaOne([1])[0]).toBeLessThan(LOG_LOSS_EPS);
    const [r] = await run([[env({ id: 'a', ts: 0, x: [1], y: 0 }, 0)]], model);
    expect(r.variants[0].loss).toBeCloseTo(-Math.log(LOG_LOSS_EPS), 9);
  });

  it('predicts unlabeled events without learning them, and never shows dead letters to the model', async () => {
    const model = logistic();
    const unlabeled = eventJson(1, 3, false);
    const [r] = await run([[env(eventJson(0), 0), dead(1), env(unlabeled, 2), dead(3, 1)]], model);
    expect(model.learnCalls).toEqual([{ method: 'many', y: [eventJson(0).y] }]);
    expect(r.variants[0].predictions.map((p) => p.id)).toEqual(['e0', 'e1']);
    expect(r.variants[0].predictions[1].loss).toBeUndefined();
    expect(r.variants[0].labeled).toBe(1);
    expect(r.variants[0].running.events).toBe(2);
    expect(r.deadLetters.length).toBe(2);
    expect(r.messages).toBe(4);
    expect(r.offsets).toEqual({ 't:0': '3', 't:1': '4' });
  });

  it('a batch of dead letters only moves offsets', async () => {
    const model = logistic();
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
    const [r] = await run([[big('9007199254740993'), big('999')]], logistic());
    expect(r.offsets).toEqual({ 't:0': '9007199254740994' });
  });

  it('keeps cumulative and faded running scores across batches', async () => {
    const ys = [1, 3, 2, 8, 4];
    const results = await run(
      ys.map((y, i) => [env({ id: `${i}`, ts: 0, x: [1], y }, i)]),
      regressor(0.1),
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
    const first = await run([[env({ id: 'a', ts: 0, x: [1], y: 2 }, 0)]], regressor());
    const scores = { default: first[0].variants[0].running };
    const [r] = await run([[env({ id: 'b', ts: 0, x: [1], y: 2 }, 1)]], regressor(), {
      resume: { scores, batches: 1 },
    });
    expect(r.batch).toBe(1);
    expect(r.variants[0].running.events).toBe(2);
    expect(r.variants[0].running.lossSum).toBe(8);
  });

  it('runs several variants on identical batches, labeled by name, in the order given', async () => {
    const a = logistic(0.1);
    const b = logistic(1.0);
    const batches = [0, 1, 2].map((k) => [0, 1, 2, 3].map((i) => env(eventJson(4 * k + i), 4 * k + i)));
    const results = await run(batches, { slow: a, fast: b });
    expect(results.map((r) => r.variants.map((v) => v.variant))).toEqual([
      ['slow', 'fast'],
      ['slow', 'fast'],
      ['slow', 'fast'],
    ]);
    expect(a.learnCalls).toEqual(b.learnCalls);
    expect(Array.from(a.weights)).not.toEqual(Array.from(b.weights));
    expect(Object.keys(results[0].models)).toEqual(['slow', 'fast']);
  });

  it('an event a model throws on is a dead letter (model_error) and the rest of its batch is learned as without it', async () => {
    const letters: DeadLetter[] = [];
    const good = [
      env({ id: 'a', ts: 0, x: [1], y: 1 }, 0),
      env({ id: 'b', ts: 0, x: [-1], y: 0 }, 2),
      env({ id: 'c', ts: 0, x: [2], y: 1 }, 3),
    ];
    const bad = env({ id: 'z', ts: 0, x: [1], y: 3 }, 1); // label 3 on a binary model
    const m = logistic();
    const ref = logistic();
    const [r] = await run([[good[0], bad, good[1], good[2]]], m, {
      onDeadLetter: (d: DeadLetter) => letters.push(d),
    });
    const [want] = await run([good], ref);
    expect(r.envelopes.map((e) => e.event.id)).toEqual(['a', 'b', 'c']);
    expect(r.deadLetters).toHaveLength(1);
    expect(r.deadLetters[0]).toMatchObject({ reason: 'model_error', origin: { offset: '1' } });
    expect(r.deadLetters[0].detail).toMatch(/variant "default": .*label 3/);
    expect(letters).toEqual(r.deadLetters);
    // Offsets and message count still cover the dead letter.
    expect(r.messages).toBe(4);
    expect(r.offsets).toEqual({ 't:0': '4' });
    expect(m.state()).toEqual(ref.state());
    expect(r.variants[0].running).toEqual(want.variants[0].running);
  });

  it('a model whose learning throws on one event: the batch is retried event by event, the culprit dead-lettered', async () => {
    const m = logistic();
    const learnMany = m.learnMany.bind(m);
    m.learnMany = (X, Y) => {
      if (X.some((x) => (x as number[])[0] === 99)) throw new Error('model broke');
      learnMany(X, Y);
    };
    const letters: DeadLetter[] = [];
    const batch = [
      env({ id: 'a', ts: 0, x: [1], y: 1 }, 0),
      env({ id: 'z', ts: 0, x: [99], y: 1 }, 1),
      env({ id: 'b', ts: 0, x: [-1], y: 0 }, 2),
    ];
    const out = await run([batch, [env({ id: 'c', ts: 0, x: [2], y: 1 }, 3)]], m, {
      onDeadLetter: (d: DeadLetter) => letters.push(d),
    });
    expect(out).toHaveLength(2);
    expect(letters.map((d) => [d.reason, d.origin.offset, d.detail])).toEqual([
      ['model_error', '1', 'variant "default": model broke'],
    ]);
    // Predicted and scored, not learned; the others were learned one by one, and the stream went on.
    expect(out[0].variants[0].labeled).toBe(3);
    const ref = logistic();
    ref.learnMany([[1]], [1]);
    ref.learnMany([[-1]], [0]);
    ref.learnMany([[2]], [1]);
    expect(m.state()).toEqual(ref.state());
  });

  it('an error no single event causes still errors the stream', async () => {
    const m = logistic();
    const predict = m.predictProbaMany.bind(m);
    m.predictProbaMany = (X) => {
      if (X.length > 1) throw new Error('batch-only failure');
      return predict(X);
    };
    const batch = [env({ id: 'a', ts: 0, x: [1], y: 1 }, 0), env({ id: 'b', ts: 0, x: [2], y: 1 }, 1)];
    await expect(run([batch], m)).rejects.toThrow('batch-only failure');
  });

  it('rejects bad options at construction', () => {
    expect(() => prequential({})).toThrow(ConfigError);
    expect(() => prequential(logistic(), { fading: 0 })).toThrow(/fading must be in \(0, 1\], got 0/);
    expect(() => prequential({ 'bad name': logistic() })).toThrow(/variant name/);
    expect(() => prequential({ x: {} as OnlineModel })).toThrow(/not an OnlineModel/);
  });
});
