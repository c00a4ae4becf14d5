/**
 * The real Prometheus server (Debian's /usr/bin/prometheus) scrapes a live pipeline consuming the real
 * Kafka broker, evaluates deploy/prometheus/rules.yml, and answers queries: events counted equal events
 * sent, sane loss and error, every dashboard query accepted by Prometheus itself, every rule healthy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  createRegistry,
  PipelineMetrics,
  startMetricsServer,
  type MetricsServer,
} from '../../src/metrics/index.js';
import { liveMetricsHooks } from '../../src/streams/instrument.js';
import { runLivePipeline, type LivePipelineHandle } from '../../src/streams/livePipeline.js';
import {
  dashboardExpressions,
  exposedNames,
  loadDashboard,
  repoPath,
  unknownNamesSingleProcess,
} from '../unit/metrics/promql.js';
import { variants } from '../unit/metrics/pipeline.js';
import { haveTool, PROMETHEUS, PROMTOOL, promtool } from '../unit/metrics/tools.js';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  testKafka,
  uniqueName,
  waitFor,
} from './helpers/kafka.js';

const EVENTS = 1600; // a multiple of the batch size: every batch is complete, nothing waits for a flush
const BATCH = 32;
const BAD = [
  '{not json',
  '{"id":"b1","ts":1,"x":[1,2]}',
  '[]',
  '{"id":"b2"}',
  '{"id":"b3","ts":1,"x":[1,2,3,1e999]}',
];

interface PromResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}
interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe.runIf(haveTool(PROMETHEUS) && haveTool(PROMTOOL))('Prometheus scraping a live pipeline', () => {
  const kafka = testKafka();
  const registry = createRegistry();
  const metrics = new PipelineMetrics(registry);
  const group = uniqueName('prom-g');
  const topic = uniqueName('prom-in');
  const output = uniqueName('prom-out');
  const dir = mkdtempSync(join(tmpdir(), 'streamnorm-prom-'));
  let server: MetricsServer;
  let prometheus: ChildProcess;
  let promLog = '';
  let promUrl = '';
  let handle: LivePipelineHandle | null = null;
  /** Wall time (s since the epoch) just before the pipeline started: no checkpoint can be older. */
  let pipelineStartedAt = 0;

  async function api<T>(path: string, params: Record<string, string> = {}): Promise<PromResponse<T>> {
    const res = await fetch(`${promUrl}${path}?${new URLSearchParams(params).toString()}`);
    return (await res.json()) as PromResponse<T>;
  }
  async function query(expr: string): Promise<VectorSample[]> {
    const r = await api<{ resultType: string; result: VectorSample[] }>('/api/v1/query', { query: expr });
    if (r.status !== 'success') throw new Error(`query ${expr}: ${r.error}`);
    return r.data.result;
  }
  async function scalarOf(expr: string): Promise<number | undefined> {
    const r = await query(expr);
    return r.length === 0 ? undefined : Number(r[0].value[1]);
  }

  beforeAll(async () => {
    server = await startMetricsServer({ registry, port: 0, readiness: () => metrics.readiness() });

    // The shipped config, pointed at this test's metrics port, scraping every second, with the shipped rules.
    const config = parseYaml(readFileSync(repoPath('deploy/prometheus/prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    config.global.scrape_interval = '1s';
    config.global.evaluation_interval = '1s';
    config.rule_files = [repoPath('deploy/prometheus/rules.yml')];
    config.scrape_configs[0].static_configs[0].targets = [`127.0.0.1:${server.port}`];
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, stringifyYaml(config));

    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr!.on('data', (d: Buffer) => {
      promLog = (promLog + d.toString()).slice(-20_000);
    });
    await waitFor(
      async () => {
        if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
        return fetch(`${promUrl}/-/ready`).then(
          (r) => r.ok,
          () => false,
        );
      },
      60_000,
      'prometheus ready',
    );

    await createTopic(kafka, topic, 2);
    await createTopic(kafka, output, 1);
    const events = makeEvents(EVENTS, 11);
    const records = eventRecords(events).map((r, i) => ({ ...r, partition: i % 2 }));
    // Malformed messages in the middle of partition 0, so full event batches follow them.
    const bad = BAD.map((value) => ({ key: null, value, partition: 0 }));
    await produce(kafka, topic, [...records.slice(0, 400), ...bad, ...records.slice(400)]);

    pipelineStartedAt = Date.now() / 1000;
    handle = await runLivePipeline({
      kafka,
      topic,
      groupId: group,
      outputTopic: output,
      createModels: () => variants(),
      checkpoint: join(dir, 'checkpoints'),
      checkpointEvery: { ms: 200 },
      rebatch: { count: BATCH },
      schema: { x: { kind: 'vector', dim: 4 }, label: { classes: 2 } },
      handleSignals: false,
      ...liveMetricsHooks(metrics, { groupId: group, outputTopic: output, modelEveryMs: 0 }),
    });
    await waitFor(
      () => handle!.source.stats().emitted >= EVENTS + BAD.length,
      90_000,
      'every message handed to the pipeline',
    );
  });

  afterAll(async () => {
    if (handle !== null) await handle.stop().catch(() => undefined);
    metrics.consumerConnectedChanged(false, group);
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus.once('exit', r));
      prometheus.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
    }
    if (server !== undefined) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the pipeline: up == 1, and every variant counted exactly the events sent', async () => {
    await waitFor(async () => (await scalarOf('up{job="streamnorm"}')) === 1, 60_000, 'up == 1');
    const names = Object.keys(variants());
    const expr = 'sum by (variant) (streamnorm_events_total{mode="live"})';
    await waitFor(
      async () => {
        const r = await query(expr);
        return r.length === names.length && r.every((s) => Number(s.value[1]) === EVENTS);
      },
      60_000,
      `${expr} == ${EVENTS} for every variant`,
    ).catch(async (e: unknown) => {
      throw new Error(`${String(e)}; last: ${JSON.stringify(await query(expr))}; prometheus: ${promLog}`);
    });
    const learned = await query('streamnorm_events_total{mode="live",outcome="learned"}');
    expect(learned).toHaveLength(names.length);
    expect(learned.map((s) => s.metric.variant).sort()).toEqual(names.sort());
    for (const s of learned) expect(Number(s.value[1])).toBe(EVENTS);
    expect(await scalarOf('sum(streamnorm_dead_letters_total{mode="live"})')).toBe(BAD.length);
    expect(await scalarOf(`sum(streamnorm_batch_size_sum{mode="live",variant="linear-l1"})`)).toBe(EVENTS);
    await waitFor(
      async () => (await scalarOf(`streamnorm_predictions_published_total{topic="${output}"}`)) === EVENTS,
      30_000,
      'every prediction published',
    );
  });

  it('has sane model metrics: loss finite and >= 0, error in [0, 1], weights, normalizer gap', async () => {
    const losses = await query('streamnorm_prequential_loss{mode="live"}');
    expect(losses).toHaveLength(3);
    for (const s of losses) {
      const v = Number(s.value[1]);
      expect(Number.isFinite(v) && v >= 0, `${s.metric.variant} loss ${v}`).toBe(true);
    }
    const errors = await query('streamnorm_prequential_error_ratio{mode="live"}');
    expect(errors).toHaveLength(3);
    for (const s of errors) {
      const v = Number(s.value[1]);
      expect(v >= 0 && v <= 1, `${s.metric.variant} error ${v}`).toBe(true);
      // The stream is learnable: every variant does better than chance by the end.
      expect(v, s.metric.variant).toBeLessThan(0.5);
    }
    expect(await query('streamnorm_weight_norm{norm="l2"}')).toHaveLength(3);
    const sparsity = await query('streamnorm_weight_sparsity_ratio');
    expect(sparsity).toHaveLength(3);
    for (const s of sparsity) expect(Number(s.value[1])).toBeGreaterThanOrEqual(0);
    expect(await scalarOf('streamnorm_normalizer_train_inference_gap{variant="mlp-batch"}')).toBeGreaterThan(
      0,
    );
  });

  it('sees the consumer: partitions assigned, lag drained to 0, checkpoints recent, ready', async () => {
    expect(await scalarOf(`sum(streamnorm_consumer_assigned_partitions{topic="${topic}"})`)).toBe(2);
    await waitFor(
      async () => (await scalarOf(`max(streamnorm_consumer_lag{topic="${topic}"})`)) === 0,
      60_000,
      'lag 0',
    );
    await waitFor(
      async () => ((await scalarOf('sum(streamnorm_checkpoints_total{outcome="ok"})')) ?? 0) >= 1,
      30_000,
      'a checkpoint',
    );
    // No wall-clock bound (a loaded machine makes any fixed one flaky): the age is at most the time since the
    // pipeline started, and at scrape time it equals scrape time minus the last checkpoint's timestamp (up to
    // the scrape's own duration, under Prometheus's 10 s scrape timeout). An age in the wrong unit, counted
    // from the wrong clock or not computed at scrape fails one of these.
    const age = await scalarOf('streamnorm_checkpoint_age_seconds{mode="live"}');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThanOrEqual(Date.now() / 1000 - pipelineStartedAt);
    const last = await scalarOf('streamnorm_last_checkpoint_timestamp_seconds{mode="live"}');
    expect(last).toBeGreaterThanOrEqual(pipelineStartedAt);
    expect(last).toBeLessThanOrEqual(Date.now() / 1000);
    const mismatch = await scalarOf(
      'abs(streamnorm_checkpoint_age_seconds{mode="live"} - on(mode) (timestamp(streamnorm_checkpoint_age_seconds{mode="live"}) - streamnorm_last_checkpoint_timestamp_seconds{mode="live"}))',
    );
    expect(mismatch).toBeDefined();
    expect(mismatch).toBeLessThan(10);
    expect(await scalarOf(`streamnorm_consumer_connected{group="${group}"}`)).toBe(1);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('accepts every dashboard query (Prometheus parses and evaluates each one)', async () => {
    const exprs = dashboardExpressions(loadDashboard());
    expect(exprs.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const { where, expr } of exprs) {
      const r = await api<unknown>('/api/v1/query', { query: expr });
      if (r.status !== 'success') failures.push(`${where}: ${r.errorType} ${r.error}`);
    }
    expect(failures).toEqual([]);
    // And the core panels have data from this run.
    expect((await query(exprs.find((e) => e.where.startsWith('panel "Prequential loss'))!.expr)).length).toBe(
      3,
    );
  });

  it('loads every rule of rules.yml and evaluates each without error', async () => {
    interface RuleGroup {
      name: string;
      rules: { name: string; health: string; lastError?: string; type: string; lastEvaluation: string }[];
    }
    const expected = (
      parseYaml(readFileSync(repoPath('deploy/prometheus/rules.yml'), 'utf8')) as {
        groups: { rules: unknown[] }[];
      }
    ).groups.reduce((n, g) => n + g.rules.length, 0);
    let groups: RuleGroup[] = [];
    await waitFor(
      async () => {
        groups = (await api<{ groups: RuleGroup[] }>('/api/v1/rules')).data.groups;
        const rules = groups.flatMap((g) => g.rules);
        return rules.length === expected && rules.every((r) => r.health === 'ok');
      },
      30_000,
      'every rule evaluated and healthy',
    ).catch(() => {
      throw new Error(
        `rules not healthy: ${JSON.stringify(groups.flatMap((g) => g.rules).filter((r) => r.health !== 'ok'))}`,
      );
    });
    // A recording rule computed from this run: events per second per variant.
    await waitFor(
      async () => (await query('variant_mode:streamnorm_events:rate1m{mode="live"}')).length === 3,
      30_000,
      'recorded rate per variant',
    );
  });

  it('the live /metrics output lints clean and has every name the dashboard and the rules use', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain(
      `streamnorm_consumer_lag{consumergroup="${group}",topic="${topic}",partition="1"}`,
    );
    const lint = promtool(['check', 'metrics'], text);
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    expect(unknownNamesSingleProcess(exposedNames(text))).toEqual([]);
  });
});
