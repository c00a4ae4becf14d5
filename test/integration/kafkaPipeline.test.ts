/**
 * End to end on the real broker: events produced into a topic come out as predictions on the output
 * topic, every event is learned exactly once (the model equals an offline run over the same batches,
 * bit for bit), and the group's committed offsets are at the end of the topic.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinearModel } from '../../src/models/linear/index.js';
import { committedOffsets, endOffsets } from '../../src/streams/kafka/client.js';
import { runLivePipeline, type PredictionRecord } from '../../src/streams/livePipeline.js';
import { createTestModels, testModelOptions } from './helpers/models.js';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  readTopic,
  testKafka,
  uniqueName,
  waitFor,
} from './helpers/kafka.js';

const kafka = testKafka();

/** The same learning offline: count batches of `size`, one learnMany per batch. */
export function offlineModel(events: ReturnType<typeof makeEvents>, size: number): LinearModel {
  const m = new LinearModel(testModelOptions);
  for (let i = 0; i < events.length; i += size) {
    const b = events.slice(i, i + size);
    m.learnMany(
      b.map((e) => e.x),
      b.map((e) => e.y!),
    );
  }
  return m;
}

describe('live pipeline on a real broker', () => {
  const dirs: string[] = [];
  afterAll(() => undefined);

  it('publishes a prediction for every event, learns each once, and commits offsets at the end of the topic', async () => {
    const input = uniqueName('in');
    const output = uniqueName('out');
    const group = uniqueName('g');
    await createTopic(kafka, input);
    await createTopic(kafka, output);
    const events = makeEvents(2000, 7);
    await produce(kafka, input, eventRecords(events));

    const dir = mkdtempSync(join(tmpdir(), 'sn-e2e-'));
    dirs.push(dir);
    const handle = await runLivePipeline({
      kafka,
      topic: input,
      groupId: group,
      outputTopic: output,
      createModels: createTestModels,
      checkpoint: dir,
      rebatch: { count: 32 },
      handleSignals: false,
    });
    await waitFor(
      () => handle.source.stats().emitted >= events.length,
      60_000,
      'all events handed to the pipeline',
    );
    const summary = await handle.stop();

    // Every event learned once: the final checkpoint covers them all and the model equals the offline run.
    expect(summary.messages).toBe(events.length);
    expect(summary.offsets).toEqual({ [`${input}:0`]: String(events.length) });
    expect(summary.scores.linear.labeled).toBe(events.length);
    const learned = handle.models.linear as LinearModel;
    expect(Array.from(learned.state().params)).toEqual(Array.from(offlineModel(events, 32).state().params));

    // Committed offsets at the end of the topic.
    const ends = await endOffsets(kafka, input);
    const committed = await committedOffsets(kafka, group, input);
    expect(committed.get(0)).toBe(ends.get(0));
    expect(ends.get(0)).toBe(String(events.length));

    // A prediction for every event, keyed by the event id.
    const preds = await readTopic(kafka, output);
    const ids = new Set(preds.map((m) => m.key));
    expect(ids).toEqual(new Set(events.map((e) => e.id)));
    const first = JSON.parse(preds[0].value!.toString()) as PredictionRecord;
    expect(first.id).toBe(preds[0].key);
    expect(first.predictions.linear.proba).toHaveLength(2);
    expect(first.topic).toBe(input);
  });
});
