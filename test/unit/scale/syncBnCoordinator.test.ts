/**
 * The coordination of `run --sync-bn` over an in-memory log (one ordered stream every replica reads, as the
 * one-partition topic is): step numbering, pooling in roster order, shadow steps of an idle replica, goodbye,
 * timeout fallback and roster changes at a new generation. Timers are vitest's fake ones.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { poolGradientSums, poolMoments } from '../../../src/normalizers/statisticsReducer.js';
import {
  SyncBnCoordinator,
  type SyncBnMessage,
  type SyncBnOutcome,
} from '../../../src/scale/syncBnCoordinator.js';

/** The log: messages are delivered to every replica in one order, asynchronously (a macrotask later). */
class Log {
  readonly members = new Map<string, SyncBnCoordinator>();
  readonly sent: SyncBnMessage[] = [];
  shadows = 0;

  add(id: string, o: { timeoutMs?: number; idleMs?: number } = {}): SyncBnCoordinator {
    const c = new SyncBnCoordinator({
      transport: {
        publish: (m) => {
          this.sent.push(m);
          setTimeout(() => {
            for (const [other, r] of this.members) if (other !== id) r.receive(m);
          }, 1);
        },
      },
      timeoutMs: o.timeoutMs ?? 1000,
      idleMs: o.idleMs ?? 50,
      now: () => Date.now(),
      onShadow: () => this.shadows++,
    });
    this.members.set(id, c);
    return c;
  }
}

const m = (count: number, mean: number, m2: number): Float64Array => Float64Array.from([count, mean, m2]);

async function settle<T>(p: Promise<T>, ms = 5000): Promise<T> {
  let out: T | undefined;
  let done = false;
  void p.then((v) => {
    out = v;
    done = true;
  });
  for (let t = 0; t < ms && !done; t++) await vi.advanceTimersByTimeAsync(1);
  if (!done) throw new Error(`not settled within ${ms} ms`);
  return out as T;
}

function pooled(o: SyncBnOutcome): Float64Array {
  if (o.kind === 'fallback') throw new Error(`fell back: ${o.reason}`);
  return o.pooled;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SyncBnCoordinator', () => {
  it('pools forward moments and backward sums over the roster, in member order, bit-identical everywhere', async () => {
    const log = new Log();
    const a = log.add('a');
    const b = log.add('b');
    for (const c of [a, b]) c.join({ gen: 1, roster: ['b', 'a'], self: c === a ? 'a' : 'b' });
    const fa = a.request('bn0', 'forward', m(2, 1, 0.5));
    const fb = b.request('bn0', 'forward', m(3, -1, 2));
    const [oa, ob] = await Promise.all([settle(fa), settle(fb)]);
    const expected = poolMoments([m(2, 1, 0.5), m(3, -1, 2)]);
    expect(oa).toMatchObject({ kind: 'pooled', step: 0 });
    expect([...pooled(oa)]).toEqual([...expected]);
    expect([...pooled(ob)]).toEqual([...expected]);
    const ga = a.request('bn0', 'backward', Float64Array.from([1, 2]));
    const gb = b.request('bn0', 'backward', Float64Array.from([3, 4]));
    const [ba, bb] = await Promise.all([settle(ga), settle(gb)]);
    expect(ba).toMatchObject({ kind: 'pooled', step: 0 });
    expect([...pooled(ba)]).toEqual([
      ...poolGradientSums([Float64Array.from([1, 2]), Float64Array.from([3, 4])]),
    ]);
    expect([...pooled(bb)]).toEqual([...pooled(ba)]);
    // The next step is numbered 1 on both.
    const [n1, n2] = await Promise.all([
      settle(a.request('bn0', 'forward', m(2, 0, 1))),
      settle(b.request('bn0', 'forward', m(2, 0, 1))),
    ]);
    expect(n1).toMatchObject({ kind: 'pooled', step: 1 });
    expect(n2).toMatchObject({ kind: 'pooled', step: 1 });
  });

  it('numbers channels independently', async () => {
    const log = new Log();
    const a = log.add('a');
    const b = log.add('b');
    for (const [c, id] of [
      [a, 'a'],
      [b, 'b'],
    ] as const)
      c.join({ gen: 7, roster: ['a', 'b'], self: id });
    const x = await Promise.all([
      settle(a.request('v/0', 'forward', m(2, 0, 1))),
      settle(b.request('v/0', 'forward', m(2, 0, 1))),
    ]);
    const y = await Promise.all([
      settle(a.request('w/0', 'forward', m(2, 0, 1))),
      settle(b.request('w/0', 'forward', m(2, 0, 1))),
    ]);
    expect(x.map((o) => o.kind === 'pooled' && o.step)).toEqual([0, 0]);
    expect(y.map((o) => o.kind === 'pooled' && o.step)).toEqual([0, 0]);
  });

  it('an idle replica stands in with count-0 steps, so the active one pools only its own statistics', async () => {
    const log = new Log();
    const a = log.add('a', { idleMs: 50 });
    const b = log.add('b', { idleMs: 50 });
    for (const [c, id] of [
      [a, 'a'],
      [b, 'b'],
    ] as const)
      c.join({ gen: 1, roster: ['a', 'b'], self: id });
    await vi.advanceTimersByTimeAsync(100); // b has been idle for longer than idleMs
    for (let step = 0; step < 3; step++) {
      const local = m(4, step, 3);
      const t0 = Date.now();
      const f = await settle(a.request('bn0', 'forward', local));
      expect(f).toMatchObject({ kind: 'pooled', step });
      expect([...pooled(f)]).toEqual([...local]);
      // Once idle, b answers at once (a log round trip), not after another idle interval.
      expect(Date.now() - t0).toBeLessThan(10);
      const g = await settle(a.request('bn0', 'backward', Float64Array.from([5, 6])));
      expect([...pooled(g)]).toEqual([5, 6]);
    }
    expect(log.shadows).toBe(3);
    const zeros = log.sent.filter((x) => x.kind === 'part' && x.member === 'b');
    expect(zeros).toHaveLength(6);
    expect(zeros.every((x) => x.kind === 'part' && x.part.every((v) => v === 0))).toBe(true);
    // b's next real step takes the next number, and a meets it there.
    const fb = b.request('bn0', 'forward', m(2, 1, 1));
    const fa = a.request('bn0', 'forward', m(2, -1, 1));
    const [ob, oa] = await Promise.all([settle(fb), settle(fa)]);
    expect(ob).toMatchObject({ kind: 'pooled', step: 3 });
    expect(oa).toMatchObject({ kind: 'pooled', step: 3 });
    expect(pooled(oa)[0]).toBe(4);
  });

  it('a replica busy in a learning step does not shadow: it waits for its own request', async () => {
    const log = new Log();
    const a = log.add('a', { idleMs: 50 });
    const b = log.add('b', { idleMs: 50 });
    for (const [c, id] of [
      [a, 'a'],
      [b, 'b'],
    ] as const)
      c.join({ gen: 1, roster: ['a', 'b'], self: id });
    await vi.advanceTimersByTimeAsync(100);
    // b is in the middle of a step on another channel when a opens bn0's step 0.
    const busy = b.request('other', 'forward', m(2, 0, 1));
    const fa = a.request('bn0', 'forward', m(2, 5, 1));
    await vi.advanceTimersByTimeAsync(20);
    const fb = b.request('bn0', 'forward', m(2, -5, 1));
    const [oa, ob] = await Promise.all([settle(fa), settle(fb)]);
    expect(pooled(oa)[0]).toBe(4);
    expect(pooled(ob)[0]).toBe(4);
    expect(log.shadows).toBe(0);
    void busy;
  });

  it('falls back after the timeout when a peer does not answer, and numbering goes on', async () => {
    const log = new Log();
    const a = log.add('a', { timeoutMs: 200 });
    a.join({ gen: 1, roster: ['a', 'ghost'], self: 'a' });
    const t0 = Date.now();
    const o = await settle(a.request('bn0', 'forward', m(2, 0, 1)));
    expect(o).toEqual({ kind: 'fallback', reason: 'timeout' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(Date.now() - t0).toBeLessThan(260);
    // The backward of a fallen-back forward is published without waiting.
    const g = await settle(a.request('bn0', 'backward', Float64Array.from([1, 1]), false), 5);
    expect(g.kind).toBe('fallback');
    expect(log.sent.filter((x) => x.kind === 'part' && x.phase === 'backward')).toHaveLength(1);
    const o2 = a.request('bn0', 'forward', m(2, 0, 1));
    expect(log.sent.at(-1)).toMatchObject({ kind: 'part', step: 1, phase: 'forward' });
    expect(await settle(o2)).toEqual({ kind: 'fallback', reason: 'timeout' });
  });

  it('after a timeout, a member that stays silent (killed) is waited for only briefly; once it speaks, fully again', async () => {
    const log = new Log();
    const a = log.add('a', { timeoutMs: 1000, idleMs: 50 });
    a.join({ gen: 1, roster: ['a', 'ghost'], self: 'a' });
    const waited = async (): Promise<number> => {
      const t0 = Date.now();
      const o = await settle(a.request('bn0', 'forward', m(2, 0, 1)));
      expect(o).toEqual({ kind: 'fallback', reason: 'timeout' });
      a.abandon('bn0');
      return Date.now() - t0;
    };
    expect(await waited()).toBeGreaterThanOrEqual(1000);
    expect(await waited()).toBeLessThanOrEqual(110);
    expect(await waited()).toBeLessThanOrEqual(110);
    // The ghost speaks (a contribution to a step a has settled: dropped, but proof of life).
    a.receive({
      kind: 'part',
      gen: 1,
      member: 'ghost',
      channel: 'bn0',
      step: 0,
      phase: 'forward',
      part: m(2, 0, 1),
    });
    expect(await waited()).toBeGreaterThanOrEqual(1000);
  });

  it('a goodbye releases the peers: the leaver counts as zero for every step it had not contributed to', async () => {
    const log = new Log();
    const a = log.add('a', { timeoutMs: 10_000 });
    const b = log.add('b', { timeoutMs: 10_000 });
    for (const [c, id] of [
      [a, 'a'],
      [b, 'b'],
    ] as const)
      c.join({ gen: 3, roster: ['a', 'b'], self: id });
    const fa = a.request('bn0', 'forward', m(2, 1, 1));
    await vi.advanceTimersByTimeAsync(5);
    b.close();
    const t0 = Date.now();
    const o = await settle(fa);
    expect([...pooled(o)]).toEqual([2, 1, 1]);
    expect(Date.now() - t0).toBeLessThan(10);
  });

  it('a roster of one pools alone, at once, without publishing', async () => {
    const log = new Log();
    const a = log.add('a');
    a.join({ gen: 1, roster: ['a'], self: 'a' });
    const o = await settle(a.request('bn0', 'forward', m(3, 1, 1)), 1);
    expect(o).toMatchObject({ kind: 'alone', step: 0 });
    expect(log.sent).toHaveLength(0);
  });

  it('falls back before the first roster, and during a rebalance (a newer generation on the wire)', async () => {
    const log = new Log();
    const a = log.add('a', { timeoutMs: 5000 });
    const b = log.add('b', { timeoutMs: 5000 });
    expect(await settle(a.request('bn0', 'forward', m(2, 0, 1)), 1)).toEqual({
      kind: 'fallback',
      reason: 'no-roster',
    });
    for (const [c, id] of [
      [a, 'a'],
      [b, 'b'],
    ] as const)
      c.join({ gen: 1, roster: ['a', 'b'], self: id });
    const waiting = a.request('bn0', 'forward', m(2, 0, 1));
    await vi.advanceTimersByTimeAsync(5);
    // b joined generation 2 first and its first contribution reaches a: a's waiting step gives up at once.
    b.join({ gen: 2, roster: ['a', 'b'], self: 'b' });
    const fb = b.request('bn0', 'forward', m(2, 2, 1));
    const t0 = Date.now();
    expect(await settle(waiting)).toEqual({ kind: 'fallback', reason: 'rebalance' });
    expect(Date.now() - t0).toBeLessThan(10);
    expect(await settle(a.request('bn0', 'forward', m(2, 0, 1)), 1)).toEqual({
      kind: 'fallback',
      reason: 'rebalance',
    });
    // Once a joins generation 2, steps restart at 0 and b's early contribution is met.
    a.join({ gen: 2, roster: ['a', 'b'], self: 'a' });
    const fa = a.request('bn0', 'forward', m(2, 0, 1));
    const [oa, ob] = await Promise.all([settle(fa), settle(fb)]);
    expect(oa).toMatchObject({ kind: 'pooled', step: 0 });
    expect(ob).toMatchObject({ kind: 'pooled', step: 0 });
    expect(pooled(oa)[0]).toBe(4);
  });

  it('a roster change to one member stops waiting for the one that left', async () => {
    const log = new Log();
    const a = log.add('a', { timeoutMs: 5000 });
    a.join({ gen: 1, roster: ['a', 'b'], self: 'a' });
    const waiting = a.request('bn0', 'forward', m(2, 0, 1));
    await vi.advanceTimersByTimeAsync(5);
    a.join({ gen: 2, roster: ['a'], self: 'a' });
    expect(await settle(waiting, 1)).toEqual({ kind: 'fallback', reason: 'rebalance' });
    expect(await settle(a.request('bn0', 'forward', m(2, 0, 1)), 1)).toMatchObject({
      kind: 'alone',
      step: 0,
    });
  });

  it('abandon owes a zero backward, so the peer that pooled the forward is not kept waiting', async () => {
    const log = new Log();
    const a = log.add('a');
    const b = log.add('b');
    for (const [c, id] of [
      [a, 'a'],
      [b, 'b'],
    ] as const)
      c.join({ gen: 1, roster: ['a', 'b'], self: id });
    await Promise.all([
      settle(a.request('bn0', 'forward', m(2, 0, 1))),
      settle(b.request('bn0', 'forward', m(2, 0, 1))),
    ]);
    a.abandon('bn0');
    const t0 = Date.now();
    const g = await settle(b.request('bn0', 'backward', Float64Array.from([1, 2])));
    expect([...pooled(g)]).toEqual([1, 2]);
    expect(Date.now() - t0).toBeLessThan(10);
  });
});
