/**
 * `streamnorm run`: the long-running consumer. Learns every event of a topic with one or more model
 * variants (predict, then learn, per batch), publishes predictions keyed by event id, checkpoints model
 * state with the offsets, and serves Prometheus metrics. SIGTERM / SIGINT stop it gracefully.
 */
import { LoggingDeadLetterSink } from '../streams/deadLetters.js';
import { parsePartitionKey } from '../streams/event.js';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import { LiveReadiness } from '../metrics/readiness.js';
import { startMetricsServer } from '../metrics/server.js';
import { createRegistry } from '../metrics/createRegistry.js';
import { trackEventLoopDelay } from '../metrics/eventLoopDelay.js';
import type { ModelState } from '../models/types.js';
import { readFileSync } from 'node:fs';
import {
  FileCheckpointStore,
  checkCheckpointFits,
  defaultCheckpointDir,
  parseCheckpoint,
  type Checkpoint,
} from '../streams/checkpointStore.js';
import { createEventDecoder, type XShape } from '../streams/decodeEvents.js';
import { liveMetricsHooks, pipelineMetricsFor } from '../streams/instrument.js';
import {
  createConsumer,
  endOffsets,
  ensureTopic,
  withAdmin,
  type KafkaClient,
} from '../streams/kafka/client.js';
import { runLivePipeline } from '../streams/livePipeline.js';
import { PREDICTION_PRODUCER } from '../streams/toKafka.js';
import type { RunningScore } from '../streams/prequential.js';
import { batchPolicy, maxWaitMs, withMaxWait } from './batchPolicy.js';
import { requireSetting, resolveConfig, type Config, type VariantConfig } from './config.js';
import { RUN_EXIT_CODES_HELP } from './exit.js';
import {
  addKafkaOptions,
  consumerTimeouts,
  kafkaConnection,
  kafkaPropertiesFromFlags,
  type KafkaFlags,
} from './kafkaSettings.js';
import { cliKafka } from './kafka.js';
import { createLogger, type Logger } from './logger.js';
import {
  addMetricsSecurityOptions,
  metricsSecurityFromFlags,
  metricsServerSecurity,
  type MetricsSecurityFlags,
} from './metricsOptions.js';
import { port, positiveInt } from './options.js';
import { DEFAULT_MAX_ABS } from '../streams/fitSchema.js';
import { buildModels, defaultVariants, parseVariantList } from './variants.js';
import { ScaleOut } from '../scale/scaleOut.js';
import { SYNC_BN_IDLE_MS, SYNC_BN_TIMEOUT_MS, SyncBn } from '../scale/syncBn.js';
import { hasBatchNorm } from '../scale/syncBnModels.js';
import { findSavepoint } from './savepoint.js';
import {
  addModelOptions,
  streamIsRegression,
  variantsWithModelFlags,
  type ModelFlags,
} from './modelOptions.js';

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
  maxWaitMs?: number;
  /** The stream's label classes and sparse weight count, when given (flags or config). */
  classes?: number;
  dim?: number;
  /** Clip of the default models' standardized inputs; 0 = raw inputs. */
  clip?: number;
  /** The labels are numbers (every variant a regressor, `--task regression`): no classes, squared error. */
  regression?: boolean;
  /** Input bound (fitSchema). */
  maxAbs?: number;
  /** Where checkpoints live: local files (default) or the group's compacted state topic (scale-out). */
  state?: 'file' | 'kafka';
  /** This process's replica id with `state: 'kafka'` (default `<hostname>-<pid>`). */
  replicaId?: string;
  /** With `state: 'kafka'`: audit log of the event ids each durable checkpoint covers. */
  learnedIds?: string;
  /** Checkpoint at most this long after un-saved progress (default 1000 ms). */
  checkpointIntervalMs?: number;
  /** Local checkpoints kept, newest first (default 2; FileCheckpointStore `keep`). */
  checkpointKeep?: number;
  /** Start from this savepoint (a name in the checkpoint directory, or a file) instead of the latest checkpoint. */
  fromSavepoint?: string;
  /**
   * With `state: 'kafka'`: synchronized BatchNorm across the group's members (src/scale/syncBn.ts): how long a step
   * waits for its peers before it uses local statistics, and how long without data before this replica stands in
   * with count-0 steps. Absent: off.
   */
  syncBn?: { timeoutMs: number; idleMs: number };
}

/** What a refused savepoint tells the user to do. */
const SAVEPOINT_ADVICE =
  'choose a savepoint taken from this topic with these variants (streamnorm savepoint --list), or run without --from-savepoint';

/** `--acks`: `all` or `-1` (every in-sync replica), `leader` or `1`. */
function acksOption(v: string): 'all' | 'leader' {
  if (v === 'all' || v === '-1') return 'all';
  if (v === 'leader' || v === '1') return 'leader';
  throw new InvalidArgumentError(`expected all (-1) or leader (1), got '${v}'`);
}

function compressionOption(v: string): 'none' | 'gzip' {
  if (v === 'none' || v === 'gzip') return v;
  throw new InvalidArgumentError(`expected none or gzip, got '${v}'`);
}

/** Runs the live pipeline until stopped (signal, or `maxEvents` learned); prints the scores at the end. */
export async function runLive(cfg: Config, t: LiveTarget, log: Logger): Promise<void> {
  const brokers = requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
  const timeouts = consumerTimeouts(cfg.kafka);
  const kafka = await cliKafka(brokers, log, cfg.clientId ?? 'streamnorm', cfg.kafka);
  await ensureTopic(kafka, t.topic);
  if (t.outputTopic !== undefined) await ensureTopic(kafka, t.outputTopic);
  const dir = t.checkpointDir ?? cfg.checkpointDir ?? defaultCheckpointDir('checkpoints', t.group, t.topic);
  const registry = createRegistry();
  const metrics = pipelineMetricsFor(registry);
  const onFallback = (): void => metrics.checkpointFallback('live');
  const fileStore = (): FileCheckpointStore =>
    new FileCheckpointStore(dir, {
      ...(t.checkpointKeep === undefined ? {} : { keep: t.checkpointKeep }),
      onFallback: (f) => {
        log.warn(
          { path: f.path, movedTo: f.movedTo, reason: f.reason, sequence: f.sequence },
          'newest checkpoint unusable: resuming from the previous one',
        );
        onFallback();
      },
    });
  // --from-savepoint: that savepoint's models and offsets instead of the latest checkpoint, checked first
  let savepoint: { checkpoint: Checkpoint; path: string; advice: string } | undefined;
  if (t.fromSavepoint !== undefined) {
    const path = findSavepoint(dir, t.fromSavepoint);
    const checkpoint = parseCheckpoint(readFileSync(path), path);
    checkCheckpointFits(
      checkpoint,
      {
        topic: t.topic,
        endOffsets: await endOffsets(kafka, t.topic),
        ...(t.variants === undefined
          ? {}
          : {
              variantNames: t.variants.map((v) => v.name),
              variants: Object.fromEntries(t.variants.map((v) => [v.name, v])),
            }),
        schema: { classes: t.classes, dim: t.dim },
      },
      path,
      SAVEPOINT_ADVICE,
    );
    savepoint = { checkpoint, path, advice: SAVEPOINT_ADVICE };
    // The consumer positions a partition when its first batch arrives; the group's committed offsets (past the
    // savepoint's) would deliver none from a topic with nothing new, so the group is moved back first.
    const partitions = Object.entries(checkpoint.offsets)
      .map(([key, offset]) => ({ ...parsePartitionKey(key), offset }))
      .filter((p) => p.topic === t.topic)
      .map(({ partition, offset }) => ({ partition, offset }));
    if (partitions.length > 0)
      await withAdmin(kafka, (admin) =>
        admin.setOffsets({ groupId: t.group, topic: t.topic, partitions }),
      ).catch((err: unknown) => {
        throw new ConfigError(
          `--from-savepoint: cannot move group '${t.group}' to the savepoint's offsets (${err instanceof Error ? err.message : String(err)}); stop the group's other consumers first`,
          { cause: err },
        );
      });
  }
  // --state kafka: this process is one replica of the group's models (src/scale/scaleOut.ts).
  const scale =
    t.state === 'kafka'
      ? new ScaleOut({
          kafka,
          groupId: t.group,
          ...(t.replicaId === undefined ? {} : { replica: t.replicaId }),
          ...(t.learnedIds === undefined ? {} : { learnedIdsFile: t.learnedIds }),
          registry,
          logger: log,
        })
      : null;
  if (scale !== null) await scale.start();
  const saved =
    savepoint?.checkpoint ?? (scale !== null ? await scale.store.load() : await fileStore().load());
  // The stream's schema, fixed before the first event: flags/config, else the checkpoint's, else the first
  // valid event's shape (peeked) and the default of 2 classes.
  const savedSchema = saved?.schema ?? null;
  const classes =
    t.classes ?? (typeof savedSchema?.classes === 'number' ? savedSchema.classes : undefined) ?? 2;
  let variants: VariantConfig[];
  let shape: XShape | null = (savedSchema?.x as XShape | null | undefined) ?? null;
  if (saved !== null) {
    variants = t.variants ?? Object.keys(saved.models).map((name) => ({ name }));
    log.info(
      {
        dir,
        sequence: saved.sequence,
        variants: variants.map((v) => v.name),
        ...(savepoint === undefined ? {} : { savepoint: savepoint.path }),
      },
      savepoint === undefined ? 'resuming from checkpoint' : 'starting from savepoint',
    );
  } else {
    shape = await peekShape(kafka, t.topic, log);
    if (shape.kind === 'sparse' && t.dim !== undefined) shape = { kind: 'sparse', dim: t.dim };
    variants = t.variants ?? defaultVariants(shape, t.clip);
  }
  if (shape?.kind === 'sparse' && t.dim !== undefined) shape = { kind: 'sparse', dim: t.dim };
  const specs = Object.fromEntries(variants.map((v) => [v.name, v]));
  let syncBn: SyncBn | null = null;
  if (t.syncBn !== undefined) {
    if (scale === null) throw new ConfigError('--sync-bn needs --state kafka');
    try {
      // The models as they will be built: refuse a run with nothing to synchronize before consuming anything.
      const probe = buildModels(variants, shape, classes, saved?.models ?? null);
      if (!Object.values(probe).some(hasBatchNorm)) {
        throw new ConfigError(
          `--sync-bn: no variant has a BatchNorm layer (variants: ${variants.map((v) => v.name).join(', ')}); give one, e.g. --model mlp --normalizer batch`,
        );
      }
      syncBn = await SyncBn.start({
        client: {
          brokers,
          clientId: cfg.clientId ?? 'streamnorm',
          retries: 5,
          ...kafkaConnection(cfg.kafka),
        },
        groupId: t.group,
        timeoutMs: t.syncBn.timeoutMs,
        idleMs: t.syncBn.idleMs,
        registry,
        logger: log,
      });
    } catch (err) {
      // Nothing consumed yet: stop the sync feed this process started, or it would keep the process alive.
      await scale.close();
      throw err;
    }
  }
  const readiness = new LiveReadiness({
    ...(cfg.metrics?.readyWindowMs === undefined ? {} : { windowMs: cfg.metrics.readyWindowMs }),
    ...(cfg.metrics?.readyMaxLag === undefined ? {} : { maxLag: cfg.metrics.readyMaxLag }),
  });
  const eventLoop = trackEventLoopDelay(registry);
  const server = await startMetricsServer({
    registry,
    host: cfg.metrics?.host ?? '127.0.0.1',
    port: cfg.metrics?.port ?? 9464,
    ...metricsServerSecurity(cfg.metrics),
    readiness: () => readiness.report(),
    ...(cfg.metrics?.snapshotMs === undefined ? {} : { snapshotMs: cfg.metrics.snapshotMs }),
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
    readiness,
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
      // Every rejected message also gets a log line (at most 10 a minute), topic or no topic.
      deadLetters: new LoggingDeadLetterSink(log),
      createModels: (states: Readonly<Record<string, ModelState>> | null) => {
        const models = buildModels(variants, shape, classes, states);
        const replicated = scale === null ? models : scale.wrap(models);
        return syncBn === null ? replicated : syncBn.wrap(replicated);
      },
      checkpoint: scale?.store ?? fileStore(),
      ...(savepoint === undefined ? {} : { resumeFrom: savepoint }),
      ...(t.checkpointIntervalMs === undefined ? {} : { checkpointEvery: { ms: t.checkpointIntervalMs } }),
      ...(scale === null ? {} : { checkpointMeta: () => scale.checkpointMeta(), positionsFromGroup: true }),
      onCheckpointFallback: onFallback,
      schema: { ...(shape === null ? {} : { x: shape }), label: t.regression === true ? {} : { classes } },
      maxAbs: t.maxAbs ?? DEFAULT_MAX_ABS,
      variantSpecs: specs,
      expectCheckpoint: {
        ...(t.variants === undefined ? {} : { variants: specs }),
        schema: { classes: t.classes, dim: t.dim },
      },
      rebatch: withMaxWait(cfg.batch ?? { count: 32 }, t.maxWaitMs),
      ...timeouts,
      ...(cfg.producer === undefined ? {} : { producer: cfg.producer }),
      logger: log,
      ...hooks,
      onGroupJoin: (info) => {
        hooks.onGroupJoin?.(info);
        scale?.onGroupJoin(info, t.topic);
        syncBn?.onGroupJoin(info);
      },
      onResult: (r) => {
        hooks.onResult(r);
        scale?.onResult(r);
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
    readiness.connected(false);
    printScores(summary.scores, summary.messages, summary.checkpoints, t.regression === true);
    log.info(
      { messages: summary.messages, checkpoints: summary.checkpoints, offsets: summary.offsets },
      'stopped',
    );
  } finally {
    await server.close();
    eventLoop.stop();
    await syncBn?.close();
    await scale?.close();
  }
}

function printScores(
  scores: Record<string, RunningScore>,
  messages: number,
  checkpoints: number,
  regression = false,
): void {
  const rows = Object.entries(scores).map(([v, s]) => [
    v,
    String(s.labeled),
    Number.isFinite(s.loss) ? s.loss.toFixed(4) : '-',
    Number.isFinite(s.error) ? `${(100 * s.error).toFixed(2)}%` : '-',
  ]);
  const header = ['variant', 'learned', regression ? 'MSE' : 'log loss', 'error'];
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]): string =>
    r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ');
  process.stdout.write(`${messages} messages learned in total, ${checkpoints} checkpoints this run\n`);
  process.stdout.write(
    [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n') + '\n',
  );
}

interface RunFlags extends KafkaFlags, MetricsSecurityFlags, ModelFlags {
  brokers?: string;
  topic?: string;
  outputTopic?: string;
  group?: string;
  variant?: string;
  batch?: ReturnType<typeof batchPolicy>;
  maxWaitMs?: number;
  metricsPort?: number;
  metricsHost?: string;
  readyWindowMs?: number;
  readyMaxLag?: number;
  metricsSnapshotMs?: number;
  checkpointDir?: string;
  maxEvents?: number;
  classes?: number;
  dim?: number;
  clip?: number;
  maxAbs?: number;
  config?: string;
  logLevel?: string;
  acks?: 'all' | 'leader';
  compression?: 'none' | 'gzip';
  lingerMs?: number;
  maxInFlightSends?: number;
  sendBatch?: number;
  state?: 'file' | 'kafka';
  replicaId?: string;
  learnedIds?: string;
  checkpointIntervalMs?: number;
  checkpointKeep?: number;
  fromSavepoint?: string;
  syncBn?: boolean;
  syncBnTimeoutMs?: number;
  syncBnIdleMs?: number;
}

function nonNegativeNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a number >= 0, got '${v}'`);
  return n;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected an integer >= 0, got '${v}'`);
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a number > 0, got '${v}'`);
  return n;
}

export function registerRun(program: Command): void {
  addModelOptions(addMetricsSecurityOptions(addKafkaOptions(program.command('run'))))
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
    .option(
      '--max-wait-ms <ms>',
      'flush a partial count or poisson batch when no event arrived for this long (default 100; 0 = wait for a full batch)',
      maxWaitMs,
    )
    .addHelpText(
      'after',
      '\nBatching: events are learned in batches of --batch (default 32 events). A partial batch waits at most\n' +
        '--max-wait-ms after the last event arrived (default 100 ms), so the tail of a quiet topic is predicted\n' +
        'and learned within that time instead of waiting for more events. A burst is still cut into full batches;\n' +
        'with --max-wait-ms 0, or with the arrival policy, nothing is flushed by time. A config file sets\n' +
        'batch: { count, maxWaitMs, maxAgeMs } (maxAgeMs: also flush once the oldest event waited that long).\n',
    )
    .option(
      '--acks <acks>',
      `predictions: acknowledged by all in-sync replicas or the leader only, 'all' | 'leader' (default ${PREDICTION_PRODUCER.acks})`,
      acksOption,
    )
    .option(
      '--compression <codec>',
      `predictions: compression of each produce request, 'none' | 'gzip' (default ${PREDICTION_PRODUCER.compression})`,
      compressionOption,
    )
    .option(
      '--linger-ms <ms>',
      `predictions: how long a partial request waits for more when none is on the wire (default ${PREDICTION_PRODUCER.lingerMs})`,
      nonNegativeNumber,
    )
    .option(
      '--max-in-flight-sends <n>',
      `predictions: produce requests on the wire at once (default ${PREDICTION_PRODUCER.maxInFlight})`,
      positiveInt,
    )
    .option(
      '--send-batch <n>',
      `predictions: most records per produce request (default ${PREDICTION_PRODUCER.batchRecords})`,
      positiveInt,
    )
    .option('--metrics-port <port>', 'metrics port (default 9464; 0 = any free port)', port)
    .option('--metrics-host <host>', 'metrics bind address (default 127.0.0.1)')
    .option(
      '--ready-window-ms <ms>',
      '/readyz: lag > 0 with no progress for this long is not ready (default 60000); an idle topic stays ready',
      positiveInt,
    )
    .option(
      '--ready-max-lag <n>',
      '/readyz: lag above n for the whole window is not ready (default: no bound)',
      positiveInt,
    )
    .option(
      '--metrics-snapshot-ms <ms>',
      'one collection of /metrics serves every scrape for this long (default 1000; the bench scrapes at 50)',
      positiveInt,
    )
    .option(
      '--checkpoint-dir <dir>',
      'checkpoint directory (default checkpoints/<group>/<topic>, both made safe path segments)',
    )
    .option(
      '--checkpoint-interval-ms <ms>',
      'checkpoint at most this long after un-saved progress (default 1000; or STREAMNORM_CHECKPOINT_INTERVAL_MS)',
      positiveInt,
    )
    .option(
      '--checkpoint-keep <k>',
      'keep the k newest checkpoints, older ones under <dir>/history (default 2: the newest and the previous, which a damaged newest falls back to)',
      positiveInt,
    )
    .option(
      '--from-savepoint <name|path>',
      'start from this savepoint (see streamnorm savepoint) instead of the latest checkpoint: its models and offsets; refused (exit 6) when it is of another topic or other variants. Give it once: every later checkpoint goes on from there',
    )
    .option('--max-events <n>', 'stop gracefully after learning n events', positiveInt)
    .option(
      '--classes <n>',
      'label classes of the stream (default: the checkpoint, else 2); a label outside them is a dead letter',
      positiveInt,
    )
    .option(
      '--dim <n>',
      'weight count of sparse events (hashed features); an index >= dim is a dead letter',
      positiveInt,
    )
    .option(
      '--clip <k>',
      'default models: standardize inputs and clip them at ±k standard deviations (default 5; 0 = raw inputs)',
      nonNegativeNumber,
    )
    .option(
      '--max-abs <v>',
      `input bound: an event with |x| or |y| above it is a dead letter (default ${DEFAULT_MAX_ABS})`,
      positiveNumber,
    )
    .option(
      '--state <where>',
      "checkpoints: 'file' (local, --checkpoint-dir) or 'kafka' (the group's compacted state topic, with replicas of one model across the group: docs/scale-out.md); default 'kafka' when --replica-id makes this process a replica, else 'file' (or STREAMNORM_STATE)",
      (v: string) => {
        if (v !== 'file' && v !== 'kafka')
          throw new InvalidArgumentError(`expected 'file' or 'kafka', got '${v}'`);
        return v;
      },
    )
    .option(
      '--replica-id <id>',
      "with --state kafka: this process's replica id, stable across its restarts (default <hostname>-<pid>)",
    )
    .option(
      '--learned-ids <file>',
      'with --state kafka: append the ids of the events each durable checkpoint covers (JSON lines; an exactly-once audit)',
    )
    .option(
      '--sync-bn',
      "with --state kafka: synchronized BatchNorm: every BatchNorm layer pools its training statistics with the group's other members at each step, through the topic <group>-syncbn (docs/scale-out.md); every member must run with it",
    )
    .option(
      '--sync-bn-timeout-ms <ms>',
      `with --sync-bn: a step whose peers have not all answered by then uses local statistics (counted) (default ${SYNC_BN_TIMEOUT_MS})`,
      positiveInt,
    )
    .option(
      '--sync-bn-idle-ms <ms>',
      `with --sync-bn: after this long without data of its own, a replica stands in for its steps with count-0 contributions, so it never stalls its peers (default ${SYNC_BN_IDLE_MS})`,
      nonNegativeInt,
    )
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .addHelpText('after', RUN_EXIT_CODES_HELP)
    .action(async (flags: RunFlags) => {
      const cfg = resolveConfig(
        {
          brokers: flags.brokers,
          topic: flags.topic,
          outputTopic: flags.outputTopic,
          group: flags.group,
          checkpointDir: flags.checkpointDir,
          checkpointIntervalMs: flags.checkpointIntervalMs,
          checkpointKeep: flags.checkpointKeep,
          state: flags.state,
          logLevel: flags.logLevel as never,
          kafka: kafkaPropertiesFromFlags(flags),
          ...(flags.batch === undefined ? {} : { batch: flags.batch }),
          producer: {
            acks: flags.acks,
            compression: flags.compression,
            lingerMs: flags.lingerMs,
            maxInFlight: flags.maxInFlightSends,
            batchRecords: flags.sendBatch,
          },
          metrics: {
            ...(flags.metricsPort === undefined ? {} : { port: flags.metricsPort }),
            ...(flags.metricsHost === undefined ? {} : { host: flags.metricsHost }),
            ...(flags.readyWindowMs === undefined ? {} : { readyWindowMs: flags.readyWindowMs }),
            ...(flags.readyMaxLag === undefined ? {} : { readyMaxLag: flags.readyMaxLag }),
            ...(flags.metricsSnapshotMs === undefined ? {} : { snapshotMs: flags.metricsSnapshotMs }),
            ...metricsSecurityFromFlags(flags),
          },
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'info');
      requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
      const topic = requireSetting(cfg.topic, '--topic', 'topic', 'STREAMNORM_TOPIC');
      const group = requireSetting(cfg.group, '--group', 'group', 'STREAMNORM_GROUP');
      // --model and its options (modelOptions.ts): one variant, or options for each of --variants / config's
      const variants = variantsWithModelFlags(
        flags,
        flags.variant !== undefined ? parseVariantList(flags.variant) : undefined,
        cfg.variants,
        '--variants',
      );
      const classes = flags.classes ?? cfg.classes;
      if (classes !== undefined && classes < 2)
        throw new ConfigError(`--classes: expected an integer >= 2, got ${classes}`);
      const regression = streamIsRegression(variants, classes);
      if (flags.hashDim !== undefined && flags.dim !== undefined && flags.hashDim !== flags.dim)
        throw new ConfigError(`--hash-dim and --dim name the same weight count; give one`);
      // A replica of the group's models (--replica-id) keeps its state in Kafka unless told otherwise.
      const state = cfg.state ?? (flags.replicaId !== undefined ? 'kafka' : 'file');
      if (state !== 'kafka' && (flags.replicaId !== undefined || flags.learnedIds !== undefined))
        throw new ConfigError('--replica-id and --learned-ids need --state kafka');
      if (state === 'kafka' && (flags.fromSavepoint !== undefined || cfg.checkpointKeep !== undefined))
        throw new ConfigError(
          '--from-savepoint and --checkpoint-keep are for local checkpoints (--state file); the state topic keeps the latest state of each replica',
        );
      if (
        state !== 'kafka' &&
        (flags.syncBn === true || flags.syncBnTimeoutMs !== undefined || flags.syncBnIdleMs !== undefined)
      )
        throw new ConfigError(
          '--sync-bn needs --state kafka: the replicas that pool their BatchNorm statistics are the members of a scale-out group',
        );
      if (flags.syncBn !== true && (flags.syncBnTimeoutMs !== undefined || flags.syncBnIdleMs !== undefined))
        throw new ConfigError('--sync-bn-timeout-ms and --sync-bn-idle-ms need --sync-bn');
      const dim = flags.hashDim ?? flags.dim ?? cfg.dim;
      const clip = flags.clip ?? cfg.clip;
      await runLive(
        cfg,
        {
          ...(variants === undefined ? {} : { variants }),
          ...(classes === undefined ? {} : { classes }),
          ...(regression ? { regression } : {}),
          ...(dim === undefined ? {} : { dim }),
          ...(clip === undefined ? {} : { clip }),
          ...(flags.maxAbs === undefined ? {} : { maxAbs: flags.maxAbs }),
          topic,
          group,
          ...(cfg.outputTopic === undefined ? {} : { outputTopic: cfg.outputTopic }),
          ...(flags.maxEvents === undefined ? {} : { maxEvents: flags.maxEvents }),
          ...(flags.maxWaitMs === undefined ? {} : { maxWaitMs: flags.maxWaitMs }),
          state,
          ...(cfg.checkpointIntervalMs === undefined
            ? {}
            : { checkpointIntervalMs: cfg.checkpointIntervalMs }),
          ...(cfg.checkpointKeep === undefined ? {} : { checkpointKeep: cfg.checkpointKeep }),
          ...(flags.fromSavepoint === undefined ? {} : { fromSavepoint: flags.fromSavepoint }),
          ...(flags.replicaId === undefined ? {} : { replicaId: flags.replicaId }),
          ...(flags.learnedIds === undefined ? {} : { learnedIds: flags.learnedIds }),
          ...(flags.syncBn === true
            ? {
                syncBn: {
                  timeoutMs: flags.syncBnTimeoutMs ?? SYNC_BN_TIMEOUT_MS,
                  idleMs: flags.syncBnIdleMs ?? SYNC_BN_IDLE_MS,
                },
              }
            : {}),
        },
        log,
      );
    });
}
