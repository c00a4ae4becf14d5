/**
 * Record a topic to a file, replay the recording into another topic and straight into the models:
 * the model states are identical both ways (and equal to consuming the original topic), and identical
 * across two runs (two recordings of the topic are the same bytes, two replays the same states).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { RawMessage } from '../../src/streams/event.js';
import { fromKafka } from '../../src/streams/fromKafka.js';
import { silentLogger } from '../../src/streams/kafka/client.js';
import { fromRecording } from '../../src/streams/fromRecording.js';
import { runLivePipeline } from '../../src/streams/livePipeline.js';
import { replayIntoModels } from '../../src/streams/replay.js';
import { toKafka } from '../../src/streams/toKafka.js';
import { toRecording } from '../../src/streams/toRecording.js';
import { createTestModels } from './helpers/models.js';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  testKafka,
  uniqueName,
  waitFor,
  type RawRecord,
} from './helpers/kafka.js';

const kafka = testKafka();
const schema = { x: { kind: 'vector' as const, dim: 4 }, label: { classes: 2 }, maxBytes: 4096 };
const BATCH = { count: 16 };

/** Records every message of a topic (as it is now) to `path` through fromKafka → toRecording. */
async function recordTopic(topic: string, expected: number, path: string): Promise<void> {
  const source = fromKafka({ kafka, topic, groupId: uniqueName('rec'), logger: silentLogger });
  let seen = 0;
  const done = lastValueFrom(
    source.pipe(
      toRecording(path),
      tap((m: RawMessage) => {
        source.ack(m.origin);
        if (++seen === expected) source.drain();
      }),
    ),
    { defaultValue: null },
  );
  await done;
  await source.close();
}

/** Writes a recording's messages into a topic, in order, keys and values as recorded. */
async function replayIntoTopic(path: string, topic: string): Promise<number> {
  let n = 0;
  await lastValueFrom(
    fromRecording(path).pipe(
      toKafka<RawMessage>({
        kafka,
        topic,
        messages: (m) => {
          n++;
          const v = m.value;
          const value = Buffer.isBuffer(v) ? v : typeof v === 'string' ? v : JSON.stringify(v);
          return [{ key: m.key ?? '', value }];
        },
      }),
    ),
    { defaultValue: null },
  );
  return n;
}

async function learnLive(
  topic: string,
  expected: number,
): Promise<{ params: number[]; messages: number; events: number }> {
  const handle = await runLivePipeline({
    kafka,
    logger: silentLogger,
    topic,
    groupId: uniqueName('live'),
    createModels: createTestModels,
    checkpoint: mkdtempSync(join(tmpdir(), 'sn-rec-')),
    rebatch: BATCH,
    schema,
    handleSignals: false,
  });
  await waitFor(
    () => handle.source.stats().emitted >= expected,
    60_000,
    `${expected} messages from ${topic}`,
  );
  const s = await handle.stop();
  return {
    params: (handle.models.linear.state() as unknown as { params: number[] }).params,
    messages: s.messages,
    events: s.scores.linear.events,
  };
}

async function learnFromRecording(
  path: string,
): Promise<{ params: number[]; messages: number; events: number }> {
  const r = await replayIntoModels({
    recording: path,
    models: createTestModels(null),
    policy: BATCH,
    schema,
  });
  return {
    params: (r.states.linear as unknown as { params: number[] }).params,
    messages: r.messages,
    events: r.events,
  };
}

describe('record and replay', () => {
  it('gives identical models from the topic, the replayed topic and the recording, run after run', async () => {
    const events = makeEvents(800, 31);
    const records: RawRecord[] = eventRecords(events);
    // A little poison too: it must be recorded, replayed and dead-lettered the same way everywhere.
    records.splice(100, 0, { key: 'bad', value: '{not json' });
    records.splice(400, 0, { key: 'bin', value: Buffer.from([0xff, 0xfe, 0x00, 0x80]) });
    const source = uniqueName('src');
    await createTopic(kafka, source);
    await produce(kafka, source, records);
    const dir = mkdtempSync(join(tmpdir(), 'sn-recording-'));

    const rec1 = join(dir, 'one.jsonl');
    const rec2 = join(dir, 'two.jsonl');
    await recordTopic(source, records.length, rec1);
    await recordTopic(source, records.length, rec2);
    expect(readFileSync(rec1).equals(readFileSync(rec2))).toBe(true);
    expect(readFileSync(rec1, 'utf8').trimEnd().split('\n')).toHaveLength(records.length);

    const replayed1 = uniqueName('replayed');
    const replayed2 = uniqueName('replayed');
    await createTopic(kafka, replayed1);
    await createTopic(kafka, replayed2);
    expect(await replayIntoTopic(rec1, replayed1)).toBe(records.length);
    expect(await replayIntoTopic(rec1, replayed2)).toBe(records.length);

    const direct = await learnLive(source, records.length);
    const viaTopic1 = await learnLive(replayed1, records.length);
    const viaTopic2 = await learnLive(replayed2, records.length);
    const viaFile1 = await learnFromRecording(rec1);
    const viaFile2 = await learnFromRecording(rec2);

    for (const r of [direct, viaTopic1, viaTopic2, viaFile1, viaFile2]) {
      expect(r.messages).toBe(records.length);
      expect(r.events).toBe(events.length);
    }
    expect(viaTopic1.params).toEqual(direct.params);
    expect(viaTopic2.params).toEqual(viaTopic1.params);
    expect(viaFile1.params).toEqual(direct.params);
    expect(viaFile2.params).toEqual(viaFile1.params);
  });
});
