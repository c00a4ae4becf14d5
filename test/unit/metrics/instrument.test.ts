import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, from, toArray } from 'rxjs';
import { ConfigError } from '../../../src/errors.js';
import { LinearModel } from '../../../src/models/linear/index.js';
import { Mlp } from '../../../src/models/nets/mlp.js';
import {
  createRegistry,
  PipelineMetrics,
  startMetricsServer,
  type MetricsServer,
} from '../../../src/metrics/index.js';
import { decodeEvents } from '../../../src/streams/decodeEvents.js';
import { instrument, liveMetricsHooks, pipelineMetricsFor } from '../../../src/streams/instrument.js';
import { prequential } from '../../../src/streams/prequential.js';
import { rebatch } from '../../../src/streams/rebatch.js';
import { KafkaError } from '../../../src/errors.js';
import { rawMessages, runPipeline, streamEvents, variants } from './pipeline.js';
import { exposedNames, unknownNamesSingleProcess } from './promql.js';
import { haveTool, promtool, PROMTOOL } from './tools.js';

function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const servers: MetricsServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

const BAD = [
  '{not json',
  '{"id":"b1","ts":1,"x":[1,2]}',
  '{"id":"b2","ts":1,"x":[1,2,3,"NaN"]}',
  '[]',
  '{"id":"b3"}',
];

describe('instrument() on a real pipeline (decode → rebatch → prequential → instrument)', () => {
  it('counts every event once per variant, by outcome, and every dead letter by reason', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const metrics = new PipelineMetrics(registry);
    const events = streamEvents(230, 10); // every 10th unlabeled: 23 predicted only, 207 learned
    const models = variants();
    const results = await runPipeline(metrics, rawMessages(events, BAD), models);
    const s = samples(await registry.metrics());
    for (const variant of Object.keys(models)) {
      const get = (outcome: string): number =>
        s.get(`streamnorm_events_total{variant="${variant}",outcome="${outcome}",mode="replay"}`)!;
      expect(get('learned'), variant).toBe(207);
      expect(get('predicted'), variant).toBe(23);
      expect(get('skipped') + get('rejected'), variant).toBe(0);
      expect(s.get(`streamnorm_batch_size_sum{variant="${variant}",mode="replay"}`)).toBe(230);
      expect(s.get(`streamnorm_batch_size_count{variant="${variant}",mode="replay"}`)).toBe(results.length);
      expect(s.get(`streamnorm_processing_duration_seconds_count{variant="${variant}",mode="replay"}`)).toBe(
        results.length,
      );
      expect(
        s.get(`streamnorm_event_to_prediction_latency_seconds_count{variant="${variant}",mode="replay"}`),
      ).toBe(230);
    }
    let dead = 0;
    for (const [k, v] of s) if (k.startsWith('streamnorm_dead_letters_total{')) dead += v;
    expect(dead).toBe(BAD.length);
    expect(s.get('streamnorm_dead_letters_total{reason="bad_json",topic="events",mode="replay"}')).toBe(1);
    expect(s.get('streamnorm_last_event_timestamp_seconds{topic="events",mode="replay"}')).toBe(
      events[events.length - 1].ts / 1000,
    );
  });

  it('exports the faded prequential loss and error, weights and normalizer statistics of the final models', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const metrics = new PipelineMetrics(registry);
    const models = variants();
    const results = await runPipeline(metrics, rawMessages(streamEvents(256), []), models);
    const s = samples(await registry.metrics());
    const last = results[results.length - 1];
    for (const v of last.variants) {
      const loss = s.get(`streamnorm_prequential_loss{variant="${v.variant}",mode="replay"}`)!;
      const error = s.get(`streamnorm_prequential_error_ratio{variant="${v.variant}",mode="replay"}`)!;
      expect(loss).toBe(v.running.fadedLoss);
      expect(error).toBe(v.running.fadedError);
      expect(Number.isFinite(loss) && loss >= 0).toBe(true);
      expect(error).toBeGreaterThanOrEqual(0);
      expect(error).toBeLessThanOrEqual(1);
      const ws = models[v.variant].weightStats();
      expect(s.get(`streamnorm_weight_norm{variant="${v.variant}",mode="replay",norm="l1"}`)).toBe(ws.l1);
      expect(s.get(`streamnorm_weight_norm{variant="${v.variant}",mode="replay",norm="l2"}`)).toBe(ws.l2);
      expect(s.get(`streamnorm_weight_sparsity_ratio{variant="${v.variant}",mode="replay"}`)).toBe(
        ws.sparsity,
      );
    }
    // BatchNorm: running statistics differ from the batch ones, so training and inference disagree.
    expect(
      s.get('streamnorm_normalizer_running_mean_drift{variant="mlp-batch",mode="replay"}'),
    ).toBeGreaterThan(0);
    expect(
      s.get('streamnorm_normalizer_train_inference_gap{variant="mlp-batch",mode="replay"}'),
    ).toBeGreaterThan(1e-6);
    // LayerNorm computes the same thing in both modes: the gap is zero by construction.
    expect(
      s.get('streamnorm_normalizer_train_inference_gap{variant="mlp-layer",mode="replay"}'),
    ).toBeLessThan(1e-12);
    // A linear model has no normalizer: no series rather than a misleading 0.
    expect(
      s.get('streamnorm_normalizer_train_inference_gap{variant="linear-l1",mode="replay"}'),
    ).toBeUndefined();
  });

  it('passes every result through unchanged', async () => {
    const raws = rawMessages(streamEvents(64), []);
    const plain = await firstValueFrom(
      from(raws).pipe(decodeEvents({}), rebatch({ count: 8 }), prequential(variants()), toArray()),
    );
    const instrumented = await runPipeline(new PipelineMetrics(createRegistry()), raws, variants(), 8);
    const strip = (r: (typeof plain)[number]) =>
      r.variants.map((v) => ({
        ...v,
        processingSeconds: 0,
        predictions: v.predictions.map((p) => p.predicted),
      }));
    expect(instrumented.map(strip)).toEqual(plain.map(strip));
  });

  it('counts singleton batches skipped by BatchNorm as outcome="skipped"', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const metrics = new PipelineMetrics(registry);
    const bn = new Mlp({
      inputs: 4,
      hidden: [8],
      normalizer: 'batch',
      classes: 2,
      seed: 3,
      singletonPolicy: 'skip',
    });
    await runPipeline(metrics, rawMessages(streamEvents(20), []), { bn }, 1);
    const s = samples(await registry.metrics());
    expect(s.get('streamnorm_events_total{variant="bn",outcome="skipped",mode="replay"}')).toBe(20);
    expect(s.get('streamnorm_events_total{variant="bn",outcome="learned",mode="replay"}')).toBe(0);
  });

  it('counts updates rejected as non-finite, and their events as outcome="rejected"', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const metrics = new PipelineMetrics(registry);
    const wild = new LinearModel({ loss: 'squared', optimizer: { type: 'sgd', lr: 1e300 } });
    const events = streamEvents(12).map((e) => ({
      ...e,
      x: (e.x as number[]).map((v) => v * 1e200),
      y: 1e300,
    }));
    const raws = rawMessages(events, []);
    await firstValueFrom(
      from(raws).pipe(
        decodeEvents({ x: { kind: 'vector', dim: 4 } }),
        rebatch({ count: 4 }),
        prequential({ wild }),
        instrument(metrics, { mode: 'live' }),
        toArray(),
      ),
    );
    expect(wild.rejectedUpdates).toBe(3);
    const s = samples(await registry.metrics());
    expect(s.get('streamnorm_nonfinite_updates_rejected_total{variant="wild",mode="live"}')).toBe(3);
    expect(s.get('streamnorm_events_total{variant="wild",outcome="rejected",mode="live"}')).toBe(12);
  });

  it('counts drift alarms when the concept flips, and none on a stationary stream', async () => {
    const alarms = async (flipAt: number): Promise<number> => {
      const registry = createRegistry({ defaultMetrics: false });
      const metrics = new PipelineMetrics(registry);
      const events = streamEvents(1200).map((e, i) => (i >= flipAt ? { ...e, y: 1 - e.y! } : e));
      const model = new LinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr: 0.1 } });
      await firstValueFrom(
        from(rawMessages(events, [])).pipe(
          decodeEvents({}),
          rebatch({ count: 8 }),
          prequential({ lin: model }),
          instrument(metrics, { mode: 'replay', drift: { type: 'page-hinkley', threshold: 20 } }),
          toArray(),
        ),
      );
      return samples(await registry.metrics()).get(
        'streamnorm_drift_alarms_total{variant="lin",mode="replay"}',
      )!;
    };
    expect(await alarms(Infinity)).toBe(0);
    expect(await alarms(600)).toBeGreaterThanOrEqual(1);
  });

  it('accepts a Registry (DESIGN: instrument(registry)) and shares one catalog per registry', () => {
    const registry = createRegistry({ defaultMetrics: false });
    expect(pipelineMetricsFor(registry)).toBe(pipelineMetricsFor(registry));
    expect(() => instrument(registry, { mode: 'live' })).not.toThrow();
    expect(() => instrument(registry, { mode: 'batch' as never })).toThrow(ConfigError);
    expect(() => instrument(registry, { mode: 'live', modelEveryMs: Number.NaN })).toThrow(/NaN/);
    expect(() => instrument(registry, { mode: 'live', drift: { type: 'cusum' as never } })).toThrow(/cusum/);
  });
});

describe('liveMetricsHooks', () => {
  it('maps kafkajs group joins, lag, rebalances, crashes and checkpoints onto the catalog and readiness', async () => {
    let now = 0;
    const registry = createRegistry({ defaultMetrics: false });
    const metrics = new PipelineMetrics(registry, { now: () => now });
    const hooks = liveMetricsHooks(metrics, { groupId: 'g' });
    expect(metrics.readiness().ready).toBe(false);
    hooks.onGroupJoin({
      groupId: 'g',
      memberId: 'm',
      generationId: 1,
      assignment: { events: [0, 1] },
      durationMs: 5,
    });
    expect(metrics.readiness().ready).toBe(true);
    hooks.onBatch({ topic: 'events', partition: 1, offsetLag: 42, highWatermark: '100', batchSize: 10 });
    hooks.onRebalancing({ groupId: 'g', memberId: 'm' });
    hooks.onCrash(new KafkaError('boom'), { restart: true });
    now += 400_000;
    expect(metrics.readiness().checks.checkpointRecent).toBe(false);
    hooks.onCheckpointSaved({
      sequence: 1,
      offsets: {},
      messages: 1,
      batches: 1,
      savedAt: now,
      final: false,
    });
    expect(metrics.readiness().ready).toBe(true);
    expect(
      samples(await registry.metrics()).get(
        'streamnorm_consumer_lag{consumergroup="g",topic="events",partition="1"}',
      ),
    ).toBe(42);
    hooks.onCrash(new KafkaError('fatal'), { restart: false });
    const s = samples(await registry.metrics());
    // A consumer that is gone owns no partitions: its lag series go with it.
    expect(s.get('streamnorm_consumer_lag{consumergroup="g",topic="events",partition="1"}')).toBeUndefined();
    expect(s.get('streamnorm_consumer_rebalances_total')).toBe(1);
    expect(s.get('streamnorm_consumer_crashes_total{restart="true"}')).toBe(1);
    expect(s.get('streamnorm_consumer_crashes_total{restart="false"}')).toBe(1);
    expect(s.get('streamnorm_consumer_connected{group="g"}')).toBe(0);
    expect(s.get('streamnorm_checkpoint_age_seconds{mode="live"}')).toBe(0);
    expect(metrics.readiness().ready).toBe(false);
  });
});

describe.runIf(haveTool(PROMTOOL))('live /metrics of a server fed by a real pipeline run', () => {
  it('promtool check metrics reports nothing, and every dashboard and rule name is in it', async () => {
    const registry = createRegistry();
    const metrics = new PipelineMetrics(registry);
    const hooks = liveMetricsHooks(metrics, { groupId: 'streamnorm' });
    hooks.onGroupJoin({
      groupId: 'streamnorm',
      memberId: 'm',
      generationId: 1,
      assignment: { events: [0] },
      durationMs: 1,
    });
    hooks.onBatch({ topic: 'events', partition: 0, offsetLag: 3, highWatermark: '300', batchSize: 16 });
    const server = await startMetricsServer({ registry, port: 0, readiness: () => metrics.readiness() });
    servers.push(server);
    await runPipeline(metrics, rawMessages(streamEvents(300, 7), BAD), variants());
    hooks.onCheckpointSaved({
      sequence: 1,
      offsets: {},
      messages: 305,
      batches: 19,
      savedAt: 0,
      final: true,
    });
    const res = await fetch(`${server.url}/metrics`);
    const text = await res.text();
    expect(text).toContain('streamnorm_events_total{variant="mlp-batch",outcome="learned",mode="replay"}');
    const r = promtool(['check', 'metrics'], text);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(unknownNamesSingleProcess(exposedNames(text))).toEqual([]);
  });
});
