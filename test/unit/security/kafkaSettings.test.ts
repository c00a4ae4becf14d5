import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, resolveConfig } from '../../../src/cli/config.js';
import { EXIT, errorLine, exitCodeFor } from '../../../src/cli/exit.js';
import { ensureBrokersReachable } from '../../../src/cli/kafka.js';
import {
  KAFKA_PROPERTIES,
  addKafkaOptions,
  consumerTimeouts,
  envNameOf,
  kafkaConnection,
  kafkaPropertiesFromFlags,
  parseKafkaProperty,
  type KafkaFlags,
} from '../../../src/cli/kafkaSettings.js';
import { ConfigError, KafkaAuthError, KafkaError } from '../../../src/errors.js';
import { clearRegisteredSecrets, redact } from '../../../src/redact.js';
import { parseBrokers, securityFailure } from '../../../src/streams/kafka/client.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sn-kafka-settings-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
  writeFileSync(join(dir, 'cert.pem'), 'CERT PEM');
  writeFileSync(join(dir, 'key.pem'), 'KEY PEM');
  writeFileSync(join(dir, 'pw'), 'from-a-file-secret\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => clearRegisteredSecrets());

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a throw');
};

describe('Kafka settings: -X, flags, environment, config file', () => {
  it('every accepted key maps to a STREAMNORM_KAFKA_ variable', () => {
    expect(envNameOf('sasl.password')).toBe('STREAMNORM_KAFKA_SASL_PASSWORD');
    expect(envNameOf('ssl.ca.location')).toBe('STREAMNORM_KAFKA_SSL_CA_LOCATION');
    const env = Object.fromEntries(KAFKA_PROPERTIES.map((s) => [envNameOf(s.key), 'x']));
    expect(
      Object.keys(
        configFromEnv({
          ...env,
          STREAMNORM_KAFKA_SECURITY_PROTOCOL: 'ssl',
          STREAMNORM_KAFKA_SASL_MECHANISM: 'PLAIN',
          STREAMNORM_KAFKA_ENABLE_SSL_CERTIFICATE_VERIFICATION: 'true',
          STREAMNORM_KAFKA_REQUEST_TIMEOUT_MS: '1',
          STREAMNORM_KAFKA_SOCKET_CONNECTION_SETUP_TIMEOUT_MS: '1',
          STREAMNORM_KAFKA_RETRIES: '0',
          STREAMNORM_KAFKA_SESSION_TIMEOUT_MS: '6000',
          STREAMNORM_KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
        }).kafka ?? {},
      ).sort(),
    ).toEqual(KAFKA_PROPERTIES.map((s) => s.key).sort());
  });

  it('-X takes key=value, rejects unknown keys and refuses secrets without echoing them', () => {
    expect(parseKafkaProperty('security.protocol=SASL_SSL')).toEqual({ 'security.protocol': 'SASL_SSL' });
    expect(message(() => parseKafkaProperty('bogus.key=1'))).toMatch(/unknown Kafka setting 'bogus.key'/);
    const m = message(() => parseKafkaProperty('sasl.password=hunter2'));
    expect(m).toMatch(/never taken from a flag/);
    expect(m).toContain('STREAMNORM_KAFKA_SASL_PASSWORD');
    expect(m).not.toContain('hunter2');
    expect(message(() => parseKafkaProperty('ssl.key.password=p4ss'))).not.toContain('p4ss');
    expect(message(() => parseKafkaProperty('request.timeout.ms=soon'))).toMatch(/integer/);
  });

  it('commander collects repeated -X and the named flags into one settings object', () => {
    const cmd = addKafkaOptions(new Command('t').exitOverride());
    cmd.parse(
      [
        '-X',
        'client.id=me',
        '-X',
        'request.timeout.ms=5000',
        '--kafka-username',
        'alice',
        '--kafka-password-file',
        '/p',
        '--kafka-ssl-ca',
        '/ca.pem',
      ],
      { from: 'user' },
    );
    expect(kafkaPropertiesFromFlags(cmd.opts<KafkaFlags>())).toEqual({
      'client.id': 'me',
      'request.timeout.ms': '5000',
      'sasl.username': 'alice',
      'sasl.password.file': '/p',
      'ssl.ca.location': '/ca.pem',
    });
    expect(kafkaPropertiesFromFlags({})).toBeUndefined();
  });

  it('flags > environment > config file, key by key', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      'kafka:\n  sasl.username: from-file\n  sasl.mechanism: SCRAM-SHA-256\n  client.id: file-id\n',
    );
    const cfg = resolveConfig({ kafka: { 'client.id': 'flag-id' } }, file, {
      STREAMNORM_KAFKA_SASL_USERNAME: 'from-env',
      STREAMNORM_KAFKA_SASL_PASSWORD: 'env-secret',
    });
    expect(cfg.kafka).toEqual({
      'sasl.username': 'from-env',
      'sasl.mechanism': 'SCRAM-SHA-256',
      'client.id': 'flag-id',
      'sasl.password': 'env-secret',
    });
  });

  it('a bad value in the kafka section of the config file is named by key, never echoed', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, "kafka:\n  sasl.password: ''\n");
    expect(message(() => resolveConfig({}, file, {}))).toMatch(
      /bad value for kafka.sasl.password: expected a non-empty value$/,
    );
    writeFileSync(file, 'kafka:\n  bogus: hunter2\n');
    const m = message(() => resolveConfig({}, file, {}));
    expect(m).toMatch(/unknown Kafka setting 'bogus'/);
    expect(m).not.toContain('hunter2');
  });
});

describe('consumerTimeouts', () => {
  it("gives run's consumer the session and heartbeat, a third of a short session by default", () => {
    expect(consumerTimeouts()).toEqual({});
    expect(consumerTimeouts({ 'session.timeout.ms': '45000' })).toEqual({ sessionTimeoutMs: 45_000 });
    expect(consumerTimeouts({ 'session.timeout.ms': '6000' })).toEqual({
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 2000,
    });
    expect(consumerTimeouts({ 'session.timeout.ms': '6000', 'heartbeat.interval.ms': '500' })).toEqual({
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
    });
    expect(consumerTimeouts({ 'heartbeat.interval.ms': '1000' })).toEqual({ heartbeatIntervalMs: 1000 });
    // They are -X settings like the others, and kafkaConnection (the client's options) passes them by.
    expect(parseKafkaProperty('session.timeout.ms=6000')).toEqual({ 'session.timeout.ms': '6000' });
    expect(kafkaConnection({ 'session.timeout.ms': '6000' })).toEqual({});
  });

  it('refuses a heartbeat not below the session, and a value that is not an integer, naming them', () => {
    expect(() => consumerTimeouts({ 'session.timeout.ms': '6000', 'heartbeat.interval.ms': '6000' })).toThrow(
      /heartbeat.interval.ms \(6000\) must be below session.timeout.ms \(6000\)/,
    );
    expect(() => consumerTimeouts({ 'session.timeout.ms': 'soon' })).toThrow(ConfigError);
    expect(message(() => parseKafkaProperty('session.timeout.ms=6s'))).toMatch(/session.timeout.ms.*integer/);
  });
});

describe('kafkaConnection', () => {
  it('SASL_SSL with CA, client certificate, key, servername and a password file', () => {
    const c = kafkaConnection({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.username': 'alice',
      'sasl.password.file': join(dir, 'pw'),
      'ssl.ca.location': join(dir, 'ca.pem'),
      'ssl.certificate.location': join(dir, 'cert.pem'),
      'ssl.key.location': join(dir, 'key.pem'),
      'ssl.servername': 'localhost',
      'request.timeout.ms': '7000',
    });
    expect(c).toEqual({
      requestTimeoutMs: 7000,
      ssl: { ca: ['CA PEM'], cert: 'CERT PEM', key: 'KEY PEM', servername: 'localhost' },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'from-a-file-secret' },
    });
    // the password read from the file is now redacted wherever it shows up
    expect(redact('oops from-a-file-secret')).toBe('oops ***');
  });

  it('infers sasl_ssl from SASL settings (never sends a password in the clear by default), ssl from TLS ones', () => {
    const sasl = kafkaConnection({
      'sasl.mechanism': 'plain',
      'sasl.username': 'u',
      'sasl.password': 'pw-1234',
    });
    expect(sasl.ssl).toBe(true);
    expect(sasl.sasl?.mechanism).toBe('plain');
    expect(kafkaConnection({ 'ssl.ca.location': join(dir, 'ca.pem') }).sasl).toBeUndefined();
    expect(kafkaConnection({})).toEqual({});
    expect(kafkaConnection({ 'enable.ssl.certificate.verification': 'false' }).ssl).toEqual({
      rejectUnauthorized: false,
    });
  });

  it('refuses settings that do not fit together, with one line each', () => {
    expect(
      message(() => kafkaConnection({ 'security.protocol': 'plaintext', 'sasl.username': 'u' })),
    ).toMatch(/does not use SASL/);
    expect(
      message(() => kafkaConnection({ 'security.protocol': 'sasl_plaintext', 'ssl.ca.location': '/x' })),
    ).toMatch(/does not use TLS/);
    expect(message(() => kafkaConnection({ 'sasl.mechanism': 'plain', 'sasl.username': 'u' }))).toMatch(
      /needs a password/,
    );
    expect(message(() => kafkaConnection({ 'sasl.username': 'u', 'sasl.password': 'p123' }))).toMatch(
      /needs sasl.mechanism/,
    );
    expect(message(() => kafkaConnection({ 'ssl.certificate.location': join(dir, 'cert.pem') }))).toMatch(
      /go together/,
    );
    expect(message(() => kafkaConnection({ 'ssl.ca.location': join(dir, 'missing.pem') }))).toMatch(
      /ssl.ca.location: cannot read .*missing.pem \(ENOENT\)/,
    );
  });
});

describe('credentials in broker strings and connection errors', () => {
  it('config errors about brokers never echo credentials (issue example)', () => {
    const m = message(() => resolveConfig({ brokers: 'user:hunter2@broker:9092' }, undefined, {}));
    expect(m).not.toContain('hunter2');
    expect(m).toContain('***@broker:9092');
    const env = message(() => configFromEnv({ KAFKA_BROKERS: 'S3cr3tT0ken@127.0.0.1:1' }));
    expect(env).not.toContain('S3cr3tT0ken');
    expect(message(() => parseBrokers('S3cr3tT0ken@127.0.0.1:1'))).not.toContain('S3cr3tT0ken');
  });

  it('the connection error of an unreachable broker is redacted, and errorLine redacts whatever reaches it', async () => {
    const err = await ensureBrokersReachable('127.0.0.1:1', 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect(errorLine(new Error('cannot reach Kafka broker S3cr3tT0ken@127.0.0.1:1'))).toBe(
      'streamnorm: internal error: cannot reach Kafka broker ***@127.0.0.1:1',
    );
  });
});

describe('authentication failures', () => {
  it('a KafkaAuthError, or a kafkajs SASL error anywhere in the cause chain, exits with code 5', () => {
    expect(EXIT.KAFKA_AUTH).toBe(5);
    expect(exitCodeFor(new KafkaAuthError('sasl', 'SASL failed'))).toBe(5);
    const sasl = Object.assign(new Error('SASL SCRAM SHA256 authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    expect(securityFailure(new KafkaError('consumer crashed', { cause: sasl }))).toBe('sasl');
    expect(exitCodeFor(new KafkaError('consumer crashed', { cause: sasl }))).toBe(5);
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(securityFailure(Object.assign(new Error('Connection error'), { originalError: tls }))).toBe('tls');
    expect(exitCodeFor(new KafkaError('unreachable'))).toBe(EXIT.KAFKA);
    expect(exitCodeFor(new ConfigError('x'))).toBe(EXIT.USAGE);
  });
});
