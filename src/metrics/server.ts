import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
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
  /**
   * Open connections served at most (default 64). A connection beyond the cap is answered `503 Service
   * Unavailable` with `Retry-After: 1` and closed, without a collection (over plain HTTP without even reaching
   * the HTTP parser); beyond 64× the cap, sockets are dropped unanswered (the file-descriptor guard).
   */
  maxConnections?: number;
  /** Idle and slow-request limits (ms): a socket idle this long is closed (default 10 000). */
  idleTimeoutMs?: number;
  /**
   * HTTP basic auth for `/metrics` and `/readyz` (Prometheus `basic_auth`). `/healthz` stays open: it says
   * only "ok", and a liveness probe should not need a secret. A missing or wrong credential is answered
   * `401` with `WWW-Authenticate: Basic realm="streamnorm"`; the comparison takes constant time.
   */
  auth?: MetricsAuth;
  /** Serve HTTPS instead of HTTP (node:https). A plain-HTTP request on the TLS port gets no HTTP answer. */
  tls?: MetricsTls;
  /** Further routes by exact path (e.g. `/predict`, see predictRoute.ts), behind the same auth and TLS. */
  routes?: Readonly<Record<string, ExtraRoute>>;
}

/** A route added to the metrics server: it answers every method itself (after the auth check). */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Basic-auth credentials of the metrics server. */
export interface MetricsAuth {
  username: string;
  password: string;
}

/** TLS material of the metrics server (PEM text). */
export interface MetricsTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** With a CA, clients must present a certificate it signed (mutual TLS); without, any client may connect. */
  ca?: string | Buffer;
}

/** A running metrics server. */
export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:9464` (`https://` with TLS). */
  readonly url: string;
  /** Stop listening and close open connections (an in-flight scrape is cut short). */
  close(): Promise<void>;
}

/**
 * Serve `/metrics` (Prometheus text format), `/healthz` (the process is alive: always 200 while it
 * serves) and `/readyz` (200 when the readiness probe passes, 503 with the failing checks otherwise),
 * over HTTP or HTTPS (`tls`), optionally behind basic auth (`auth`, not for `/healthz`).
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
  const cap = options.maxConnections ?? 64;
  if (!Number.isInteger(cap) || cap < 1) {
    throw new ConfigError(`metrics maxConnections must be an integer >= 1, got ${cap}`);
  }
  const check = options.auth === undefined ? null : basicAuthChecker(options.auth);
  const tls = options.tls;
  if (tls !== undefined && (!tls.cert || !tls.key)) {
    throw new ConfigError('metrics TLS needs both a certificate and a key');
  }
  const metrics = snapshot(() => registry.metrics(), options.snapshotMs ?? 1000);

  const overCap = new WeakSet<Socket>();
  const timeouts = { headersTimeout: idle, requestTimeout: idle, keepAliveTimeout: Math.min(5000, idle) };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (overCap.has(req.socket)) {
      res.shouldKeepAlive = false;
      res.setHeader('Retry-After', '1');
      send(res, 503, 'text/plain; charset=utf-8', 'too many connections\n');
      return;
    }
    handle(req, res, registry.contentType, metrics, readiness, check, options.routes).catch(() => {
      // never the internal message: it may name paths or settings
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  };
  const server: Server =
    tls === undefined
      ? createServer(timeouts, onRequest)
      : (createHttpsServer(
          {
            ...timeouts,
            cert: tls.cert,
            key: tls.key,
            handshakeTimeout: idle,
            ...(tls.ca === undefined ? {} : { ca: tls.ca, requestCert: true, rejectUnauthorized: true }),
          },
          onRequest,
        ) as unknown as Server);
  // The cap. Plain HTTP: a connection beyond it never reaches the HTTP parser; its first bytes are answered with
  // a fixed 503 and the socket is closed, the cheapest answer there is. HTTPS: the handshake is needed to
  // answer at all, so it is answered 503 on its first request. Far beyond the cap, Node's drop of maxConnections.
  let open = 0;
  /** Refused sockets are not the HTTP server's: close() destroys them itself. */
  const refused = new Set<Socket>();
  server.maxConnections = cap * 64;
  const httpListeners = tls === undefined ? (server.listeners('connection') as ((s: Socket) => void)[]) : [];
  if (tls === undefined) server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
    socket.setTimeout(idle, () => socket.destroy());
    if (open <= cap) {
      for (const l of httpListeners) l.call(server, socket);
    } else if (tls === undefined) {
      refused.add(socket);
      socket.once('close', () => refused.delete(socket));
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(TOO_MANY));
    } else {
      overCap.add(socket);
    }
  });
  if (tls !== undefined) {
    // req.socket is the TLS socket, not the TCP one 'connection' saw.
    server.on('secureConnection', (s: Socket) => {
      if (open > cap) overCap.add(s);
    });
    server.on('tlsClientError', (_err: Error, s: Socket) => s.destroy());
  }
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
    url: `${tls === undefined ? 'http' : 'https'}://${urlHost}:${bound}`,
    close: () => {
      for (const s of refused) s.destroy();
      return closeServer(server);
    },
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

const TOO_MANY =
  'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\n' +
  'Content-Length: 21\r\nConnection: close\r\nCache-Control: no-store\r\n\r\ntoo many connections\n';

/** Paths served without credentials when basic auth is on. */
const OPEN_PATHS = new Set(['/healthz']);

/**
 * A constant-time check of an `Authorization` header against the configured credentials: both sides are
 * hashed to 32 bytes first, so neither the length nor a common prefix leaks through timing.
 */
export function basicAuthChecker(auth: MetricsAuth): (header: string | undefined) => boolean {
  if (typeof auth.username !== 'string' || auth.username.length === 0 || auth.username.includes(':')) {
    throw new ConfigError('metrics basic auth needs a non-empty username without ":"');
  }
  if (typeof auth.password !== 'string' || auth.password.length === 0) {
    throw new ConfigError(`metrics basic auth for user ${auth.username} needs a non-empty password`);
  }
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  const expected = digest(`${auth.username}:${auth.password}`);
  return (header) => {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    const given = m === null ? '' : Buffer.from(m[1], 'base64').toString('utf8');
    // Always compare, also for a missing header, so that path takes the same time.
    return timingSafeEqual(digest(given), expected) && m !== null;
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  contentType: string,
  metrics: () => Promise<string>,
  readiness: ReadinessProbe | undefined,
  checkAuth: ((header: string | undefined) => boolean) | null,
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
  if (route === undefined && req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  if (checkAuth !== null && !OPEN_PATHS.has(path) && !checkAuth(req.headers.authorization)) {
    res.setHeader('WWW-Authenticate', 'Basic realm="streamnorm"');
    send(res, 401, 'text/plain; charset=utf-8', 'unauthorized\n');
    return;
  }
  if (route !== undefined) return route(req, res);
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
