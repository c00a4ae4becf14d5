import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError, StreamnormError } from '../errors.js';
import type { ReadinessProbe, ReadinessReport } from './readiness.js';

/** Options for {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** The registry to expose (the pipeline's own, never the global one). */
  registry: Registry;
  /** Bind address. Default `127.0.0.1`: metrics are not exposed beyond the host unless asked. */
  host?: string;
  /** Port; 0 picks a free one (tests). Default 9464. */
  port?: number;
  /** `/readyz` probe; without one the process is ready as soon as it serves. */
  readiness?: ReadinessProbe;
  /**
   * `/metrics` is served from a snapshot at most this old (ms, default 1000): concurrent scrapes share one
   * in-flight collection, so a flood of requests costs one collection per interval, not one each. 0 = none.
   */
  snapshotMs?: number;
  /** Open connections at most (default 64); beyond that new sockets are closed at once. */
  maxConnections?: number;
  /** Idle and slow-request limits (ms): a socket idle this long is closed (default 10 000). */
  idleTimeoutMs?: number;
  /** Further routes by exact path (e.g. `/predict`, see predictRoute.ts), served behind the same checks. */
  routes?: Readonly<Record<string, ExtraRoute>>;
}

/** A route added to the metrics server: it answers every method itself. */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A running metrics server. */
export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stop listening and close open connections (an in-flight scrape is cut short). */
  close(): Promise<void>;
}

/**
 * Serve `/metrics` (Prometheus text format), `/healthz` (the process is alive: always 200 while it
 * serves) and `/readyz` (200 when the readiness probe passes, 503 with the failing checks otherwise).
 *
 * Liveness and readiness are separate on purpose: a consumer waiting for a partition assignment is
 * alive (do not restart it) but not ready (do not count on it).
 *
 * @example
 * const registry = createRegistry();
 * const metrics = new PipelineMetrics(registry);
 * const server = await startMetricsServer({ registry, port: 0, readiness: () => metrics.readiness() });
 * await server.close();
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 9464;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`metrics port must be an integer in [0, 65535], got ${port}`);
  }
  if (typeof host !== 'string' || host.length === 0) {
    throw new ConfigError(`metrics host must be a non-empty string, got ${JSON.stringify(host)}`);
  }
  const { registry, readiness } = options;
  const idle = options.idleTimeoutMs ?? 10_000;
  const metrics = snapshot(() => registry.metrics(), options.snapshotMs ?? 1000);

  const server = createServer(
    { headersTimeout: idle, requestTimeout: idle, keepAliveTimeout: Math.min(5000, idle) },
    (req, res) => {
      handle(req, res, registry.contentType, metrics, readiness, options.routes).catch(() => {
        // never the internal message: it may name paths or settings
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    },
  );
  server.maxConnections = options.maxConnections ?? 64;
  server.on('connection', (socket) => socket.setTimeout(idle, () => socket.destroy()));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new StreamnormError('METRICS', `metrics server cannot listen on ${host}:${port}: ${err.message}`, {
          cause: err,
          retriable: (err as NodeJS.ErrnoException).code === 'EADDRINUSE',
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port: bound,
    url: `http://${urlHost}:${bound}`,
    close: () => closeServer(server),
  };
}

/**
 * A collection shared by every caller within `maxAgeMs` of it (and while it is in flight), so concurrent
 * scrapes cost one `registry.metrics()` per interval.
 */
export function snapshot(collect: () => Promise<string>, maxAgeMs: number): () => Promise<string> {
  let current: Promise<string> | null = null;
  let at = 0;
  return () => {
    const now = Date.now();
    if (current === null || now - at >= maxAgeMs) {
      at = now;
      current = collect();
      current.catch(() => {
        current = null;
      });
    }
    return current;
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  contentType: string,
  metrics: () => Promise<string>,
  readiness: ReadinessProbe | undefined,
  routes?: Readonly<Record<string, ExtraRoute>>,
): Promise<void> {
  let path: string;
  try {
    path = new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    send(res, 400, 'text/plain; charset=utf-8', 'bad request\n');
    return;
  }
  const route = routes !== undefined && Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (route !== undefined) return route(req, res);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/metrics': {
      const body = await metrics();
      send(res, 200, contentType, body, req.method === 'HEAD');
      return;
    }
    case '/healthz':
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n', req.method === 'HEAD');
      return;
    case '/readyz': {
      const report = await probe(readiness);
      send(
        res,
        report.ready ? 200 : 503,
        'application/json; charset=utf-8',
        `${JSON.stringify(report)}\n`,
        req.method === 'HEAD',
      );
      return;
    }
    default:
      send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics, /healthz or /readyz\n');
  }
}

async function probe(readiness: ReadinessProbe | undefined): Promise<ReadinessReport> {
  if (readiness === undefined) return { ready: true, checks: {} };
  try {
    return await readiness();
  } catch {
    return { ready: false, checks: { probe: false } };
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(headOnly ? undefined : body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err === undefined ? resolve() : reject(err)));
    server.closeAllConnections();
  });
}
