/**
 * Live pipeline lifecycle on the real broker: a resumed Poisson run is cut exactly like an uninterrupted one,
 * a run that learned nothing shuts down without waiting for a checkpoint that never comes, and stop() is safe
 * from inside the pipeline's own callbacks.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LinearModel } from '../../src/models/linear/index.js';
import { parseCheckpoint } from '../../src/streams/checkpointStore.js';
import {
  runLivePipeline,
  type LivePipelineHandle,
  type LiveSummary,
} from '../../src/streams/livePipeline.js';
import { poissonSizes, type RebatchPolicy } from '../../src/streams/rebatch.js';
import type { StreamEvent } from '../../src/streams/event.js';
import { createTestModels, offlineModelParams, testModelOptions } from './helpers/models.js';
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

  it('a run on an empty topic stops promptly, writes no checkpoint and commits nothing', async () => {
    const topic = uniqueName('empty');
    await createTopic(kafka, topic);
    const dir = mkdtempSync(join(tmpdir(), 'sn-empty-'));
    let joined = false;
    const handle = await start(
      topic,
      uniqueName('empty-g'),
      dir,
      { count: 32 },
      {
        onGroupJoin: () => (joined = true),
      },
    );
    await waitFor(() => joined, 60_000, 'group join');
    const summary: LiveSummary = await within(handle.stop(), 30_000, 'stop on an empty topic');
    await within(handle.done, 1000, 'done after stop');
    expect(summary.messages).toBe(0);
    expect(summary.checkpoints).toBe(0);
    expect(summary.source.commits).toBe(0);
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false);
  });

  it('a resumed run with nothing new, or stopped before it joined, stops promptly and leaves the checkpoint as it was', async () => {
    const topic = uniqueName('idle');
    const group = uniqueName('idle-g');
    await createTopic(kafka, topic);
    const events = makeEvents(100, 43);
    await produce(kafka, topic, eventRecords(events));
    const dir = mkdtempSync(join(tmpdir(), 'sn-idle-'));
    const first = await start(topic, group, dir, { count: 32 });
    await waitFor(() => first.source.stats().emitted >= events.length, 60_000, 'all handed over');
    const s1 = await within(first.stop(), 30_000, 'first stop');
    expect(s1.messages).toBe(events.length);
    const saved = readFileSync(join(dir, 'checkpoint.json'));

    // Resumed, joined, nothing to learn.
    let joined = false;
    const idle = await start(topic, group, dir, { count: 32 }, { onGroupJoin: () => (joined = true) });
    await waitFor(() => joined, 60_000, 'group join');
    const s2 = await within(idle.stop(), 30_000, 'stop of an idle resumed run');
    expect(s2.messages).toBe(events.length);
    expect(s2.checkpoints).toBe(0);
    // Stopped right away, before joining the group.
    const early = await start(topic, group, dir, { count: 32 });
    const s3 = await within(early.stop(), 30_000, 'stop before the group join');
    expect(s3.messages).toBe(events.length);
    expect(readFileSync(join(dir, 'checkpoint.json')).equals(saved)).toBe(true);
  });

  it('stop() called synchronously inside onResult ends gracefully with everything learned checkpointed', async () => {
    const topic = uniqueName('stopcb');
    await createTopic(kafka, topic);
    const events = makeEvents(2000, 41);
    await produce(kafka, topic, eventRecords(events));
    const dir = mkdtempSync(join(tmpdir(), 'sn-stopcb-'));
    let handle: LivePipelineHandle | null = null;
    let stopped: Promise<LiveSummary> | null = null;
    let learnedBatches = 0;
    handle = await start(
      topic,
      uniqueName('stopcb-g'),
      dir,
      { count: 32 },
      {
        onResult: (r) => {
          learnedBatches = r.batch + 1;
          if (r.batch === 5 && handle) stopped = handle.stop();
        },
      },
    );
    await waitFor(() => stopped !== null, 60_000, 'the sixth batch');
    const summary = await within(stopped!, 60_000, 'stop from onResult');
    // Whatever was learned, including batches learned after stop() was called, is in the final checkpoint.
    expect(summary.batches).toBe(learnedBatches);
    expect(summary.batches).toBeGreaterThanOrEqual(6);
    const cp = parseCheckpoint(readFileSync(join(dir, 'checkpoint.json')));
    expect(cp.batches).toBe(summary.batches);
    expect(cp.offsets).toEqual({ [`${topic}:0`]: String(summary.messages) });
    const params = Array.from((handle.models.linear as LinearModel).state().params);
    expect((cp.models.linear as unknown as { params: number[] }).params).toEqual(params);
    expect(params).toEqual(offlineModelParams(events.slice(0, summary.messages), 32));
  });
});
