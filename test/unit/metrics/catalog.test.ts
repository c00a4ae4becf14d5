import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Registry } from 'prom-client';
import { ConfigError } from '../../../src/errors.js';
import { LINT_FAILING_DEFAULT_METRICS, createRegistry } from '../../../src/metrics/createRegistry.js';
import { PipelineMetrics } from '../../../src/metrics/index.js';
import { haveTool, promtool, PROMTOOL } from './tools.js';

/** Parse Prometheus text format into `name{labels} -> value` (labels sorted as exposed). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function value(registry: Registry, series: string): Promise<number | undefined> {
  return samples(await registry.metrics()).get(series);
}

function exerciseEverything(m: PipelineMetrics): void {
  m.observeBatch({
    variant: 'linear-l1',
    mode: 'live',
    size: 4,
    outcomes: { learned: 3, predicted: 1 },
    processingSeconds: 0.002,
    latenciesSeconds: [0.01, 0.02, 0.03, 0.04],
    loss: 0.5,
    errorRatio: 0.25,
  });
  m.observeModel('linear-l1', 'live', {
    weightStats: () => ({ l1: 3, l2: Math.sqrt(5), sparsity: 0.5, count: 4 }),
    normalizerStats: () => ({ runningMeanDrift: 0.1, runningVarianceDrift: 0.2, trainInferenceGap: 0.05 }),
  });
  m.nonFiniteUpdatesRejected('linear-l1', 'live', 2);
  m.driftAlarm('linear-l1', 'live');
  m.eventSeen(1_700_000_000_000, 'events', 'live');
  m.deadLetter('bad_json', 'events', 'live');
  m.predictionsPublished('predictions', 3);
  m.consumerConnectedChanged(true, 'g');
  m.partitionsAssigned({ events: [0, 1] });
  m.consumerLagObserved('events', 0, '12');
  m.consumerLagObserved('events', 1, 0);
  m.rebalance();
  m.consumerCrashed(true);
  m.expectCheckpoints('live');
  m.checkpointWritten('live', 0.004);
  m.checkpointFailed('live');
}

describe('PipelineMetrics catalog', () => {
  it('creates every metric with help text, the streamnorm_ prefix, and _total exactly on counters', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    new PipelineMetrics(registry);
    const metrics = await registry.getMetricsAsJSON();
    expect(metrics.length).toBeGreaterThanOrEqual(20);
    for (const metric of metrics) {
      expect(metric.name).toMatch(/^streamnorm_[a-z0-9_]+$/);
      expect(metric.help.length).toBeGreaterThan(10);
      expect(metric.name.endsWith('_total')).toBe(String(metric.type) === 'counter');
    }
    const names = metrics.map((x) => x.name);
    for (const core of [
      'streamnorm_events_total',
      'streamnorm_batch_size',
      'streamnorm_prequential_loss',
      'streamnorm_prequential_error_ratio',
      'streamnorm_weight_norm',
      'streamnorm_weight_sparsity_ratio',
    ]) {
      expect(names).toContain(core);
    }
  });

  it('counts events per variant and outcome, with zero series created for a new variant', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = new PipelineMetrics(registry);
    m.registerVariant('bn', 'replay');
    expect(
      await value(registry, 'streamnorm_events_total{variant="bn",outcome="learned",mode="replay"}'),
    ).toBe(0);
    expect(
      await value(registry, 'streamnorm_nonfinite_updates_rejected_total{variant="bn",mode="replay"}'),
    ).toBe(0);
    m.observeBatch({
      variant: 'bn',
      mode: 'replay',
      size: 3,
      outcomes: { learned: 2, skipped: 1 },
      loss: 0.7,
    });
    m.observeBatch({ variant: 'bn', mode: 'replay', size: 5, outcomes: { learned: 5 }, loss: Number.NaN });
    expect(
      await value(registry, 'streamnorm_events_total{variant="bn",outcome="learned",mode="replay"}'),
    ).toBe(7);
    expect(
      await value(registry, 'streamnorm_events_total{variant="bn",outcome="skipped",mode="replay"}'),
    ).toBe(1);
    expect(await value(registry, 'streamnorm_batch_size_count{variant="bn",mode="replay"}')).toBe(2);
    expect(await value(registry, 'streamnorm_batch_size_sum{variant="bn",mode="replay"}')).toBe(8);
    // The NaN loss of the second batch is not exported: the last finite value stays.
    expect(await value(registry, 'streamnorm_prequential_loss{variant="bn",mode="replay"}')).toBe(0.7);
  });

  it('counts outsized updates (step guard) apart from non-finite ones, and checkpoint fallbacks', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = new PipelineMetrics(registry);
    m.registerVariant('v', 'live');
    m.expectCheckpoints('live');
    let s = samples(await registry.metrics());
    expect(s.get('streamnorm_outsized_updates_rejected_total{variant="v",mode="live"}')).toBe(0);
    expect(s.get('streamnorm_checkpoint_fallbacks_total{mode="live"}')).toBe(0);
    m.outsizedUpdatesRejected('v', 'live', 2);
    m.outsizedUpdatesRejected('v', 'live', 0);
    m.checkpointFallback('live');
    s = samples(await registry.metrics());
    expect(s.get('streamnorm_outsized_updates_rejected_total{variant="v",mode="live"}')).toBe(2);
    expect(s.get('streamnorm_nonfinite_updates_rejected_total{variant="v",mode="live"}')).toBe(0);
    expect(s.get('streamnorm_checkpoint_fallbacks_total{mode="live"}')).toBe(1);
  });

  it('exports weight norms and sparsity of a model, and counts rejected updates', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = new PipelineMetrics(registry);
    m.observeModel('v', 'live', { weightStats: () => ({ l1: 2, l2: 1.5, sparsity: 0.25, count: 8 }) });
    m.nonFiniteUpdatesRejected('v', 'live', 3);
    m.nonFiniteUpdatesRejected('v', 'live', 0);
    m.nonFiniteUpdatesRejected('v', 'live');
    const s = samples(await registry.metrics());
    expect(s.get('streamnorm_nonfinite_updates_rejected_total{variant="v",mode="live"}')).toBe(4);
    expect(s.get('streamnorm_weight_norm{variant="v",mode="live",norm="l1"}')).toBe(2);
    expect(s.get('streamnorm_weight_norm{variant="v",mode="live",norm="l2"}')).toBe(1.5);
    expect(s.get('streamnorm_weight_sparsity_ratio{variant="v",mode="live"}')).toBe(0.25);
  });

  it('computes checkpoint age at scrape time from the injected clock', async () => {
    let now = 1_000_000;
    const registry = createRegistry({ defaultMetrics: false });
    const m = new PipelineMetrics(registry, { now: () => now });
    // Not exported before checkpointing is on (a replay without checkpoints is not "stale").
    expect(await value(registry, 'streamnorm_checkpoint_age_seconds{mode="live"}')).toBeUndefined();
    m.expectCheckpoints('live');
    now += 30_000;
    expect(await value(registry, 'streamnorm_checkpoint_age_seconds{mode="live"}')).toBe(30);
    m.checkpointWritten('live', 0.01);
    now += 2_500;
    expect(await value(registry, 'streamnorm_checkpoint_age_seconds{mode="live"}')).toBe(2.5);
    expect(await value(registry, 'streamnorm_last_checkpoint_timestamp_seconds{mode="live"}')).toBe(1030);
    expect(await value(registry, 'streamnorm_checkpoints_total{outcome="ok",mode="live"}')).toBe(1);
  });

  it('exports streamnorm_build_info = 1 with the package and Node.js versions', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    new PipelineMetrics(registry);
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const series = `streamnorm_build_info{version="${pkg.version}",node="${process.versions.node}"}`;
    expect(samples(await registry.metrics()).get(series)).toBe(1);
  });

  it('drops the lag series of partitions revoked by a rebalance', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = new PipelineMetrics(registry);
    m.consumerConnectedChanged(true, 'g1');
    m.partitionsAssigned({ t: [0, 1, 2] });
    for (const p of [0, 1, 2]) m.consumerLagObserved('t', p, String(10 * p));
    m.partitionsAssigned({ t: [2] });
    const s = samples(await registry.metrics());
    expect(s.get('streamnorm_consumer_lag{consumergroup="g1",topic="t",partition="0"}')).toBeUndefined();
    expect(s.get('streamnorm_consumer_lag{consumergroup="g1",topic="t",partition="2"}')).toBe(20);
    expect(s.get('streamnorm_consumer_assigned_partitions{topic="t"}')).toBe(1);
  });

  it('reports readiness: connected, partitions assigned, checkpoint recent', () => {
    let now = 0;
    const m = new PipelineMetrics(createRegistry({ defaultMetrics: false }), { now: () => now });
    expect(m.readiness()).toEqual({
      ready: false,
      checks: { connected: false, partitionsAssigned: false, checkpointRecent: true },
    });
    m.consumerConnectedChanged(true, 'g');
    expect(m.readiness().checks.partitionsAssigned).toBe(false);
    m.partitionsAssigned({ t: [0] });
    m.expectCheckpoints('live');
    expect(m.readiness()).toEqual({
      ready: true,
      checks: { connected: true, partitionsAssigned: true, checkpointRecent: true },
    });
    now += 61_000;
    expect(m.readiness({ maxCheckpointAgeSeconds: 60 }).ready).toBe(false);
    m.checkpointWritten('live');
    expect(m.readiness({ maxCheckpointAgeSeconds: 60 }).ready).toBe(true);
    m.consumerConnectedChanged(false, 'g');
    expect(m.readiness().checks).toEqual({
      connected: false,
      partitionsAssigned: false,
      checkpointRecent: true,
    });
    expect(m.readiness({ requireConsumer: false })).toEqual({
      ready: true,
      checks: { checkpointRecent: true },
    });
  });

  it('rejects bad configuration with errors naming the value', () => {
    const m = new PipelineMetrics(createRegistry({ defaultMetrics: false }));
    expect(() => m.registerVariant('', 'live')).toThrow(ConfigError);
    expect(() => m.registerVariant('v', 'batch' as never)).toThrow(/"batch"/);
    expect(() => m.observeBatch({ variant: 'v', mode: 'live', size: -1, outcomes: {} })).toThrow(/-1/);
    expect(() => m.readiness({ maxCheckpointAgeSeconds: Number.NaN })).toThrow(/NaN/);
    expect(() => new PipelineMetrics(undefined as never)).toThrow(ConfigError);
  });

  it('keeps two registries independent (no global state)', async () => {
    const a = createRegistry({ defaultMetrics: false });
    const b = createRegistry({ defaultMetrics: false });
    new PipelineMetrics(a).observeBatch({ variant: 'x', mode: 'live', size: 1, outcomes: { learned: 1 } });
    new PipelineMetrics(b);
    expect(await value(a, 'streamnorm_events_total{variant="x",outcome="learned",mode="live"}')).toBe(1);
    expect(
      await value(b, 'streamnorm_events_total{variant="x",outcome="learned",mode="live"}'),
    ).toBeUndefined();
  });
});

describe.runIf(haveTool(PROMTOOL))('promtool check metrics on the catalog', () => {
  it('reports nothing for every metric exercised, default process metrics included', async () => {
    const registry = createRegistry();
    exerciseEverything(new PipelineMetrics(registry));
    const text = await registry.metrics();
    for (const name of LINT_FAILING_DEFAULT_METRICS) expect(text).not.toContain(`${name} `);
    expect(text).toContain('process_cpu_seconds_total');
    const r = promtool(['check', 'metrics'], text);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('is a real lint: it does flag a gauge named like a counter', () => {
    const bad = '# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n';
    const r = promtool(['check', 'metrics'], bad);
    expect(r.stdout + r.stderr).toMatch(/_total/);
    expect(r.status).not.toBe(0);
  });
});
