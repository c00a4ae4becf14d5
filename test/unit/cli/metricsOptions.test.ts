import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { configFromEnv, resolveConfig } from '../../../src/cli/config.js';
import { metricsSecurityFromFlags, metricsServerSecurity } from '../../../src/cli/metricsOptions.js';
import { ConfigError } from '../../../src/errors.js';
import { clearRegisteredSecrets, redact } from '../../../src/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'streamnorm-metrics-opts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => clearRegisteredSecrets());

describe('metrics security settings', () => {
  it('reads the password from a file (one trailing newline dropped) and registers it for redaction', () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'file-secret-123\n');
    const cfg = resolveConfig(
      { metrics: metricsSecurityFromFlags({ metricsUsername: 'prom', metricsPasswordFile: file }) },
      undefined,
      {},
    );
    expect(metricsServerSecurity(cfg.metrics)).toEqual({
      auth: { username: 'prom', password: 'file-secret-123' },
    });
    expect(redact('login with file-secret-123 failed')).toBe('login with *** failed');
  });

  it('takes the username, password and TLS files from the environment', () => {
    const cert = join(dir, 'c.pem');
    const key = join(dir, 'k.pem');
    writeFileSync(cert, 'CERT');
    writeFileSync(key, 'KEY');
    const cfg = configFromEnv({
      STREAMNORM_METRICS_USERNAME: 'prom',
      STREAMNORM_METRICS_PASSWORD: 'env-secret-456',
      STREAMNORM_METRICS_TLS_CERT: cert,
      STREAMNORM_METRICS_TLS_KEY: key,
      STREAMNORM_METRICS_READY_WINDOW_MS: '5000',
      STREAMNORM_METRICS_SNAPSHOT_MS: '50',
    });
    expect(cfg.metrics?.readyWindowMs).toBe(5000);
    expect(cfg.metrics?.snapshotMs).toBe(50);
    expect(metricsServerSecurity(cfg.metrics)).toEqual({
      auth: { username: 'prom', password: 'env-secret-456' },
      tls: { cert: 'CERT', key: 'KEY' },
    });
  });

  it('the flags layer has no password field: a password only comes from a file or the environment', () => {
    expect(
      Object.keys(metricsSecurityFromFlags({ metricsUsername: 'u', metricsPasswordFile: '/x' })),
    ).toEqual(['username', 'passwordFile']);
  });

  it('refuses incomplete settings with one line naming what is missing, never the password', () => {
    const fail = (m: Parameters<typeof metricsServerSecurity>[0]): ConfigError => {
      try {
        metricsServerSecurity(m);
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('no error');
    };
    expect(fail({ password: 'lonely-secret' })).toBeInstanceOf(ConfigError);
    expect(fail({ password: 'lonely-secret' }).message).toMatch(/no --metrics-username/);
    expect(fail({ password: 'lonely-secret' }).message).not.toContain('lonely-secret');
    expect(fail({ username: 'prom' }).message).toMatch(/needs a password/);
    expect(fail({ tlsCert: '/c.pem' }).message).toMatch(/--metrics-tls-cert and --metrics-tls-key/);
    expect(fail({ username: 'p', passwordFile: join(dir, 'missing') }).message).toMatch(
      /cannot read .*ENOENT/,
    );
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(fail({ username: 'p', passwordFile: empty }).message).toMatch(/is empty/);
  });

  it('no settings, no auth and no TLS', () => {
    expect(metricsServerSecurity(undefined)).toEqual({});
    expect(metricsServerSecurity({ port: 9464 })).toEqual({});
  });
});
