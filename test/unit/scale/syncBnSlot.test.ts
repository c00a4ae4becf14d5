/**
 * The learner's blocking rendezvous with the worker thread (src/scale/syncBnSlot.ts), with a real worker: an answer
 * in time wakes the learner with it; one after the learner's time is up is refused by the slot (the learner falls
 * back) and never lands in the next request's place; a fallback answer is one.
 */
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModuleWorker } from '../../../src/core/moduleWorker.js';
import { blockingCall, slotBuffer, slotViews } from '../../../src/scale/syncBnSlot.js';

const sab = slotBuffer();
const views = slotViews(sab);
let worker: Worker;
const written = new Map<number, boolean>();

beforeAll(async () => {
  worker = startModuleWorker(new URL('./fixtures/slotAnswerer.ts', import.meta.url), sab);
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { ready?: boolean; id?: number; written?: boolean }) => {
      if (m.ready === true) resolve();
      else written.set(m.id!, m.written!);
    });
    worker.once('error', reject);
  });
}, 60_000);

afterAll(async () => {
  await worker.terminate();
});

async function answered(id: number): Promise<boolean> {
  for (let i = 0; i < 200 && !written.has(id); i++) await new Promise((r) => setTimeout(r, 10));
  if (!written.has(id)) throw new Error(`request ${id}: the worker never replied`);
  return written.get(id)!;
}

describe('blockingCall', () => {
  it('blocks until the worker answers, and returns its answer', async () => {
    const part = Float64Array.from([1, 2, 3]);
    const a = blockingCall(views, 1, () => worker.postMessage({ id: 1, delayMs: 30, part }), 2000);
    expect(a.outcome).toBe('pooled');
    expect([...a.pooled!]).toEqual([2, 4, 6]);
    expect(a.waitedMs).toBeGreaterThanOrEqual(25);
    expect(a.waitedMs).toBeLessThan(1500);
    expect(await answered(1)).toBe(true);
  });

  it('falls back at its timeout; the late answer is refused and does not reach the next request', async () => {
    const t0 = performance.now();
    const late = blockingCall(
      views,
      2,
      () => worker.postMessage({ id: 2, delayMs: 300, part: Float64Array.from([9]) }),
      50,
    );
    expect(late).toMatchObject({ outcome: 'fallback', pooled: null });
    expect(performance.now() - t0).toBeLessThan(250);
    expect(await answered(2)).toBe(false);
    const next = blockingCall(
      views,
      3,
      () => worker.postMessage({ id: 3, delayMs: 0, part: Float64Array.from([5, 7]) }),
      2000,
    );
    expect([...next.pooled!]).toEqual([10, 14]);
  });

  it("returns the worker's fallback answer as a fallback", () => {
    const a = blockingCall(
      views,
      4,
      () => worker.postMessage({ id: 4, delayMs: 0, part: Float64Array.from([1]), fallback: true }),
      2000,
    );
    expect(a).toMatchObject({ outcome: 'fallback', pooled: null });
  });
});
