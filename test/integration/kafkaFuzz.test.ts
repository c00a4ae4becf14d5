/**
 * Fuzz through the real broker (issue 10, "What it must show"): more than 10,000 generated messages — valid
 * events interleaved with malformed and adversarial ones (bad JSON, deep nesting, huge arrays, prototype-
 * pollution keys, invalid UTF-8, labels and indices out of range, shape changes, huge finite values, empty
 * and null values, wrong types) — go through the live pipeline with the schema `streamnorm run` builds
 * (shape, label classes, sparse dim, input bound). The consumer never stops; every valid event is predicted
 * and learned exactly once; every bad message is a dead letter with a reason; and the model equals, bit for
 * bit, a run over the valid events alone. Seeded: the same messages on every run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { LinearModel } from '../../src/models/linear/index.js';
import type { ModelState, OnlineModel } from '../../src/models/types.js';
import { MemoryDeadLetterSink } from '../../src/streams/deadLetters.js';
import type { XShape } from '../../src/streams/decodeEvents.js';
import type { StreamEvent } from '../../src/streams/event.js';
import { runLivePipeline } from '../../src/streams/livePipeline.js';
import { createProducer } from '../../src/streams/kafka/client.js';
import { createTopic, testKafka, uniqueName, waitFor, type RawRecord } from './helpers/kafka.js';

const kafka = testKafka();
const BATCH = 25;

/** One generated message: valid (an event the model must learn) or bad (a dead letter with `reason`). */
interface Case {
  record: RawRecord;
  valid: StreamEvent | null;
  /** Expected dead-letter reason (bad cases). */
  reason?: string;
}

type Maker = (i: number, rng: Rng) => Omit<Case, 'valid'> & { valid?: StreamEvent | null };

const str = (v: unknown): string => JSON.stringify(v);
const ev = (i: number, extra: Record<string, unknown>): string => str({ id: `b${i}`, ts: 1, ...extra });

/** Adversarial and malformed messages for a dense stream of 4 features and 2 classes. */
const denseBad: Array<[string, Maker]> = [
  ['bad_json', (i) => ({ record: { value: `{"id":"b${i}","ts":1,"x":[1,2` }, reason: 'bad_json' })],
  ['bad_json', () => ({ record: { value: 'not json at all' }, reason: 'bad_json' })],
  [
    'bad_json',
    (i) => ({ record: { value: `{"id":"b${i}","ts":1,"x":[1,NaN,0,0],"y":1}` }, reason: 'bad_json' }),
  ],
  ['deep nesting', () => ({ record: { value: '['.repeat(5000) + ']'.repeat(5000) }, reason: 'not_object' })],
  [
    'deep nesting in x',
    (i) => ({
      record: { value: `{"id":"b${i}","ts":1,"x":${'['.repeat(3000)}1${']'.repeat(3000)},"y":1}` },
      reason: 'bad_shape',
    }),
  ],
  [
    'huge array',
    (i) => ({ record: { value: ev(i, { x: new Array(20_000).fill(0.5), y: 1 }) }, reason: 'bad_shape' }),
  ],
  [
    'oversized',
    (i) => ({
      record: { value: ev(i, { x: [1, 2, 3, 4], y: 1, pad: 'z'.repeat(300_000) }) },
      reason: 'oversized',
    }),
  ],
  [
    '__proto__ without fields',
    () => ({
      record: { value: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}' },
      reason: 'missing_field',
    }),
  ],
  [
    '__proto__ as x',
    (i) => ({
      record: { value: `{"id":"b${i}","ts":1,"x":{"__proto__":{"indices":[0]}},"y":1}` },
      reason: 'bad_shape',
    }),
  ],
  [
    'invalid UTF-8',
    (_i, rng) => ({
      record: {
        value: Buffer.concat([
          Buffer.from('{"id":"'),
          Buffer.from([0xff, 0xfe, 0xc0 + rng.int(2)]),
          Buffer.from('","ts":1}'),
        ]),
      },
      reason: 'binary',
    }),
  ],
  ['label 7', (i) => ({ record: { value: ev(i, { x: [1, 2, 3, 4], y: 7 }) }, reason: 'bad_label' })],
  ['label -1', (i) => ({ record: { value: ev(i, { x: [1, 2, 3, 4], y: -1 }) }, reason: 'bad_label' })],
  ['label 0.5', (i) => ({ record: { value: ev(i, { x: [1, 2, 3, 4], y: 0.5 }) }, reason: 'bad_label' })],
  ['label string', (i) => ({ record: { value: ev(i, { x: [1, 2, 3, 4], y: '1' }) }, reason: 'bad_label' })],
  ['3 features', (i) => ({ record: { value: ev(i, { x: [1, 2, 3], y: 1 }) }, reason: 'bad_shape' })],
  ['5 features', (i) => ({ record: { value: ev(i, { x: [1, 2, 3, 4, 5], y: 0 }) }, reason: 'bad_shape' })],
  [
    'window',
    (i) => ({
      record: {
        value: ev(i, {
          x: [
            [1, 2],
            [3, 4],
          ],
          y: 0,
        }),
      },
      reason: 'bad_shape',
    }),
  ],
  [
    'sparse, index out of range',
    (i) => ({
      record: { value: ev(i, { x: { indices: [0, 1e6], values: [1, 1] }, y: 0 }) },
      reason: 'bad_shape',
    }),
  ],
  ['1e308', (i) => ({ record: { value: ev(i, { x: [1e308, 0, 0, 0], y: 1 }) }, reason: 'out_of_range' })],
  ['-1e308', (i) => ({ record: { value: ev(i, { x: [0, -1e308, 0, 0], y: 0 }) }, reason: 'out_of_range' })],
  ['1e10', (i) => ({ record: { value: ev(i, { x: [0, 0, 1e10, 0], y: 0 }) }, reason: 'out_of_range' })],
  [
    'Infinity',
    (i) => ({ record: { value: `{"id":"b${i}","ts":1,"x":[1,1e999,0,0],"y":1}` }, reason: 'non_finite' }),
  ],
  ['null feature', (i) => ({ record: { value: ev(i, { x: [1, null, 0, 0], y: 1 }) }, reason: 'non_finite' })],
  ['empty', () => ({ record: { value: '' }, reason: 'bad_json' })],
  ['null', () => ({ record: { value: 'null' }, reason: 'not_object' })],
  ['array', () => ({ record: { value: '[1,2,3,4]' }, reason: 'not_object' })],
  [
    'number id',
    (i) => ({ record: { value: str({ id: i, ts: 1, x: [1, 2, 3, 4], y: 1 }) }, reason: 'bad_shape' }),
  ],
  [
    'string ts',
    (i) => ({ record: { value: ev(i, { ts: 'now', x: [1, 2, 3, 4], y: 1 }) }, reason: 'bad_shape' }),
  ],
  ['missing x', (i) => ({ record: { value: ev(i, { y: 1 }) }, reason: 'missing_field' })],
  ['empty x', (i) => ({ record: { value: ev(i, { x: [], y: 1 }) }, reason: 'bad_shape' })],
];

/** A valid event, sometimes with extra keys an attacker would use (ignored, never merged into an object). */
function validEvent(k: number, rng: Rng): Case {
  const x = Array.from({ length: 4 }, () => rng.normal());
  const s = x[0] - 0.5 * x[1] + 1.5 * x[2] - 0.75 * x[3] + 0.1 * rng.normal();
  const e: StreamEvent = { id: `v${k}`, ts: 1_700_000_000_000 + k, x, y: s > 0 ? 1 : 0 };
  const value =
    k % 97 === 0
      ? `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},${str(e).slice(1)}`
      : str(e);
  return { record: { key: e.id, value }, valid: e };
}

function generate(total: number, seed: number): Case[] {
  const rng = new Rng(seed);
  const out: Case[] = [];
  let k = 0;
  for (let i = 0; i < total; i++) {
    // Runs of valid events and bursts of bad ones, about 40 % bad overall, every kind many times.
    if (rng.next() < 0.6) out.push(validEvent(k++, rng));
    else {
      const [, make] = denseBad[rng.int(denseBad.length)];
      const c = make(i, rng);
      out.push({ record: c.record, valid: null, reason: c.reason });
    }
  }
  return out;
}

/** Produces in order, in requests below the broker's 1 MB batch limit (some messages are hundreds of KB). */
async function produceSized(topic: string, records: RawRecord[]): Promise<void> {
  const producer = createProducer(kafka, { allowAutoTopicCreation: false, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    let batch: RawRecord[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length > 0) await producer.send({ topic, acks: -1, messages: batch });
      batch = [];
      bytes = 0;
    };
    for (const r of records) {
      const size = Buffer.byteLength(r.value) + 64;
      if (bytes + size > 700_000 || batch.length >= 500) await flush();
      batch.push(r);
      bytes += size;
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
}

function plainModel(): LinearModel {
  return new LinearModel({
    loss: 'logistic',
    regularizer: { l2: 1e-4 },
    optimizer: { type: 'sgd', lr: 0.05 },
    dim: 4,
  });
}

describe('fuzz through the real broker', () => {
  it('more than 10,000 valid, malformed and adversarial messages: never stops, each valid event learned once, each bad one dead-lettered, model = valid-only run', async () => {
    const TOTAL = 10_500;
    const cases = generate(TOTAL, 20261205);
    const valid = cases.flatMap((c) => (c.valid ? [c.valid] : []));
    const bad = cases.filter((c) => !c.valid);
    expect(cases.length).toBeGreaterThanOrEqual(10_000);
    expect(new Set(bad.map((c) => c.reason)).size).toBeGreaterThanOrEqual(8);

    const topic = uniqueName('fuzz');
    await createTopic(kafka, topic);
    await produceSized(
      topic,
      cases.map((c) => c.record),
    );

    const letters = new MemoryDeadLetterSink();
    const predicted = new Map<string, number>();
    let shapeStored: unknown = null;
    const handle = await runLivePipeline({
      kafka,
      topic,
      groupId: uniqueName('fuzz'),
      checkpoint: mkdtempSync(join(tmpdir(), 'sn-fuzz-')),
      createModels: (states: Readonly<Record<string, ModelState>> | null): Record<string, OnlineModel> => {
        expect(states).toBeNull();
        return { linear: plainModel() };
      },
      // The schema `streamnorm run --classes 2` builds for a stream of 4-feature vectors.
      schema: { x: { kind: 'vector', dim: 4 } as XShape, label: { classes: 2 }, maxBytes: 256 * 1024 },
      deadLetters: letters,
      rebatch: { count: BATCH },
      handleSignals: false,
      onResult: (r) => {
        for (const e of r.envelopes) predicted.set(e.event.id, (predicted.get(e.event.id) ?? 0) + 1);
      },
      onCheckpointSaved: () => {
        shapeStored ??= true;
      },
    });
    await waitFor(() => handle.source.stats().emitted >= TOTAL, 120_000, 'every message handed over');
    const summary = await handle.stop();

    // Never stopped: the run ended by stop(), with every message covered by the final checkpoint.
    expect(summary.messages).toBe(TOTAL);
    expect(summary.offsets).toEqual({ [`${topic}:0`]: String(TOTAL) });
    // Every valid event predicted exactly once, and learned exactly once.
    expect(predicted.size).toBe(valid.length);
    expect([...predicted.values()].every((n) => n === 1)).toBe(true);
    expect(summary.scores.linear.events).toBe(valid.length);
    expect(summary.scores.linear.labeled).toBe(valid.length);
    // Every bad message is a dead letter with the expected reason, at its own offset.
    const byOffset = new Map(letters.letters.map((d) => [Number(d.origin.offset), d]));
    expect(letters.letters).toHaveLength(bad.length);
    cases.forEach((c, offset) => {
      if (c.valid) return expect(byOffset.has(offset)).toBe(false);
      const d = byOffset.get(offset);
      expect(d, `offset ${offset}`).toBeDefined();
      expect(d!.detail.length).toBeGreaterThan(0);
      expect(d!.reason, `offset ${offset}: ${d!.detail}`).toBe(c.reason);
    });
    // The model equals, bit for bit, a run over the valid events alone (same count batches).
    const ref = plainModel();
    for (let i = 0; i < valid.length; i += BATCH) {
      const b = valid.slice(i, i + BATCH);
      ref.learnMany(
        b.map((e) => e.x),
        b.map((e) => e.y!),
      );
    }
    expect(handle.models.linear.state()).toEqual(ref.state());
    // No prototype was polluted along the way.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(shapeStored).toBe(true);
    console.log(
      `fuzz: ${TOTAL} messages, ${valid.length} valid, ${bad.length} dead letters of ${denseBad.length} kinds (${new Set(bad.map((c) => c.reason)).size} reasons)`,
    );
  }, 240_000);
});
