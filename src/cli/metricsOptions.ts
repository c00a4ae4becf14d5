/**
 * The metrics server's security flags, shared by every subcommand that serves metrics (`run`, `main`, `replay
 * --into-models`): basic auth (`--metrics-username`, the password from `--metrics-password-file` or
 * STREAMNORM_METRICS_PASSWORD, never a flag value) and TLS (`--metrics-tls-cert`, `--metrics-tls-key`,
 * `--metrics-tls-ca` for client certificates). The password is registered with the redactor as soon as it is
 * read, so it cannot reach a log line.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { MetricsAuth, MetricsTls } from '../metrics/server.js';
import { registerSecret } from '../redact.js';
import type { Config } from './config.js';

/** The flags {@link addMetricsSecurityOptions} adds, as commander parses them. */
export interface MetricsSecurityFlags {
  metricsUsername?: string;
  metricsPasswordFile?: string;
  metricsTlsCert?: string;
  metricsTlsKey?: string;
  metricsTlsCa?: string;
}

export function addMetricsSecurityOptions(cmd: Command): Command {
  return cmd
    .option(
      '--metrics-username <name>',
      'require HTTP basic auth on /metrics and /readyz (/healthz stays open) (or STREAMNORM_METRICS_USERNAME)',
    )
    .option(
      '--metrics-password-file <file>',
      'file holding the basic-auth password (or STREAMNORM_METRICS_PASSWORD / STREAMNORM_METRICS_PASSWORD_FILE)',
    )
    .option(
      '--metrics-tls-cert <file>',
      'serve metrics over HTTPS with this PEM certificate (needs --metrics-tls-key)',
    )
    .option('--metrics-tls-key <file>', 'PEM private key of --metrics-tls-cert')
    .option('--metrics-tls-ca <file>', 'require client certificates signed by this PEM CA (mutual TLS)');
}

/** The flags as a `metrics` config layer (only those given). */
export function metricsSecurityFromFlags(flags: MetricsSecurityFlags): NonNullable<Config['metrics']> {
  const out: NonNullable<Config['metrics']> = {};
  if (flags.metricsUsername !== undefined) out.username = flags.metricsUsername;
  if (flags.metricsPasswordFile !== undefined) out.passwordFile = flags.metricsPasswordFile;
  if (flags.metricsTlsCert !== undefined) out.tlsCert = flags.metricsTlsCert;
  if (flags.metricsTlsKey !== undefined) out.tlsKey = flags.metricsTlsKey;
  if (flags.metricsTlsCa !== undefined) out.tlsCa = flags.metricsTlsCa;
  return out;
}

function readSetting(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`cannot read the metrics ${what} ${path} (${code})`, { cause: err });
  }
}

/**
 * The `auth` and `tls` options of `startMetricsServer` from the merged settings, files read. A password
 * without a username (or the reverse), or a certificate without a key, is a ConfigError naming what is missing.
 */
export function metricsServerSecurity(m: Config['metrics']): { auth?: MetricsAuth; tls?: MetricsTls } {
  const out: { auth?: MetricsAuth; tls?: MetricsTls } = {};
  if (m === undefined) return out;
  let password = m.password;
  if (m.passwordFile !== undefined) {
    // One trailing newline is how files are written; anything else is part of the password.
    password = readSetting(m.passwordFile, 'password file').replace(/\r?\n$/, '');
    if (password.length === 0) throw new ConfigError(`metrics password file ${m.passwordFile} is empty`);
  }
  registerSecret(password);
  if (m.username !== undefined || password !== undefined) {
    if (m.username === undefined)
      throw new ConfigError(
        'a metrics password is set but no --metrics-username (or STREAMNORM_METRICS_USERNAME)',
      );
    if (password === undefined)
      throw new ConfigError(
        `--metrics-username ${m.username} needs a password: --metrics-password-file or STREAMNORM_METRICS_PASSWORD`,
      );
    out.auth = { username: m.username, password };
  }
  if (m.tlsCert !== undefined || m.tlsKey !== undefined || m.tlsCa !== undefined) {
    if (m.tlsCert === undefined || m.tlsKey === undefined)
      throw new ConfigError('metrics TLS needs both --metrics-tls-cert and --metrics-tls-key');
    out.tls = {
      cert: readSetting(m.tlsCert, 'TLS certificate'),
      key: readSetting(m.tlsKey, 'TLS key'),
      ...(m.tlsCa === undefined ? {} : { ca: readSetting(m.tlsCa, 'TLS CA') }),
    };
  }
  return out;
}
