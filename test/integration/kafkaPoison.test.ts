/**
 * Poison messages mixed into the stream (bad JSON, wrong shape, NaN/Infinity, oversized, binary garbage)
 * land in the dead-letter topic with their reasons, every one of them, and the model ends identical to a
 * run over the same stream without them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import type { LinearModelState } from '../../src/models/linear/index.js';
import { committedOffsets } from '../../src/streams/kafka/client.js';
import { runLivePipeline, type LiveSummary } from '../../src/streams/livePipeline.js';
import type { DeadLetterRecord } from '../../src/streams/deadLetters.js';
import { createTestModels } from './helpers/models.js';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  readTopic,
  testKafka,
  uniqueName,
  waitFor,
  type RawRecord,
} from './helpers/kafka.js';

const kafka = testKafka();
const N = 1500;

const poisons: Array<{ reason: string; make: (i: number, rng: Rng) => RawRecord }> = [
  { reason: 'bad_json', make: (i) => ({ key: `p${i}`, value: '{"id": "p", "ts": 1, "x": [1, 2' }) },
  {
    reason: 'bad_shape',
    make: (i) => ({ key: `p${i}`, value: JSON.stringify({ id: `p${i}`, ts: 1, x: [1, 2, 3], y: 1 }) }),
  },
  {
    reason: 'non_finite',
    make: (i) => ({ key: `p${i}`, value: `{"id":"p${i}","ts":1,"x":[1,1e999,0,0],"y":1}` }),
  },
  {
    reason: 'bad_json',
    make: (i) => ({ key: `p${i}`, value: `{"id":"p${i}","ts":1,"x":[1,NaN,0,0],"y":1}` }),
  },
  {
    reason: 'oversized',
    make: (i) => ({
      key: `p${i}`,
      value: JSON.stringify({ id: `p${i}`, ts: 1, x: [1, 2, 3, 4], y: 1, pad: 'z'.repeat(10_000) }),
    }),
  },
  {
    reason: 'binary',
    make: (i, rng) => ({
      key: `p${i}`,
      value: Buffer.from(Array.from({ length: 64 }, () => 128 + rng.int(128))),
    }),
  },
];

async function run(
  topic: string,
  expected: number,
  dlt?: string,
): Promise<{ summary: LiveSummary; state: LinearModelState; group: string }> {
  const group = uniqueName('g');
  const handle = await runLivePipeline({
    kafka,
    topic,
    groupId: group,
    deadLetterTopic: dlt,
    createModels: createTestModels,
    checkpoint: mkdtempSync(join(tmpdir(), 'sn-poison-')),
    rebatch: { count: 20 },
    schema: { x: { kind: 'vector', dim: 4 }, label: { classes: 2 }, maxBytes: 4096 },
    handleSignals: false,
  });
  await waitFor(() => handle.source.stats().emitted >= expected, 60_000, `${expected} messages handed over`);
  const summary = await handle.stop();
  return { summary, state: handle.models.linear.state() as LinearModelState, group };
}

describe('poison messages', () => {
  it('go to the dead-letter topic with reasons and leave the model as a clean run leaves it', async () => {
    const events = makeEvents(N, 23);
    const clean = uniqueName('clean');
    const dirty = uniqueName('dirty');
    const dlt = uniqueName('dlt');
    for (const t of [clean, dirty, dlt]) await createTopic(kafka, t);

    // Poison at seeded positions, several of each kind, none after the last event.
    const rng = new Rng(99);
    const records: RawRecord[] = [];
    const expectedReasons: string[] = [];
    for (const [i, rec] of eventRecords(events).entries()) {
      if (i > 0 && rng.next() < 0.03) {
        const p = poisons[rng.int(poisons.length)];
        records.push(p.make(records.length, rng));
        expectedReasons.push(p.reason);
      }
      records.push(rec);
    }
    for (const p of poisons) {
      records.splice(1 + rng.int(records.length - 2), 0, p.make(records.length, rng));
      expectedReasons.push(p.reason);
    }
    await produce(kafka, clean, eventRecords(events));
    await produce(kafka, dirty, records);

    const a = await run(clean, N);
    const b = await run(dirty, records.length, dlt);

    expect(b.state.params).toEqual(a.state.params);
    expect(b.state.t).toBe(a.state.t);
    expect(b.summary.scores.linear.events).toBe(N);
    expect(b.summary.messages).toBe(records.length);
    expect(b.summary.offsets).toEqual({ [`${dirty}:0`]: String(records.length) });

    const letters = await readTopic(kafka, dlt);
    expect(letters).toHaveLength(expectedReasons.length);
    const reasons = letters.map((m) => m.headers['streamnorm-reason']).sort();
    expect(reasons).toEqual([...expectedReasons].sort());
    for (const m of letters) {
      const rec = JSON.parse(m.value!.toString()) as DeadLetterRecord;
      expect(rec.reason).toBe(m.headers['streamnorm-reason']);
      expect(rec.topic).toBe(dirty);
      expect(rec.detail.length).toBeGreaterThan(0);
      expect(m.headers['streamnorm-source']).toBe(`${dirty}:0:${rec.offset}`);
    }
    // Poison never stalls the group: its committed offset is the end of the topic.
    expect((await committedOffsets(kafka, b.group, dirty)).get(0)).toBe(String(records.length));
  });
});
