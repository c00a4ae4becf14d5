/**
 * Settings of the `streamnorm` command from three places, merged with a fixed precedence:
 * flags > environment variables > config file (YAML or JSON) > defaults. Everything is validated with zod;
 * a failure is one ConfigError naming the field and where it came from.
 *
 * Environment: STREAMNORM_CONFIG (config file), STREAMNORM_BROKERS or KAFKA_BROKERS, STREAMNORM_TOPIC,
 * STREAMNORM_OUTPUT_TOPIC, STREAMNORM_GROUP, STREAMNORM_METRICS_PORT, STREAMNORM_METRICS_HOST,
 * STREAMNORM_METRICS_{USERNAME,PASSWORD,PASSWORD_FILE,TLS_CERT,TLS_KEY,TLS_CA,READY_WINDOW_MS,READY_MAX_LAG},
 * STREAMNORM_CHECKPOINT_DIR, STREAMNORM_CHECKPOINT_INTERVAL_MS, STREAMNORM_CHECKPOINT_KEEP, STREAMNORM_STATE,
 * STREAMNORM_LOG_LEVEL, STREAMNORM_KAFKA_<KEY> (Kafka client settings, e.g.
 * STREAMNORM_KAFKA_SASL_PASSWORD; see kafkaSettings.ts).
 *
 * @example config.yaml
 * brokers: 127.0.0.1:9092
 * topic: sensor
 * outputTopic: sensor-predictions
 * group: streamnorm
 * kafka: { security.protocol: sasl_ssl, sasl.mechanism: SCRAM-SHA-256, sasl.username: alice,
 *          sasl.password.file: /run/secrets/kafka, ssl.ca.location: /etc/kafka/ca.pem }
 * metrics: { port: 9464, host: 127.0.0.1 }
 * batch: { count: 32 }
 * variants:
 *   - { name: bn, model: windownet, normalizer: batch }
 *   - { name: ln, model: windownet, normalizer: layer }
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError, DatasetError } from '../errors.js';
import { lossNames } from '../models/losses/createLoss.js';
import { isNormalizerSpec, normalizerGrammar } from '../normalizers/descriptors.js';
import { redact, redactBroker } from '../redact.js';
import { didYouMean } from './suggest.js';
import {
  GrammarError,
  oneOf,
  parseModelFamily,
  parseOptimizer,
  parseRegularizer,
  taskNames,
} from './modelOptions.js';
import { kafkaPropertiesFromEnv, kafkaPropertyProblem } from './kafkaSettings.js';

/** Kafka's default port, which kcat, librdkafka and Kafka's own tools assume when an address has none. */
export const DEFAULT_KAFKA_PORT = 9092;

/** `host` → `host:9092`; `host:port` as it is. */
export function withDefaultPort(address: string): string {
  return /^[^\s:,@/]+$/.test(address) ? `${address}:${DEFAULT_KAFKA_PORT}` : address;
}

const brokers = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v, ctx) => {
  const list = (Array.isArray(v) ? v : v.split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(withDefaultPort);
  for (const b of list) {
    if (!/^[^\s:,@]+:\d{1,5}$/.test(b)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `expected host:port, got '${redactBroker(b)}'${b.includes('@') ? ' (credentials go in the kafka sasl.* settings, never in the address)' : ''}`,
      });
      return z.NEVER;
    }
  }
  if (list.length === 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected at least one host:port' });
    return z.NEVER;
  }
  return list;
});
const port = z.coerce.number().int().min(0).max(65535);
/** A normalizer spec, checked against the normalizer descriptors when the config is parsed. */
const normalizerSpec = z.string().refine(isNormalizerSpec, (s) => ({
  message: `expected ${normalizerGrammar()
    .map((g) => `'${g}'`)
    .join(' | ')}${didYouMean(
    s.split(':')[0],
    normalizerGrammar().map((g) => g.split(':')[0]),
  )}`,
}));

/** A string in one of the model grammars (modelOptions.ts), parsed when the config is: flags and files agree. */
function grammar<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (e) {
      if (!(e instanceof GrammarError)) throw e;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: e.message });
      return z.NEVER;
    }
  });
}

/** A model variant as a config file (or --variant) describes it; the model module builds it. */
export const variantSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected 1-64 characters of [A-Za-z0-9_.:-]'),
    model: grammar((t) => parseModelFamily(t)).optional(),
    normalizer: normalizerSpec.optional(),
    /** The model family's options, in the grammar of the CLI flags (docs/models.md). */
    task: grammar((t) => oneOf(t, taskNames)).optional(),
    loss: grammar((t) => oneOf(t, lossNames)).optional(),
    regularizer: grammar(parseRegularizer).optional(),
    optimizer: grammar(parseOptimizer).optional(),
    hidden: z.union([z.number().int().positive(), z.array(z.number().int().positive())]).optional(),
    kernel: z.number().int().positive().optional(),
    readout: z.enum(['mean', 'last']).optional(),
    dropout: z.union([z.number().min(0).lt(1), z.array(z.number().min(0).lt(1))]).optional(),
    lr: z.number().positive().optional(),
    weightDecay: z.number().min(0).optional(),
    l1: z.number().min(0).optional(),
    l2: z.number().min(0).optional(),
    singletonPolicy: z.enum(['error', 'running-stats', 'skip']).optional(),
    seed: z.number().int().optional(),
    /** Robust learning (streaming scaler, clip at ±clip standard deviations, step guard); false: raw inputs. */
    robust: z
      .union([
        z.literal(false),
        z
          .object({ clip: z.number().positive().optional(), stepFactor: z.number().gt(1).optional() })
          .strict(),
      ])
      .optional(),
  })
  .strict();
export type VariantConfig = z.infer<typeof variantSchema>;

const batchPolicy = z.union([
  z.literal('arrival'),
  z
    .object({
      count: z.number().int().positive(),
      maxWaitMs: z.number().positive().optional(),
      maxAgeMs: z.number().positive().optional(),
    })
    .strict(),
  z
    .object({
      poisson: z.number().min(1),
      seed: z.number().int().default(1),
      maxWaitMs: z.number().positive().optional(),
      maxAgeMs: z.number().positive().optional(),
    })
    .strict(),
  z.object({ timeMs: z.number().positive(), maxCount: z.number().int().positive().optional() }).strict(),
]);

/** Kafka client settings (`-X` keys, see kafkaSettings.ts), checked key by key without echoing secrets. */
const kafkaSettings = z
  .record(z.union([z.string(), z.number(), z.boolean()]))
  .superRefine((props, ctx) => {
    for (const [key, value] of Object.entries(props)) {
      const problem = kafkaPropertyProblem(key, value);
      if (problem !== null) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem, path: [key] });
    }
  })
  .transform((props) => Object.fromEntries(Object.entries(props).map(([k, v]) => [k, String(v)])));

export const configSchema = z
  .object({
    brokers: brokers.optional(),
    kafka: kafkaSettings.optional(),
    topic: z.string().min(1).optional(),
    outputTopic: z.string().min(1).optional(),
    deadLetterTopic: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    checkpointDir: z.string().min(1).optional(),
    /** `run`: checkpoint at most this long after un-saved progress (default 1000 ms). */
    checkpointIntervalMs: z.coerce.number().int().positive().optional(),
    /** `run`: checkpoints kept, newest first (default 2: the newest and the previous; at least 2). */
    checkpointKeep: z.coerce.number().int().min(2).optional(),
    /** `run`: where checkpoints live, 'file' or 'kafka' (default 'kafka' for a replica of a group, else 'file'). */
    state: z.enum(['file', 'kafka']).optional(),
    metrics: z
      .object({
        port: port.optional(),
        host: z.string().min(1).optional(),
        /** Basic auth (metricsOptions.ts): the password from `passwordFile` or STREAMNORM_METRICS_PASSWORD, never a flag. */
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        passwordFile: z.string().min(1).optional(),
        /** HTTPS: PEM files of the certificate and key; with `tlsCa`, clients need a certificate it signed. */
        tlsCert: z.string().min(1).optional(),
        tlsKey: z.string().min(1).optional(),
        tlsCa: z.string().min(1).optional(),
        /** /readyz: how long a consumer may be behind without progress, and the lag bound (readiness.ts). */
        readyWindowMs: z.coerce.number().int().positive().optional(),
        readyMaxLag: z.coerce.number().int().positive().optional(),
        /** How long one collection of /metrics serves every scrape (default 1000 ms; server.ts `snapshot`). */
        snapshotMs: z.coerce.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    batch: batchPolicy.optional(),
    /** How `run` publishes predictions (README "Performance"); flags --acks, --compression, --linger-ms, ... */
    producer: z
      .object({
        acks: z.enum(['all', 'leader']).optional(),
        compression: z.enum(['none', 'gzip']).optional(),
        lingerMs: z.number().min(0).optional(),
        maxInFlight: z.number().int().positive().optional(),
        batchRecords: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    variants: z.array(variantSchema).min(1).optional(),
    /** The stream's schema, fixed before the first event (`run`): classes of the label, weight count of sparse x. */
    classes: z.number().int().min(2).optional(),
    dim: z.number().int().positive().optional(),
    /** Clip of the default models' standardized inputs (`run --clip`); 0 turns robust learning off. */
    clip: z.number().min(0).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    compare: z
      .object({
        dataset: z.string().min(1).optional(),
        recording: z.string().min(1).optional(),
        normalizers: z.union([z.string(), z.array(normalizerSpec)]).optional(),
        batchSizes: z
          .union([z.string(), z.array(z.union([z.number().int().positive(), z.string()]))])
          .optional(),
        seeds: z.number().int().positive().optional(),
        out: z.string().min(1).optional(),
        limit: z.number().int().positive().optional(),
        jobs: z.number().int().positive().optional(),
        /** `--arrival`: arrival orders (iid, recorded, bursty:R, keyed:R), a list or comma-separated. */
        arrival: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
        /** `--step-events`: events per optimizer step, or 'arrival'. */
        stepEvents: z.union([z.number().int().positive(), z.literal('arrival')]).optional(),
        /** `--warmup`: events left out of the after-warm-up scores. */
        warmup: z.number().int().min(0).optional(),
        model: z
          .object({
            /** `--model`: the net family compared (windownet, mlp, rnn). */
            family: grammar((t) => parseModelFamily(t)).optional(),
            hidden: z
              .union([z.number().int().positive(), z.array(z.number().int().positive()).min(1)])
              .optional(),
            kernel: z.number().int().positive().optional(),
            /** `--readout`: what an Rnn's classifier reads (mean or last hidden state). */
            readout: z.enum(['mean', 'last']).optional(),
            dropout: z.number().min(0).lt(1).optional(),
            /** `--lr`: Adam's rate, or 'auto' (the best of a grid on a tuning draw). */
            lr: z.union([z.number().positive(), z.literal('auto')]).optional(),
            weightDecay: z.number().min(0).optional(),
            singletonPolicy: z.enum(['error', 'running-stats', 'skip']).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** The flag that sets each field, so an error about a flag names the flag. */
const flagNames: Record<string, string> = {
  brokers: '--brokers',
  topic: '--topic',
  outputTopic: '--output-topic',
  deadLetterTopic: '--dead-letter-topic',
  group: '--group',
  clientId: '--client-id',
  checkpointDir: '--checkpoint-dir',
  checkpointIntervalMs: '--checkpoint-interval-ms',
  checkpointKeep: '--checkpoint-keep',
  state: '--state',
  'metrics.port': '--metrics-port',
  'metrics.host': '--metrics-host',
  'metrics.username': '--metrics-username',
  'metrics.passwordFile': '--metrics-password-file',
  'metrics.tlsCert': '--metrics-tls-cert',
  'metrics.tlsKey': '--metrics-tls-key',
  'metrics.tlsCa': '--metrics-tls-ca',
  'metrics.readyWindowMs': '--ready-window-ms',
  'metrics.readyMaxLag': '--ready-max-lag',
  'metrics.snapshotMs': '--metrics-snapshot-ms',
  logLevel: '--log-level',
  variants: '--variants',
};

/** The environment variable that sets each field, so an error about the environment names the variable. */
const envNames: Record<string, string> = {
  brokers: 'STREAMNORM_BROKERS or KAFKA_BROKERS',
  topic: 'STREAMNORM_TOPIC',
  outputTopic: 'STREAMNORM_OUTPUT_TOPIC',
  group: 'STREAMNORM_GROUP',
  checkpointDir: 'STREAMNORM_CHECKPOINT_DIR',
  checkpointIntervalMs: 'STREAMNORM_CHECKPOINT_INTERVAL_MS',
  checkpointKeep: 'STREAMNORM_CHECKPOINT_KEEP',
  state: 'STREAMNORM_STATE',
  logLevel: 'STREAMNORM_LOG_LEVEL',
  'metrics.port': 'STREAMNORM_METRICS_PORT',
  'metrics.host': 'STREAMNORM_METRICS_HOST',
};

/** The object schema inside optional/default/effects wrappers, or null. */
function objectShape(t: z.ZodTypeAny): Record<string, z.ZodTypeAny> | null {
  let cur: z.ZodTypeAny = t;
  for (let i = 0; i < 8; i++) {
    if (cur instanceof z.ZodObject) return cur.shape as Record<string, z.ZodTypeAny>;
    if (cur instanceof z.ZodArray) cur = cur.element as z.ZodTypeAny;
    else if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) cur = cur.unwrap() as z.ZodTypeAny;
    else if (cur instanceof z.ZodDefault) cur = cur._def.innerType as z.ZodTypeAny;
    else if (cur instanceof z.ZodEffects) cur = cur.innerType() as z.ZodTypeAny;
    else return null;
  }
  return null;
}

/** The fields a config object accepts at `path` (for did-you-mean on unknown fields). */
export function knownFields(path: readonly (string | number)[]): string[] {
  let shape = objectShape(configSchema);
  for (const p of path) {
    if (typeof p === 'number') continue; // an item of the array just unwrapped
    const next = shape?.[String(p)];
    shape = next === undefined ? null : objectShape(next);
  }
  return shape === null ? [] : Object.keys(shape);
}

function issueLine(err: z.ZodError, origin: string, env?: NodeJS.ProcessEnv): string {
  const issue = err.issues[0];
  const dotted = issue.path.join('.');
  const envName = origin === 'environment' ? envNames[dotted] : undefined;
  const path =
    issue.path.length === 0
      ? '(root)'
      : origin === 'flags'
        ? (flagNames[dotted] ?? flagNames[String(issue.path[0])] ?? dotted)
        : (envName ?? dotted);
  const extra = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : '';
  if (issue.code === z.ZodIssueCode.unrecognized_keys)
    return redact(
      `${origin}: unknown field ${issue.keys
        .map((k) => (path === '(root)' ? k : `${path}.${k}`) + didYouMean(k, knownFields(issue.path)))
        .join(', ')}${extra}`,
    );
  if (envName !== undefined && env !== undefined) {
    // the variable's own text, not the coerced value (a port of 'abc' is not 'NaN')
    const name = envName.split(' or ')[0];
    const text = env[name] ?? (dotted === 'brokers' ? env.KAFKA_BROKERS : undefined);
    const shown = text === undefined || dotted === 'brokers' ? '' : ` = ${JSON.stringify(text)}`;
    return redact(`${origin}: bad value for ${path}${shown}: ${issue.message}${extra}`);
  }
  return redact(`${origin}: bad value for ${path}: ${issue.message}${extra}`);
}

/** Validates one layer of settings, naming its origin ('config file x.yaml', 'environment', 'flags') in errors. */
export function parseConfig(raw: unknown, origin: string, env?: NodeJS.ProcessEnv): Config {
  const r = configSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(issueLine(r.error, origin, env));
  return r.data;
}

/** Reads a YAML or JSON config file. Missing file: DatasetError-like I/O failure; bad content: ConfigError. */
export function readConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new DatasetError(`cannot read config file ${path} (${code})`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    throw new ConfigError(
      `config file ${path}: not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${msg}`,
      { cause: err },
    );
  }
  if (raw === null || raw === undefined) raw = {};
  return parseConfig(raw, `config file ${path}`);
}

/** Settings from environment variables (only the ones set). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  const b = env.STREAMNORM_BROKERS ?? env.KAFKA_BROKERS;
  if (b !== undefined && b !== '') raw.brokers = b;
  if (env.STREAMNORM_TOPIC) raw.topic = env.STREAMNORM_TOPIC;
  if (env.STREAMNORM_OUTPUT_TOPIC) raw.outputTopic = env.STREAMNORM_OUTPUT_TOPIC;
  if (env.STREAMNORM_GROUP) raw.group = env.STREAMNORM_GROUP;
  if (env.STREAMNORM_CHECKPOINT_DIR) raw.checkpointDir = env.STREAMNORM_CHECKPOINT_DIR;
  if (env.STREAMNORM_CHECKPOINT_INTERVAL_MS) raw.checkpointIntervalMs = env.STREAMNORM_CHECKPOINT_INTERVAL_MS;
  if (env.STREAMNORM_CHECKPOINT_KEEP) raw.checkpointKeep = env.STREAMNORM_CHECKPOINT_KEEP;
  if (env.STREAMNORM_STATE) raw.state = env.STREAMNORM_STATE;
  if (env.STREAMNORM_LOG_LEVEL) raw.logLevel = env.STREAMNORM_LOG_LEVEL;
  const metrics: Record<string, unknown> = {};
  if (env.STREAMNORM_METRICS_PORT) metrics.port = env.STREAMNORM_METRICS_PORT;
  if (env.STREAMNORM_METRICS_HOST) metrics.host = env.STREAMNORM_METRICS_HOST;
  for (const [name, key] of [
    ['USERNAME', 'username'],
    ['PASSWORD', 'password'],
    ['PASSWORD_FILE', 'passwordFile'],
    ['TLS_CERT', 'tlsCert'],
    ['TLS_KEY', 'tlsKey'],
    ['TLS_CA', 'tlsCa'],
    ['READY_WINDOW_MS', 'readyWindowMs'],
    ['READY_MAX_LAG', 'readyMaxLag'],
    ['SNAPSHOT_MS', 'snapshotMs'],
  ] as const) {
    const v = env[`STREAMNORM_METRICS_${name}`];
    if (v) metrics[key] = v;
  }
  if (Object.keys(metrics).length > 0) raw.metrics = metrics;
  const kafka = kafkaPropertiesFromEnv(env);
  if (Object.keys(kafka).length > 0) raw.kafka = kafka;
  return parseConfig(raw, 'environment', env);
}

/** Later layers win, field by field (nested `metrics`, `compare`, `kafka` and `producer` merge too). */
export function mergeConfigs(...layers: Config[]): Config {
  const out: Config = {};
  for (const l of layers) {
    for (const [k, v] of Object.entries(l) as [keyof Config, unknown][]) {
      if (v === undefined) continue;
      if (
        (k === 'metrics' || k === 'compare' || k === 'kafka' || k === 'producer') &&
        typeof v === 'object' &&
        v !== null
      ) {
        (out as Record<string, unknown>)[k] = {
          ...((out[k] as object | undefined) ?? {}),
          ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)),
        };
      } else {
        (out as Record<string, unknown>)[k] = v;
      }
    }
  }
  return out;
}

/**
 * The effective settings: the config file (from `configPath` or STREAMNORM_CONFIG), then the environment,
 * then the flags (already shaped like the config).
 */
export function resolveConfig(
  flags: ConfigInput,
  configPath?: string,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const path = configPath ?? (env.STREAMNORM_CONFIG || undefined);
  const file = path === undefined ? {} : readConfigFile(path);
  const fromFlags = parseConfig(
    Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
    'flags',
  );
  return mergeConfigs(file, configFromEnv(env), fromFlags);
}

/** Throws a usage error naming the flag, the config field and the env var that could supply a missing setting. */
export function requireSetting<T>(value: T | undefined, flag: string, field: string, env?: string): T {
  if (value === undefined) {
    throw new ConfigError(
      `missing ${flag} (or '${field}' in the config file${env === undefined ? '' : `, or ${env}`})`,
    );
  }
  return value;
}
