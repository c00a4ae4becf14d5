/**
 * The metrics of `run --sync-bn` (src/scale/syncBnMetrics.ts): steps by outcome (shadow steps and the roster read
 * from the worker's counters at scrape time), the wait histogram, and a clean `promtool check metrics`.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { syncBnMetrics } from '../../../src/scale/syncBnMetrics.js';
import { PROMTOOL, haveTool, promtool } from '../metrics/tools.js';

function exercised(): { registry: Registry; set: (s: number, r: number) => void } {
  const registry = new Registry();
  let shadows = 0;
  let roster = 0;
  const m = syncBnMetrics(registry, { shadows: () => shadows, roster: () => roster });
  m.step('pooled');
  m.step('pooled');
  m.step('local_fallback');
  m.waited(12);
  m.waited(2500);
  return {
    registry,
    set: (s, r) => {
      shadows = s;
      roster = r;
    },
  };
}

describe('syncBnMetrics', () => {
  it('counts steps by outcome, reads shadow steps and the roster at scrape time, and observes waits in seconds', async () => {
    const { registry, set } = exercised();
    set(3, 2);
    let text = await registry.metrics();
    expect(text).toContain('streamnorm_syncbn_steps_total{outcome="pooled"} 2');
    expect(text).toContain('streamnorm_syncbn_steps_total{outcome="local_fallback"} 1');
    expect(text).toContain('streamnorm_syncbn_steps_total{outcome="shadow"} 3');
    expect(text).toContain('streamnorm_syncbn_steps_total{outcome="alone"} 0');
    expect(text).toContain('streamnorm_syncbn_roster_size 2');
    expect(text).toContain('streamnorm_syncbn_wait_seconds_count 2');
    expect(text).toContain('streamnorm_syncbn_wait_seconds_sum 2.512');
    expect(text).toContain('streamnorm_syncbn_wait_seconds_bucket{le="0.025"} 1');
    // Shadow steps are a counter: a later scrape adds only what is new.
    set(5, 1);
    text = await registry.metrics();
    expect(text).toContain('streamnorm_syncbn_steps_total{outcome="shadow"} 5');
    expect(text).toContain('streamnorm_syncbn_roster_size 1');
  });
});

describe.runIf(haveTool(PROMTOOL))('promtool check metrics on the sync-bn metrics', () => {
  it('reports nothing', async () => {
    const { registry, set } = exercised();
    set(4, 2);
    const text = await registry.metrics();
    expect(text).toContain('streamnorm_syncbn_wait_seconds_bucket');
    const r = promtool(['check', 'metrics'], text);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
