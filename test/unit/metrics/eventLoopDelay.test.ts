import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../../../src/metrics/createRegistry.js';
import { trackEventLoopDelay } from '../../../src/metrics/eventLoopDelay.js';
import { PROMTOOL, haveTool, promtool } from './tools.js';

const stops: (() => void)[] = [];
afterEach(() => {
  while (stops.length > 0) stops.pop()!();
});

function bucket(page: string, le: string): number {
  const line = page
    .split('\n')
    .find((l) => l.startsWith(`streamnorm_event_loop_delay_seconds_bucket{le="${le}"}`));
  if (line === undefined) throw new Error(`no bucket ${le}`);
  return Number(line.split(' ').pop());
}

describe('trackEventLoopDelay', () => {
  it('a 300 ms block of the loop lands above the 0.1 s bucket; the histogram is cumulative across scrapes', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const t = trackEventLoopDelay(registry, { resolutionMs: 10 });
    stops.push(t.stop);
    await new Promise((r) => setTimeout(r, 100));
    const before = await registry.metrics();
    const slowBefore = bucket(before, '+Inf') - bucket(before, '0.1');
    const end = Date.now() + 300;
    while (Date.now() < end); // block the event loop
    await new Promise((r) => setTimeout(r, 50));
    const after = await registry.metrics();
    expect(bucket(after, '+Inf') - bucket(after, '0.1') - slowBefore).toBeGreaterThanOrEqual(1);
    // Cumulative: nothing counted before disappears.
    for (const le of ['0.001', '0.01', '0.1', '1', '+Inf'])
      expect(bucket(after, le)).toBeGreaterThanOrEqual(bucket(before, le));
    expect(bucket(after, '+Inf')).toBeGreaterThan(bucket(before, '+Inf'));
  });

  it.runIf(haveTool(PROMTOOL))('lints clean with promtool', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const t = trackEventLoopDelay(registry);
    stops.push(t.stop);
    await new Promise((r) => setTimeout(r, 50));
    const r = promtool(['check', 'metrics'], await registry.metrics());
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('validates its options', () => {
    const registry = createRegistry({ defaultMetrics: false });
    expect(() => trackEventLoopDelay(registry, { resolutionMs: 0 })).toThrow(/resolutionMs/);
    expect(() => trackEventLoopDelay(registry, { resolutionMs: 2.5 })).toThrow(/resolutionMs/);
  });
});
