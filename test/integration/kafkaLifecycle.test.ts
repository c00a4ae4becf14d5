/**
 * Live pipeline lifecycle on the real broker: a resumed Poisson run is cut exactly like an uninterrupted one,
 * a run that learned nothing shuts down without waiting for a checkpoint that never comes, and stop() is safe
 * from inside the pipeline's own callbacks.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LinearModel } from '../../src/models/linearModel.js';
import { runLivePipeline, type LivePipelineHandle } from '../../src/streams/livePipeline.js';
import { poissonSizes, type RebatchPolicy } from '../../src/streams/rebatch.js';
import type { StreamEvent } from '../../src/streams/event.js';
import { createTestModels, testModelOptions } from './helpers/models.js';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  testKafka,
  uniqueName,
  waitFor,
} from './helpers/kafka.js';

const kafka = testKafka();

function start(
  topic: string,
  groupId: string,
  dir: string,
  rebatch: RebatchPolicy,
  extra: Partial<Parameters<typeof runLivePipeline>[0]> = {},
): Promise<LivePipelineHandle> {
  return runLivePipeline({
    kafka,
    topic,
    groupId,
    createModels: createTestModels,
    checkpoint: dir,
    rebatch,
    handleSignals: false,
    ...extra,
  });
}

/** Rejects if `p` has not settled within `ms` (a hang is a failure, not a stuck test run). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Offline learning with the sizes of a seeded Poisson policy (the last batch takes what is left). */
function offlinePoisson(
  events: readonly StreamEvent[],
  mean: number,
  seed: number,
): { params: number[]; batches: number } {
  const m = new LinearModel(testModelOptions);
  const next = poissonSizes(mean, seed);
  let batches = 0;
  for (let i = 0; i < events.length;) {
    const b = events.slice(i, i + next());
    i += b.length;
    batches++;
    m.learnMany(
      b.map((e) => e.x),
      b.map((e) => e.y!),
    );
  }
  return { params: Array.from(m.state().params), batches };
}

describe('live pipeline lifecycle', () => {
  it('a Poisson run stopped gracefully and resumed ends bit-identical to an uninterrupted run', async () => {
    const mean = 6;
    const seed = 5;
    const N = 1200;
    const events = makeEvents(N, 31);
    // Stop the first run at a batch boundary (all it has is whole batches): 60 batches of the sequence.
    const sizes = poissonSizes(mean, seed);
    let firstPart = 0;
    for (let b = 0; b < 60; b++) firstPart += sizes();
    expect(firstPart).toBeLessThan(N);

    const topic = uniqueName('pois');
    const group = uniqueName('pois-g');
    await createTopic(kafka, topic);
    await produce(kafka, topic, eventRecords(events.slice(0, firstPart)));
    const dir = mkdtempSync(join(tmpdir(), 'sn-pois-'));
    const policy: RebatchPolicy = { poisson: mean, seed };

    const first = await start(topic, group, dir, policy);
    await waitFor(() => first.source.stats().emitted >= firstPart, 60_000, 'first part handed over');
    const s1 = await within(first.stop(), 60_000, 'first stop');
    expect(s1.messages).toBe(firstPart);
    expect(s1.batches).toBe(60);

    await produce(kafka, topic, eventRecords(events.slice(firstPart)));
    const second = await start(topic, group, dir, policy);
    expect(second.resumedFrom?.batches).toBe(60);
    await waitFor(() => second.source.stats().emitted >= N - firstPart, 60_000, 'rest handed over');
    const s2 = await within(second.stop(), 60_000, 'second stop');

    const ref = offlinePoisson(events, mean, seed);
    expect(s2.messages).toBe(N);
    expect(s2.batches).toBe(ref.batches);
    expect(s2.scores.linear.labeled).toBe(N);
    expect(Array.from((second.models.linear as LinearModel).state().params)).toEqual(ref.params);
  });
});
