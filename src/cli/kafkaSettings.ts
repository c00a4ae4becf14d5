/**
 * Kafka client settings of the CLI (TLS, SASL, client id, timeouts) as kcat-style `key=value` properties,
 * from three places merged like the rest of the config (flags > environment > config file):
 *
 * - config file: `kafka: { security.protocol: sasl_ssl, sasl.mechanism: SCRAM-SHA-256, ... }`;
 * - environment: `STREAMNORM_KAFKA_<KEY>` with the key upper-cased and dots as underscores, e.g.
 *   `STREAMNORM_KAFKA_SASL_PASSWORD`, `STREAMNORM_KAFKA_SSL_CA_LOCATION`;
 * - flags: `-X key=value` (repeatable) and the named flags of {@link addKafkaOptions}.
 *
 * A secret (`sasl.password`, `ssl.key.password`) is never taken from a flag, where `ps` and the shell's
 * history would show it: it comes from the config file, the environment or a file (`--kafka-password-file`,
 * `sasl.password.file`). Every secret loaded is registered for redaction (../redact.ts).
 *
 * Accepted keys: see {@link KAFKA_PROPERTIES} (`streamnorm run --help` lists them).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigError, DatasetError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { ClientOptions, KafkaSasl, KafkaTls } from '../streams/kafka/client.js';

/** One accepted `-X` key. */
export interface KafkaPropertySpec {
  key: string;
  kind: 'enum' | 'string' | 'path' | 'secret' | 'int' | 'bool';
  values?: readonly string[];
  description: string;
}

export const KAFKA_PROPERTIES: readonly KafkaPropertySpec[] = [
  {
    key: 'security.protocol',
    kind: 'enum',
    values: ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'],
    description:
      'default: sasl_ssl when SASL is configured, ssl when only TLS settings are, plaintext otherwise',
  },
  {
    key: 'sasl.mechanism',
    kind: 'enum',
    values: ['plain', 'scram-sha-256', 'scram-sha-512'],
    description: 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (any case)',
  },
  { key: 'sasl.username', kind: 'string', description: 'SASL user name' },
  { key: 'sasl.password', kind: 'secret', description: 'SASL password (config file or environment only)' },
  { key: 'sasl.password.file', kind: 'path', description: 'file holding the SASL password (one line)' },
  {
    key: 'ssl.ca.location',
    kind: 'path',
    description: 'PEM file of the CA(s) to trust instead of the system CAs',
  },
  { key: 'ssl.certificate.location', kind: 'path', description: 'PEM client certificate (mutual TLS)' },
  { key: 'ssl.key.location', kind: 'path', description: 'PEM private key of the client certificate' },
  {
    key: 'ssl.key.password',
    kind: 'secret',
    description: 'passphrase of the private key (config file or environment only)',
  },
  {
    key: 'ssl.servername',
    kind: 'string',
    description: 'TLS server name (SNI and certificate check) when it differs from the broker host',
  },
  {
    key: 'enable.ssl.certificate.verification',
    kind: 'bool',
    description: 'verify the broker certificate (default true; false is for tests only)',
  },
  { key: 'client.id', kind: 'string', description: 'Kafka client id' },
  { key: 'request.timeout.ms', kind: 'int', description: 'request timeout (default 30000)' },
  {
    key: 'socket.connection.setup.timeout.ms',
    kind: 'int',
    description: 'connection timeout (default 3000)',
  },
  { key: 'retries', kind: 'int', description: 'retries of a failed request (default 5 in the CLI)' },
  {
    key: 'session.timeout.ms',
    kind: 'int',
    description:
      "run's consumer group session: how long a member that stopped heartbeating (killed, paused) keeps its partitions (default 30000; the broker's floor is group.min.session.timeout.ms, 6000 by default)",
  },
  {
    key: 'heartbeat.interval.ms',
    kind: 'int',
    description: "run's consumer heartbeat interval (default 3000, or a third of session.timeout.ms if less)",
  },
];

const SPECS = new Map(KAFKA_PROPERTIES.map((s) => [s.key, s]));

/** Settings keyed as in {@link KAFKA_PROPERTIES}, values as strings. */
export type KafkaProperties = Record<string, string>;

/** The environment variable of a key: `sasl.password` → `STREAMNORM_KAFKA_SASL_PASSWORD`. */
export function envNameOf(key: string): string {
  return `STREAMNORM_KAFKA_${key.toUpperCase().replace(/[.-]/g, '_')}`;
}

/** Why `value` is not acceptable for `key` (never echoing a secret), or null; the caller names the key. */
export function kafkaPropertyProblem(key: string, value: unknown): string | null {
  const spec = SPECS.get(key);
  if (spec === undefined)
    return `unknown Kafka setting '${key}' (accepted: ${KAFKA_PROPERTIES.map((s) => s.key).join(', ')})`;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
    return 'expected a string';
  const text = String(value).trim();
  const shown = spec.kind === 'secret' ? '' : `, got '${text}'`;
  if (text === '') return 'expected a non-empty value';
  switch (spec.kind) {
    case 'enum':
      return spec.values!.includes(text.toLowerCase())
        ? null
        : `expected one of ${spec.values!.join(', ')}${shown}`;
    case 'int':
      return /^\d+$/.test(text) && Number(text) <= 3_600_000 ? null : `expected an integer >= 0${shown}`;
    case 'bool':
      return ['true', 'false'].includes(text.toLowerCase()) ? null : `expected true or false${shown}`;
    default:
      return null;
  }
}

/** Parses one `-X key=value`; a secret key is refused (it would be visible in `ps` and the shell history). */
export function parseKafkaProperty(raw: string, previous: KafkaProperties = {}): KafkaProperties {
  const eq = raw.indexOf('=');
  if (eq <= 0)
    throw new ConfigError(`-X: expected key=value, got '${raw.includes('password') ? '***' : raw}'`);
  const key = raw.slice(0, eq).trim();
  const value = raw.slice(eq + 1);
  if (SPECS.get(key)?.kind === 'secret')
    throw new ConfigError(
      `-X ${key}: a secret is never taken from a flag (ps and the shell history show it): set ${envNameOf(key)}, put it in the config file's kafka section${key === 'sasl.password' ? ', or use --kafka-password-file' : ''}`,
    );
  const problem = kafkaPropertyProblem(key, value);
  if (problem !== null) throw new ConfigError(`-X: bad value for ${key}: ${problem}`);
  return { ...previous, [key]: value.trim() };
}

/** The settings present in the environment (`STREAMNORM_KAFKA_*`). */
export function kafkaPropertiesFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaProperties {
  const out: KafkaProperties = {};
  for (const { key } of KAFKA_PROPERTIES) {
    const v = env[envNameOf(key)];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out;
}

/** The CLI flags {@link addKafkaOptions} adds, as commander parses them. */
export interface KafkaFlags {
  kafkaProperty?: KafkaProperties;
  kafkaSecurityProtocol?: string;
  kafkaSaslMechanism?: string;
  kafkaUsername?: string;
  kafkaPasswordFile?: string;
  kafkaSslCa?: string;
  kafkaSslCert?: string;
  kafkaSslKey?: string;
  kafkaSslServername?: string;
}

/** Adds the Kafka connection flags to a subcommand. */
export function addKafkaOptions(cmd: Command): Command {
  const keys = KAFKA_PROPERTIES.map((s) => s.key).join(', ');
  return cmd
    .addOption(
      new Option(
        '-X, --kafka-property <key=value>',
        `Kafka client setting, repeatable (${keys}; secrets only from the config file or STREAMNORM_KAFKA_*)`,
      ).argParser((v: string, prev: KafkaProperties | undefined) => parseKafkaProperty(v, prev)),
    )
    .option('--kafka-security-protocol <p>', 'plaintext | ssl | sasl_plaintext | sasl_ssl')
    .option('--kafka-sasl-mechanism <m>', 'PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512')
    .option('--kafka-username <name>', 'SASL user name')
    .option('--kafka-password-file <file>', 'file holding the SASL password')
    .option('--kafka-ssl-ca <file>', 'PEM CA file to trust')
    .option('--kafka-ssl-cert <file>', 'PEM client certificate')
    .option('--kafka-ssl-key <file>', 'PEM client private key')
    .option('--kafka-ssl-servername <name>', 'TLS server name when it differs from the broker host')
    .addHelpText('after', kafkaSettingsHelp());
}

/** The settings the Kafka flags give (undefined when none). */
export function kafkaPropertiesFromFlags(flags: KafkaFlags): KafkaProperties | undefined {
  const named: Array<[string, string | undefined]> = [
    ['security.protocol', flags.kafkaSecurityProtocol],
    ['sasl.mechanism', flags.kafkaSaslMechanism],
    ['sasl.username', flags.kafkaUsername],
    ['sasl.password.file', flags.kafkaPasswordFile],
    ['ssl.ca.location', flags.kafkaSslCa],
    ['ssl.certificate.location', flags.kafkaSslCert],
    ['ssl.key.location', flags.kafkaSslKey],
    ['ssl.servername', flags.kafkaSslServername],
  ];
  const out: KafkaProperties = { ...(flags.kafkaProperty ?? {}) };
  for (const [key, v] of named) {
    if (v === undefined) continue;
    const problem = kafkaPropertyProblem(key, v);
    if (problem !== null) throw new ConfigError(`bad value for --${flagOf(key)}: ${problem}`);
    out[key] = v.trim();
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function flagOf(key: string): string {
  return (
    {
      'security.protocol': 'kafka-security-protocol',
      'sasl.mechanism': 'kafka-sasl-mechanism',
      'sasl.username': 'kafka-username',
      'sasl.password.file': 'kafka-password-file',
      'ssl.ca.location': 'kafka-ssl-ca',
      'ssl.certificate.location': 'kafka-ssl-cert',
      'ssl.key.location': 'kafka-ssl-key',
      'ssl.servername': 'kafka-ssl-servername',
    }[key] ?? key
  );
}

/** What the client needs from the settings: the TLS and SASL options, client id, timeouts. */
export type KafkaConnection = Pick<
  ClientOptions,
  'ssl' | 'sasl' | 'clientId' | 'requestTimeoutMs' | 'connectionTimeoutMs' | 'retries'
>;

function readSetting(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new DatasetError(`${key}: cannot read ${path} (${code})`, { cause: err });
  }
}

/**
 * Turns the settings into client options: reads the CA, certificate, key and password files, infers the
 * protocol (see `security.protocol`) and checks that the pieces fit together. Secrets are registered for
 * redaction before anything else can print them.
 */
export function kafkaConnection(props: KafkaProperties = {}): KafkaConnection {
  for (const [key, value] of Object.entries(props)) {
    if (SPECS.get(key)?.kind === 'secret') registerSecret(String(value).trim());
    const problem = kafkaPropertyProblem(key, value);
    if (problem !== null) throw new ConfigError(`bad value for Kafka setting ${key}: ${problem}`);
  }
  const get = (key: string): string | undefined =>
    props[key] === undefined ? undefined : String(props[key]).trim();
  const saslKeys = ['sasl.mechanism', 'sasl.username', 'sasl.password', 'sasl.password.file'];
  const sslKeys = [
    'ssl.ca.location',
    'ssl.certificate.location',
    'ssl.key.location',
    'ssl.key.password',
    'ssl.servername',
    'enable.ssl.certificate.verification',
  ];
  const hasSasl = saslKeys.some((k) => get(k) !== undefined);
  const hasSsl = sslKeys.some((k) => get(k) !== undefined);
  const protocol =
    get('security.protocol')?.toLowerCase() ?? (hasSasl ? 'sasl_ssl' : hasSsl ? 'ssl' : 'plaintext');
  const usesSasl = protocol.startsWith('sasl_');
  const usesSsl = protocol === 'ssl' || protocol === 'sasl_ssl';
  if (hasSasl && !usesSasl)
    throw new ConfigError(`security.protocol ${protocol} does not use SASL, but sasl.* settings are given`);
  if (hasSsl && !usesSsl)
    throw new ConfigError(`security.protocol ${protocol} does not use TLS, but ssl.* settings are given`);

  const out: KafkaConnection = {};
  const clientId = get('client.id');
  if (clientId !== undefined) out.clientId = clientId;
  const requestTimeout = get('request.timeout.ms');
  if (requestTimeout !== undefined) out.requestTimeoutMs = Number(requestTimeout);
  const connectTimeout = get('socket.connection.setup.timeout.ms');
  if (connectTimeout !== undefined) out.connectionTimeoutMs = Number(connectTimeout);
  const retries = get('retries');
  if (retries !== undefined) out.retries = Number(retries);

  if (usesSsl) {
    const tls: KafkaTls = {};
    const ca = get('ssl.ca.location');
    if (ca !== undefined) tls.ca = [readSetting('ssl.ca.location', ca)];
    const cert = get('ssl.certificate.location');
    const key = get('ssl.key.location');
    if ((cert === undefined) !== (key === undefined))
      throw new ConfigError(
        'ssl.certificate.location and ssl.key.location go together (mutual TLS needs both)',
      );
    if (cert !== undefined && key !== undefined) {
      tls.cert = readSetting('ssl.certificate.location', cert);
      tls.key = readSetting('ssl.key.location', key);
    }
    const passphrase = get('ssl.key.password');
    if (passphrase !== undefined) tls.passphrase = passphrase;
    const servername = get('ssl.servername');
    if (servername !== undefined) tls.servername = servername;
    if (get('enable.ssl.certificate.verification')?.toLowerCase() === 'false') tls.rejectUnauthorized = false;
    out.ssl = Object.keys(tls).length === 0 ? true : tls;
  }
  if (usesSasl) {
    const mechanism = get('sasl.mechanism')?.toLowerCase() as KafkaSasl['mechanism'] | undefined;
    const username = get('sasl.username');
    let password = props['sasl.password'];
    const file = get('sasl.password.file');
    if (password !== undefined && file !== undefined)
      throw new ConfigError('give sasl.password or sasl.password.file, not both');
    if (file !== undefined) {
      password = readSetting('sasl.password.file', file).replace(/\r?\n$/, '');
      registerSecret(password);
    }
    if (mechanism === undefined) throw new ConfigError(`security.protocol ${protocol} needs sasl.mechanism`);
    if (username === undefined) throw new ConfigError(`security.protocol ${protocol} needs sasl.username`);
    if (password === undefined || password === '')
      throw new ConfigError(
        `security.protocol ${protocol} needs a password: ${envNameOf('sasl.password')}, sasl.password in the config file, or --kafka-password-file`,
      );
    out.sasl = { mechanism, username, password };
  }
  return out;
}

/** The consumer group timeouts of `run`'s consumer, from the settings (undefined: the pipeline's defaults). */
export interface ConsumerTimeouts {
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

/**
 * `session.timeout.ms` and `heartbeat.interval.ms`. A session shorter than the pipeline's 3 s heartbeat default
 * times three gets a heartbeat of a third of it (the Java client's rule of thumb: three missed heartbeats before
 * the session expires); a heartbeat not below the session is refused.
 */
export function consumerTimeouts(props: KafkaProperties = {}): ConsumerTimeouts {
  const int = (key: string): number | undefined => {
    const v = props[key];
    if (v === undefined) return undefined;
    const problem = kafkaPropertyProblem(key, v);
    if (problem !== null) throw new ConfigError(`bad value for Kafka setting ${key}: ${problem}`);
    return Number(String(v).trim());
  };
  const session = int('session.timeout.ms');
  let heartbeat = int('heartbeat.interval.ms');
  if (session === undefined && heartbeat === undefined) return {};
  if (heartbeat === undefined && session !== undefined && session < 9000) heartbeat = Math.floor(session / 3);
  if (session !== undefined && heartbeat !== undefined && heartbeat >= session)
    throw new ConfigError(
      `heartbeat.interval.ms (${heartbeat}) must be below session.timeout.ms (${session}), or every session expires`,
    );
  return {
    ...(session === undefined ? {} : { sessionTimeoutMs: session }),
    ...(heartbeat === undefined ? {} : { heartbeatIntervalMs: heartbeat }),
  };
}

/** The `--help` text listing the accepted keys and their environment variables. */
export function kafkaSettingsHelp(): string {
  return (
    '\nKafka client settings (-X key=value, config file `kafka:` section, or STREAMNORM_KAFKA_<KEY>):\n' +
    KAFKA_PROPERTIES.map((s) => `  ${s.key.padEnd(36)} ${s.description}`).join('\n') +
    '\n'
  );
}
