import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamnormError } from '../../../src/errors.js';
import {
  PipelineMetrics,
  createRegistry,
  startMetricsServer,
  type MetricsServer,
} from '../../../src/metrics/index.js';

const servers: MetricsServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function start(opts: Omit<Parameters<typeof startMetricsServer>[0], 'port'> & { port?: number }) {
  const s = await startMetricsServer({ port: 0, ...opts });
  servers.push(s);
  return s;
}

describe('startMetricsServer', () => {
  it('binds 127.0.0.1 by default and serves /metrics in the registry content type', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = new PipelineMetrics(registry);
    m.observeBatch({ variant: 'v', mode: 'live', size: 2, outcomes: { learned: 2 } });
    const s = await start({ registry });
    expect(s.host).toBe('127.0.0.1');
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(await res.text()).toContain(
      'streamnorm_events_total{variant="v",outcome="learned",mode="live"} 2',
    );
  });

  it('/healthz is 200 while alive, even when not ready', async () => {
    const s = await start({
      registry: createRegistry({ defaultMetrics: false }),
      readiness: () => ({ ready: false, checks: { connected: false } }),
    });
    const res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  it('/readyz follows the probe: 503 with the failing checks, then 200 once they pass', async () => {
    let now = 0;
    const registry = createRegistry({ defaultMetrics: false });
    const m = new PipelineMetrics(registry, { now: () => now });
    const s = await start({ registry, readiness: () => m.readiness({ maxCheckpointAgeSeconds: 60 }) });

    let res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ready: false,
      checks: { connected: false, partitionsAssigned: false, checkpointRecent: true },
    });

    m.consumerConnectedChanged(true, 'g');
    m.partitionsAssigned({ events: [0, 1] });
    m.expectCheckpoints('live');
    res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { ready: boolean }).ready).toBe(true);

    now += 120_000; // no checkpoint for two minutes
    res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: Record<string, boolean> }).checks.checkpointRecent).toBe(false);
  });

  it('/readyz is 503 when the probe throws, and 200 with no probe at all', async () => {
    const throwing = await start({
      registry: createRegistry({ defaultMetrics: false }),
      readiness: async () => {
        throw new Error('probe failed');
      },
    });
    expect((await fetch(`${throwing.url}/readyz`)).status).toBe(503);
    const none = await start({ registry: createRegistry({ defaultMetrics: false }) });
    expect((await fetch(`${none.url}/readyz`)).status).toBe(200);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const s = await start({ registry: createRegistry({ defaultMetrics: false }) });
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    const post = await fetch(`${s.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('fails with a retriable StreamnormError when the port is taken, and validates the port', async () => {
    const a = await start({ registry: createRegistry({ defaultMetrics: false }) });
    const err = await startMetricsServer({
      registry: createRegistry({ defaultMetrics: false }),
      port: a.port,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamnormError);
    expect((err as StreamnormError).retriable).toBe(true);
    expect((err as StreamnormError).message).toContain(String(a.port));
    await expect(startMetricsServer({ registry: createRegistry(), port: 70000 })).rejects.toThrow(/70000/);
  });

  it('close() stops listening', async () => {
    const s = await startMetricsServer({ registry: createRegistry({ defaultMetrics: false }), port: 0 });
    await s.close();
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });
});

describe('startMetricsServer hardening', () => {
  const raw = (port: number, text: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write(text));
      let out = '';
      socket.setEncoding('utf8').on('data', (d: string) => (out += d));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });

  it('answers a bad URL with 400 and no internal message', async () => {
    const s = await start({ registry: createRegistry({ defaultMetrics: false }) });
    const out = await raw(s.port, 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(out).not.toMatch(/Invalid URL|TypeError|internal/);
  });

  it('concurrent scrapes share one collection per snapshot interval', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    let collections = 0;
    const original = registry.metrics.bind(registry);
    registry.metrics = () => {
      collections++;
      return original();
    };
    const s = await start({ registry, snapshotMs: 60_000 });
    const bodies = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${s.url}/metrics`).then((r) => r.text())),
    );
    expect(new Set(bodies).size).toBe(1);
    expect(collections).toBe(1);
  });

  it('closes a socket whose request stalls after idleTimeoutMs', async () => {
    const s = await start({ registry: createRegistry({ defaultMetrics: false }), idleTimeoutMs: 300 });
    const t0 = Date.now();
    const out = await raw(s.port, 'GET /metr'); // a request that never completes
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(out).not.toMatch(/^HTTP\/1\.1 200/);
  });
});
