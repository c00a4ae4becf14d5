/**
 * /readyz semantics on an injected clock: "connected, assigned and keeping up" for a live consumer (an idle
 * topic stays ready indefinitely, a stalled consumer with work waiting does not), and an honest replay state.
 */
import { describe, expect, it } from 'vitest';
import { LiveReadiness, ReplayReadiness } from '../../../src/metrics/readiness.js';

function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

describe('LiveReadiness', () => {
  it('is not ready until connected and assigned, and says which', () => {
    const c = clock();
    const r = new LiveReadiness({ windowMs: 10_000, now: c.now });
    let rep = r.report();
    expect(rep).toMatchObject({ ready: false, mode: 'live', checks: { connected: false, assigned: false } });
    expect(rep.reason).toMatch(/not connected/);
    r.connected(true);
    rep = r.report();
    expect(rep.ready).toBe(false);
    expect(rep.reason).toMatch(/assign/);
    r.joined({ t: [0, 1] });
    rep = r.report();
    expect(rep).toMatchObject({ ready: true, checks: { connected: true, assigned: true, keepingUp: true } });
  });

  it('an idle topic (lag 0) stays ready indefinitely, long after the last event and checkpoint', () => {
    const c = clock();
    const r = new LiveReadiness({ windowMs: 10_000, now: c.now });
    r.expectCheckpoints();
    r.joined({ t: [0] });
    r.lag('t', 0, 3);
    r.progress(3);
    r.lag('t', 0, 0);
    r.checkpointed();
    for (let hours = 1; hours <= 48; hours++) {
      c.t += 3_600_000;
      const rep = r.report();
      expect(rep.ready, `after ${hours} h`).toBe(true);
      expect(rep.reason).toMatch(/caught up.*lag 0/);
    }
  });

  it('a consumer with lag > 0 and no progress for the window is stalled; progress makes it ready again', () => {
    const c = clock();
    const r = new LiveReadiness({ windowMs: 10_000, now: c.now });
    r.joined({ t: [0, 1] });
    r.lag('t', 0, 50);
    r.lag('t', 1, 0);
    c.t += 9_999;
    expect(r.report().ready).toBe(true); // behind, but not for a whole window yet
    c.t += 1;
    let rep = r.report();
    expect(rep).toMatchObject({ ready: false, checks: { keepingUp: false }, details: { lag: 50 } });
    expect(rep.reason).toMatch(/stalled: lag 50 and no progress for 10\.0 s/);
    r.progress(10);
    expect(r.report().ready).toBe(true);
    c.t += 10_000; // still lag 50, no progress since
    expect(r.report().ready).toBe(false);
    r.lag('t', 0, 0); // caught up
    rep = r.report();
    expect(rep.ready).toBe(true);
    expect(rep.details?.lag).toBe(0);
  });

  it('a busy consumer that progresses stays ready while lag > 0', () => {
    const c = clock();
    const r = new LiveReadiness({ windowMs: 5_000, now: c.now });
    r.joined({ t: [0] });
    for (let i = 0; i < 100; i++) {
      r.lag('t', 0, 1000 + i);
      c.t += 1_000;
      r.progress(32);
      expect(r.report().ready).toBe(true);
    }
    expect(r.report().reason).toMatch(/consuming 1 partition\(s\), lag 1099, progressing/);
  });

  it('with maxLag: lag above the bound for the whole window is not ready, even with progress', () => {
    const c = clock();
    const r = new LiveReadiness({ windowMs: 5_000, maxLag: 100, now: c.now });
    r.joined({ t: [0] });
    r.lag('t', 0, 500);
    r.progress(32);
    c.t += 4_000;
    r.progress(32);
    expect(r.report().ready).toBe(true);
    c.t += 1_000;
    r.progress(32);
    const rep = r.report();
    expect(rep).toMatchObject({ ready: false, checks: { lagBounded: false, keepingUp: true } });
    expect(rep.reason).toMatch(/falling behind: lag 500 above 100/);
    r.lag('t', 0, 99);
    expect(r.report().ready).toBe(true);
  });

  it('an idle group member (no partitions) is ready; a rebalance is not ready until the next join', () => {
    const c = clock();
    const r = new LiveReadiness({ now: c.now });
    r.joined({});
    const rep = r.report();
    expect(rep.ready).toBe(true);
    expect(rep.reason).toMatch(/idle group member/);
    r.rebalancing();
    expect(r.report()).toMatchObject({ ready: false, checks: { assigned: false } });
    r.joined({ t: [2] });
    expect(r.report().ready).toBe(true);
  });

  it('a rebalance drops the lag of partitions no longer assigned', () => {
    const c = clock();
    const r = new LiveReadiness({ windowMs: 1_000, now: c.now });
    r.joined({ t: [0, 1] });
    r.lag('t', 0, 7);
    r.lag('t', 1, 5);
    r.joined({ t: [1] });
    expect(r.report().details?.lag).toBe(5);
    r.connected(false);
    expect(r.report()).toMatchObject({ ready: false, details: { lag: 0 } });
  });

  it('learned events without a durable checkpoint for maxUnsavedMs are not ready', () => {
    const c = clock();
    const r = new LiveReadiness({ maxUnsavedMs: 30_000, now: c.now });
    r.expectCheckpoints();
    r.joined({ t: [0] });
    c.t += 600_000; // no events at all: nothing to save
    expect(r.report().ready).toBe(true);
    r.progress(5);
    c.t += 29_999;
    expect(r.report().ready).toBe(true);
    c.t += 1;
    const rep = r.report();
    expect(rep).toMatchObject({ ready: false, checks: { checkpointing: false } });
    expect(rep.reason).toMatch(/without a durable checkpoint for 30\.0 s/);
    r.checkpointed();
    expect(r.report().ready).toBe(true);
  });

  it('validates its options', () => {
    expect(() => new LiveReadiness({ windowMs: 0 })).toThrow(/windowMs/);
    expect(() => new LiveReadiness({ windowMs: Number.NaN })).toThrow(/windowMs/);
    expect(() => new LiveReadiness({ maxLag: -1 })).toThrow(/maxLag/);
    expect(() => new LiveReadiness({ maxUnsavedMs: Infinity })).toThrow(/maxUnsavedMs/);
  });
});

describe('ReplayReadiness', () => {
  it('is ready only while replaying, and says so in every state', () => {
    const r = new ReplayReadiness('data/x.jsonl');
    expect(r.report()).toMatchObject({ ready: false, mode: 'replay', details: { state: 'starting' } });
    r.started();
    r.progress(40);
    expect(r.report()).toMatchObject({
      ready: true,
      mode: 'replay',
      details: { state: 'replaying', messages: 40 },
    });
    r.finished();
    const done = r.report();
    expect(done).toMatchObject({ ready: false, details: { state: 'finished', messages: 40 } });
    expect(done.reason).toMatch(/finished after 40 messages: nothing more will be learned/);
    const f = new ReplayReadiness('r.jsonl');
    f.started();
    f.failed('disk full\nat stack');
    expect(f.report()).toMatchObject({ ready: false, reason: 'replay of r.jsonl failed: disk full' });
  });
});
