/**
 * `streamnorm run`: the long-running consumer. Learns every event of a topic with one or more model
 * variants (predict, then learn, per batch), publishes predictions keyed by event id, checkpoints model
 * state with the offsets, and serves Prometheus metrics. SIGTERM / SIGINT stop it gracefully.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { startMetricsServer } from '../metrics/server.js';
import { createRegistry } from '../metrics/registry.js';
import type { ModelState } from '../models/types.js';
import { FileCheckpointStore } from '../streams/checkpointStore.js';
import { createEventDecoder, type XShape } from '../streams/decodeEvents.js';
import { liveMetricsHooks, pipelineMetricsFor } from '../streams/instrument.js';
import { createConsumer, ensureTopic, type KafkaClient } from '../streams/kafka/client.js';
import { runLivePipeline } from '../streams/livePipeline.js';
import type { RunningScore } from '../streams/prequential.js';
import { batchPolicy } from './batchPolicy.js';
import { requireSetting, resolveConfig, type Config, type VariantConfig } from './config.js';
import { addKafkaOptions, kafkaPropertiesFromFlags, type KafkaFlags } from './kafkaSettings.js';
import { cliKafka } from './kafka.js';
import { createLogger, type Logger } from './logger.js';
import { port, positiveInt } from './options.js';
import { buildModels, defaultVariants, parseVariantList } from './variants.js';

/** Reads the topic from the beginning with a throwaway group until the first valid event, and returns its shape. */
export async function peekShape(kafka: KafkaClient, topic: string, log: Logger): Promise<XShape> {
  const consumer = createConsumer(kafka, { groupId: `streamnorm-peek-${process.pid}-${Date.now()}` });
  const decoder = createEventDecoder({ x: 'infer' });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    log.info({ topic }, 'waiting for the first valid event to choose the model shape');
    return await new Promise<XShape>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            const d = decoder.decode({
              origin: { topic, partition, offset: message.offset, timestamp: Number(message.timestamp) },
              key: message.key?.toString() ?? null,
              value: message.value ?? Buffer.alloc(0),
              receivedAt: Date.now(),
            });
            if ('event' in d && decoder.shape !== null) resolve(decoder.shape);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

export interface LiveTarget {
  variants?: VariantConfig[];
  topic: string;
  group: string;
  outputTopic?: string;
  checkpointDir?: string;
  maxEvents?: number;
}

/** Runs the live pipeline until stopped (signal, or `maxEvents` learned); prints the scores at the end. */
export async function runLive(cfg: Config, t: LiveTarget, log: Logger): Promise<void> {
  const brokers = requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
  const kafka = await cliKafka(brokers, log, cfg.clientId ?? 'streamnorm', cfg.kafka);
  await ensureTopic(kafka, t.topic);
  if (t.outputTopic !== undefined) await ensureTopic(kafka, t.outputTopic);
  const dir = t.checkpointDir ?? cfg.checkpointDir ?? join('checkpoints', t.group);
  const saved = await new FileCheckpointStore(dir).load();
  let variants: VariantConfig[];
  let shape: XShape | null = null;
  if (saved !== null) {
    variants = t.variants ?? Object.keys(saved.models).map((name) => ({ name }));
    log.info(
      { dir, sequence: saved.sequence, variants: variants.map((v) => v.name) },
      'resuming from checkpoint',
    );
  } else {
    shape = await peekShape(kafka, t.topic, log);
    variants = t.variants ?? defaultVariants(shape);
  }
  const registry = createRegistry();
  const metrics = pipelineMetricsFor(registry);
  const server = await startMetricsServer({
    registry,
    host: cfg.metrics?.host ?? '127.0.0.1',
    port: cfg.metrics?.port ?? 9464,
    readiness: () => metrics.readiness(),
  });
  log.info(
    {
      url: `${server.url}/metrics`,
      topic: t.topic,
      group: t.group,
      variants: variants.map((v) => v.name),
      checkpointDir: dir,
    },
    'consuming',
  );
  let learned = 0;
  const hooks = liveMetricsHooks(metrics, {
    groupId: t.group,
    ...(t.outputTopic === undefined ? {} : { outputTopic: t.outputTopic }),
  });
  let handle: Awaited<ReturnType<typeof runLivePipeline>> | undefined;
  let reached = false;
  try {
    handle = await runLivePipeline({
      kafka,
      topic: t.topic,
      groupId: t.group,
      ...(t.outputTopic === undefined ? {} : { outputTopic: t.outputTopic }),
      ...(cfg.deadLetterTopic === undefined ? {} : { deadLetterTopic: cfg.deadLetterTopic }),
      createModels: (states: Readonly<Record<string, ModelState>> | null) => {
        return buildModels(variants, shape, 2, states);
      },
      checkpoint: dir,
      ...(shape === null ? {} : { schema: { x: shape } }),
      rebatch: cfg.batch ?? { count: 32 },
      logger: log,
      ...hooks,
      onResult: (r) => {
        hooks.onResult(r);
        learned += r.envelopes.length;
        if (t.maxEvents !== undefined && learned >= t.maxEvents && !reached) {
          reached = true;
          // Stop after this batch has gone through the checkpoint stage, not from inside it.
          setTimeout(() => void handle?.stop(), 0);
        }
      },
    });
    if (reached) void handle.stop();
    const summary = await handle.done;
    metrics.consumerConnectedChanged(false, t.group);
    printScores(summary.scores, summary.messages, summary.checkpoints);
    log.info(
      { messages: summary.messages, checkpoints: summary.checkpoints, offsets: summary.offsets },
      'stopped',
    );
  } finally {
    await server.close();
  }
}

function printScores(scores: Record<string, RunningScore>, messages: number, checkpoints: number): void {
  const rows = Object.entries(scores).map(([v, s]) => [
    v,
    String(s.labeled),
    Number.isFinite(s.loss) ? s.loss.toFixed(4) : '-',
    Number.isFinite(s.error) ? `${(100 * s.error).toFixed(2)}%` : '-',
  ]);
  const header = ['variant', 'learned', 'log loss', 'error'];
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]): string =>
    r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ');
  process.stdout.write(`${messages} messages learned in total, ${checkpoints} checkpoints this run\n`);
  process.stdout.write(
    [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n') + '\n',
  );
}

interface RunFlags extends KafkaFlags {
  brokers?: string;
  topic?: string;
  outputTopic?: string;
  group?: string;
  variant?: string;
  batch?: ReturnType<typeof batchPolicy>;
  metricsPort?: number;
  metricsHost?: string;
  checkpointDir?: string;
  maxEvents?: number;
  config?: string;
  logLevel?: string;
}

export function registerRun(program: Command): void {
  addKafkaOptions(program.command('run'))
    .description(
      'consume a Kafka topic: predict then learn per batch with one or more variants, publish predictions, checkpoint, serve metrics',
    )
    .option('--brokers <list>', 'Kafka brokers host:port[,host:port] (or KAFKA_BROKERS / STREAMNORM_BROKERS)')
    .option('--topic <topic>', 'input topic (or STREAMNORM_TOPIC)')
    .option('--output-topic <topic>', 'predictions topic, keyed by event id (or STREAMNORM_OUTPUT_TOPIC)')
    .option('--group <id>', 'consumer group id (or STREAMNORM_GROUP)')
    .option(
      '--variant <list>',
      "model variants: comma-separated normalizers (WindowNet), NAME=NORMALIZER, or 'linear' (default: chosen from the first event's shape)",
    )
    .option('--batch <policy>', "'arrival', a count, or poisson:MEAN (default 32)", batchPolicy)
    .option('--metrics-port <port>', 'metrics port (default 9464; 0 = any free port)', port)
    .option('--metrics-host <host>', 'metrics bind address (default 127.0.0.1)')
    .option('--checkpoint-dir <dir>', 'checkpoint directory (default checkpoints/<group>)')
    .option('--max-events <n>', 'stop gracefully after learning n events', positiveInt)
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .action(async (flags: RunFlags) => {
      const cfg = resolveConfig(
        {
          brokers: flags.brokers,
          topic: flags.topic,
          outputTopic: flags.outputTopic,
          group: flags.group,
          checkpointDir: flags.checkpointDir,
          logLevel: flags.logLevel as never,
          kafka: kafkaPropertiesFromFlags(flags),
          ...(flags.batch === undefined ? {} : { batch: flags.batch }),
          metrics: {
            ...(flags.metricsPort === undefined ? {} : { port: flags.metricsPort }),
            ...(flags.metricsHost === undefined ? {} : { host: flags.metricsHost }),
          },
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'info');
      requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
      const topic = requireSetting(cfg.topic, '--topic', 'topic', 'STREAMNORM_TOPIC');
      const group = requireSetting(cfg.group, '--group', 'group', 'STREAMNORM_GROUP');
      const variants = flags.variant !== undefined ? parseVariantList(flags.variant) : cfg.variants;
      await runLive(
        cfg,
        {
          ...(variants === undefined ? {} : { variants }),
          topic,
          group,
          ...(cfg.outputTopic === undefined ? {} : { outputTopic: cfg.outputTopic }),
          ...(flags.maxEvents === undefined ? {} : { maxEvents: flags.maxEvents }),
        },
        log,
      );
    });
}
