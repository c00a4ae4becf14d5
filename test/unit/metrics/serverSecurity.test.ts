/**
 * The metrics server's basic auth and TLS against a real server on 127.0.0.1 (port 0), with certificates made
 * by openssl in the test (tlsFixtures.ts): right, wrong and missing credentials; an HTTPS scrape verified with
 * the CA; plain HTTP refused on the TLS port; mutual TLS when a client CA is set; the connection cap's 503.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRegistry,
  PipelineMetrics,
  startMetricsServer,
  type MetricsServer,
} from '../../../src/metrics/index.js';
import { basicAuthChecker } from '../../../src/metrics/server.js';
import { hasOpenssl, makeTlsFixtures, type TlsFixtures } from './tlsFixtures.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(
  url: string,
  opts: { user?: string; password?: string; ca?: string; cert?: string; key?: string } = {},
): Promise<Answer> {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  if (opts.user !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.password ?? ''}`).toString('base64')}`;
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        headers,
        agent: false,
        ...(opts.ca === undefined ? {} : { ca: opts.ca }),
        ...(opts.cert === undefined ? {} : { cert: opts.cert, key: opts.key }),
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const servers: MetricsServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

function registryWithEvents() {
  const registry = createRegistry({ defaultMetrics: false });
  new PipelineMetrics(registry).observeBatch({
    variant: 'v',
    mode: 'live',
    size: 3,
    outcomes: { learned: 3 },
  });
  return registry;
}

const SCRAPE_LINE = 'streamnorm_events_total{variant="v",outcome="learned",mode="live"} 3';

describe('metrics server basic auth', () => {
  const auth = { username: 'prometheus', password: 'scrape-s3cret' };

  it('serves /metrics and /readyz with the right credentials, 401 with a challenge otherwise', async () => {
    const s = await startMetricsServer({ registry: registryWithEvents(), port: 0, auth });
    servers.push(s);
    const ok = await get(`${s.url}/metrics`, { user: 'prometheus', password: 'scrape-s3cret' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(SCRAPE_LINE);
    expect((await get(`${s.url}/readyz`, { user: 'prometheus', password: 'scrape-s3cret' })).status).toBe(
      200,
    );

    for (const bad of [
      {},
      { user: 'prometheus', password: 'wrong' },
      { user: 'prometheus', password: 'scrape-s3cre' },
      { user: 'other', password: 'scrape-s3cret' },
      { user: '', password: '' },
    ]) {
      for (const path of ['/metrics', '/readyz']) {
        const res = await get(`${s.url}${path}`, bad);
        expect(res.status, `${path} ${JSON.stringify(bad)}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Basic realm="streamnorm"');
        expect(res.body).not.toContain('streamnorm_');
      }
    }
  });

  it('leaves /healthz open (documented: a liveness probe needs no secret)', async () => {
    const s = await startMetricsServer({ registry: registryWithEvents(), port: 0, auth });
    servers.push(s);
    const res = await get(`${s.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('ok\n');
  });

  it('a malformed Authorization header is a 401, not a 400 or 500', async () => {
    const s = await startMetricsServer({ registry: registryWithEvents(), port: 0, auth });
    servers.push(s);
    const out = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: s.port }, () =>
        socket.write(
          'GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ###\r\nConnection: close\r\n\r\n',
        ),
      );
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(out).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('checker: exact match only, and configuration errors name the problem without the password', () => {
    const check = basicAuthChecker(auth);
    const header = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    expect(check(header('prometheus', 'scrape-s3cret'))).toBe(true);
    expect(check(`basic ${Buffer.from('prometheus:scrape-s3cret').toString('base64')}`)).toBe(true);
    expect(check(header('prometheus', 'scrape-s3cret '))).toBe(false);
    expect(check(header('prometheus:scrape', 's3cret'))).toBe(false);
    expect(check(`Bearer ${Buffer.from('prometheus:scrape-s3cret').toString('base64')}`)).toBe(false);
    expect(check(undefined)).toBe(false);
    expect(() => basicAuthChecker({ username: 'a', password: '' })).toThrow(/non-empty password/);
    expect(() => basicAuthChecker({ username: '', password: 'x' })).toThrow(/username/);
    expect(() => basicAuthChecker({ username: 'a:b', password: 'x' })).toThrow(/username/);
  });
});

describe.skipIf(!hasOpenssl())('metrics server TLS', () => {
  let tls: TlsFixtures;
  beforeAll(() => {
    tls = makeTlsFixtures();
  });
  afterAll(() => tls?.remove());

  it('serves https verified with the CA, and refuses plain http on the TLS port', async () => {
    const s = await startMetricsServer({
      registry: registryWithEvents(),
      port: 0,
      tls: { cert: tls.certPem, key: tls.keyPem },
    });
    servers.push(s);
    expect(s.url).toBe(`https://127.0.0.1:${s.port}`);
    const ok = await get(`${s.url}/metrics`, { ca: tls.caPem });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(SCRAPE_LINE);
    // Without the CA the certificate is not trusted.
    await expect(get(`${s.url}/metrics`)).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    // Plain HTTP on the TLS port gets no HTTP answer.
    await expect(get(`http://127.0.0.1:${s.port}/metrics`)).rejects.toThrow();
  });

  it('TLS and basic auth together', async () => {
    const s = await startMetricsServer({
      registry: registryWithEvents(),
      port: 0,
      tls: { cert: tls.certPem, key: tls.keyPem },
      auth: { username: 'prom', password: 'tls-and-auth' },
    });
    servers.push(s);
    expect((await get(`${s.url}/metrics`, { ca: tls.caPem })).status).toBe(401);
    const ok = await get(`${s.url}/metrics`, { ca: tls.caPem, user: 'prom', password: 'tls-and-auth' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(SCRAPE_LINE);
  });

  it('with a client CA, only clients with a certificate it signed get an answer (mutual TLS)', async () => {
    const s = await startMetricsServer({
      registry: registryWithEvents(),
      port: 0,
      tls: { cert: tls.certPem, key: tls.keyPem, ca: tls.caPem },
    });
    servers.push(s);
    await expect(get(`${s.url}/metrics`, { ca: tls.caPem })).rejects.toThrow();
    const ok = await get(`${s.url}/metrics`, {
      ca: tls.caPem,
      cert: tls.clientCertPem,
      key: tls.clientKeyPem,
    });
    expect(ok.status).toBe(200);
  });

  it('refuses a TLS setting without a key', async () => {
    await expect(
      startMetricsServer({ registry: registryWithEvents(), port: 0, tls: { cert: tls.certPem, key: '' } }),
    ).rejects.toThrow(/certificate and a key/);
  });
});

describe('metrics server connection cap', () => {
  it('answers connections beyond the cap with 503 and Retry-After, and serves again once they close', async () => {
    const s = await startMetricsServer({ registry: registryWithEvents(), port: 0, maxConnections: 2 });
    servers.push(s);
    // Two idle connections hold the cap.
    const held = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<ReturnType<typeof connect>>((resolve, reject) => {
            const c = connect({ host: '127.0.0.1', port: s.port }, () => resolve(c));
            c.on('error', reject);
          }),
      ),
    );
    const over = await get(`${s.url}/metrics`);
    expect(over.status).toBe(503);
    expect(over.headers['retry-after']).toBe('1');
    for (const c of held) c.destroy();
    let res: Answer = over;
    for (let i = 0; i < 50 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      res = await get(`${s.url}/metrics`);
    }
    expect(res.status).toBe(200);
  });

  it('close() also closes connections refused by the cap that never sent a byte', async () => {
    const s = await startMetricsServer({
      registry: registryWithEvents(),
      port: 0,
      maxConnections: 1,
      idleTimeoutMs: 60_000,
    });
    const open = (): Promise<ReturnType<typeof connect>> =>
      new Promise((resolve, reject) => {
        const c = connect({ host: '127.0.0.1', port: s.port }, () => resolve(c));
        c.on('error', () => undefined);
        c.once('error', reject);
      });
    const held = await open();
    const silent = await open(); // over the cap, sends nothing
    const closed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    await new Promise((r) => setTimeout(r, 50)); // let the server see it
    await s.close();
    await closed; // without the fix this waits for the 60 s idle timeout (and the test's timeout fails it)
    held.destroy();
  });
});
