import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  REDACTED,
  clearRegisteredSecrets,
  redact,
  redactBroker,
  redactDeep,
  redactingLoggerOptions,
  registerSecret,
} from '../../../src/redact.js';

afterEach(() => clearRegisteredSecrets());

describe('redact', () => {
  it('hides the credentials of the issue examples: user:password@ and token@ before a broker', () => {
    expect(
      redact("flags: bad value for --brokers: expected host:port, got 'user:hunter2@broker.example:9092'"),
    ).toBe("flags: bad value for --brokers: expected host:port, got '***@broker.example:9092'");
    expect(redact('cannot reach Kafka broker S3cr3tT0ken@127.0.0.1:1 (ECONNREFUSED)')).toBe(
      'cannot reach Kafka broker ***@127.0.0.1:1 (ECONNREFUSED)',
    );
    expect(redact('a,user:pw@[::1]:9092')).toBe('a,***@[::1]:9092');
  });

  it('hides URL userinfo, key=value secrets, JSON secrets, auth headers and private keys', () => {
    expect(redact('GET https://admin:s3cret@example.com/x')).toBe(`GET https://${REDACTED}@example.com/x`);
    expect(redact('sasl.password=hunter2 sasl.username=alice')).toBe('sasl.password=*** sasl.username=alice');
    expect(redact('password: hunter2, token=abc123;')).toBe('password: ***, token=***;');
    expect(redact('{"user":"alice","password":"hun\\"ter2","apiKey":"k"}')).toBe(
      '{"user":"alice","password":"***","apiKey":"***"}',
    );
    expect(redact('Authorization: Basic YWxpY2U6aHVudGVyMg==')).toBe('Authorization: Basic ***');
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----';
    expect(redact(`key: ${pem} end`)).toBe('key: [private key redacted] end');
    expect(redact('-----BEGIN RSA PRIVATE KEY-----\nMIIE truncated')).toBe('[private key redacted]');
  });

  it('keeps what is not a secret: plain brokers, file paths, e-mail-like words, "bad value for password:"', () => {
    const plain = 'consuming from 127.0.0.1:9092,broker-2:9093 topic events';
    expect(redact(plain)).toBe(plain);
    expect(redact('sasl.password.file=/run/secrets/kafka')).toBe('sasl.password.file=/run/secrets/kafka');
    expect(redact('mail alice@example.com')).toBe('mail alice@example.com');
    expect(redact('config: bad value for kafka.sasl.password: expected a string')).toBe(
      'config: bad value for kafka.sasl.password: expected a string',
    );
  });

  it('hides every registered secret wherever it appears, longest first', () => {
    registerSecret('hunter2');
    registerSecret('hunter2-long');
    registerSecret('ab'); // too short to register
    expect(redact('SASL failed for alice with hunter2-long (hunter2)')).toBe(
      'SASL failed for alice with *** (***)',
    );
    expect(redact('ab')).toBe('ab');
  });

  it('redactBroker hides everything before the last @', () => {
    expect(redactBroker('u:p@ss@host:9092')).toBe('***@host:9092');
    expect(redactBroker('host:9092')).toBe('host:9092');
  });
});

describe('redactDeep', () => {
  it('redacts strings, secret-named keys and errors (with their causes) in a nested object', () => {
    registerSecret('S3cr3tT0ken');
    const err = new Error('cannot reach S3cr3tT0ken@127.0.0.1:1', {
      cause: new Error('password=hunter2'),
    });
    const out = redactDeep({
      brokers: ['user:hunter2@b:9092'],
      sasl: { username: 'alice', password: 'hunter2' },
      err,
      n: 3,
    }) as Record<string, unknown>;
    const text = JSON.stringify(out);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('S3cr3tT0ken');
    expect(out.n).toBe(3);
    expect((out.sasl as Record<string, unknown>).username).toBe('alice');
    expect((out.err as Record<string, unknown>).message).toBe('cannot reach ***@127.0.0.1:1');
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redactDeep(a)).toEqual({ name: 'a', self: '[…]' });
  });
});

describe('redactingLoggerOptions', () => {
  it('no secret reaches a pino line: message, fields, nested fields and errors', () => {
    registerSecret('pem-passphrase-123');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = pino({ level: 'info', ...redactingLoggerOptions() }, sink);
    log.info({ brokers: 'user:hunter2@b:9092', sasl: { password: 'hunter2' } }, 'connecting');
    log.error({ err: new Error('auth failed password=hunter2') }, 'failed with S3cr3t@127.0.0.1:1');
    log.warn({ ssl: { passphrase: 'pem-passphrase-123' } }, 'passphrase pem-passphrase-123 used');
    const all = lines.join('');
    expect(lines).toHaveLength(3);
    for (const secret of ['hunter2', 'S3cr3t@', 'pem-passphrase-123']) expect(all).not.toContain(secret);
    expect(all).toContain('***@b:9092');
    expect(all).toContain('failed with ***@127.0.0.1:1');
    expect(JSON.parse(lines[1]).err.message).toBe('auth failed password=***');
  });
});
