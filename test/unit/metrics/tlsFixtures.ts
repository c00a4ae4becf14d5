/**
 * Certificates for the metrics server's TLS tests, generated with `openssl` into a temporary directory: a CA,
 * a server certificate for 127.0.0.1 signed by it, and a client certificate signed by it (mutual TLS).
 * `hasOpenssl()` lets a suite skip on a machine without openssl, except under CI=true, where a missing
 * openssl is a failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFixtures {
  dir: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Paths of the same files (for the CLI flags). */
  paths: { ca: string; cert: string; key: string; clientCert: string; clientKey: string };
  remove(): void;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('openssl is required under CI=true (metrics TLS tests)');
    return false;
  }
}

export function makeTlsFixtures(): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'streamnorm-metrics-tls-'));
  const p = (f: string): string => join(dir, f);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
  );
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'prometheus'],
  ] as const) {
    ssl('req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-out',
      p(`${name}.pem`),
      '-days',
      '2',
      '-extfile',
      p(`${name}.ext`),
    );
  }
  const read = (f: string): string => readFileSync(p(f), 'utf8');
  return {
    dir,
    caPem: read('ca.pem'),
    certPem: read('server.pem'),
    keyPem: read('server.key'),
    clientCertPem: read('client.pem'),
    clientKeyPem: read('client.key'),
    paths: {
      ca: p('ca.pem'),
      cert: p('server.pem'),
      key: p('server.key'),
      clientCert: p('client.pem'),
      clientKey: p('client.key'),
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
