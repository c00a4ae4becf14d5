/**
 * `POST /predict` on the metrics server (opt-in): the current models predict the events in the request body,
 * nothing is learned. Body: one event, an array of events, or `{ "events": [...] }` (the event schema of
 * docs/schemas/event.schema.json). Answer: `{ "predictions": [ { "id", "predictions": { variant: { "predicted",
 * "proba"? } } } ] }` in the order of the events, or 400 with each rejected event's index and reason (nothing
 * is predicted when one event is bad), 405 for another method, 413 for a body over the limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isClassifier, type Features, type OnlineModel } from '../models/types.js';
import { createEventDecoder, isEnvelope, type XShape } from '../streams/decodeEvents.js';
import type { StreamEvent } from '../streams/event.js';
import type { ExtraRoute } from './server.js';

export interface PredictRouteOptions {
  /** The models to predict with, read at each request (a live pipeline's models keep learning between requests). */
  models: () => Readonly<Record<string, OnlineModel>>;
  /** The shape every event must have (default: each request's first event fixes it for that request). */
  shape?: () => XShape | null;
  /** Largest body in bytes (default 1 MiB). */
  maxBytes?: number;
  /** Most events in one request (default 10 000). */
  maxEvents?: number;
}

type VariantPrediction = { predicted: number; proba?: number[] };

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

async function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) return null;
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The per-event predictions of every model (inference mode: no event affects another's prediction). */
export function predictEvents(
  models: Readonly<Record<string, OnlineModel>>,
  events: readonly StreamEvent[],
): Record<string, VariantPrediction>[] {
  const out = events.map(() => ({}) as Record<string, VariantPrediction>);
  if (events.length === 0) return out;
  const X: Features[] = events.map((e) => e.x);
  for (const [name, m] of Object.entries(models)) {
    if (isClassifier(m)) {
      const P = m.predictProbaMany(X);
      for (let j = 0; j < events.length; j++) {
        const p = Array.from(P[j]);
        let best = 0;
        for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
        out[j][name] = { predicted: best, proba: p };
      }
    } else {
      const v = m.predictMany(X);
      for (let j = 0; j < events.length; j++) out[j][name] = { predicted: v[j] };
    }
  }
  return out;
}

export function createPredictRoute(options: PredictRouteOptions): ExtraRoute {
  const maxBytes = options.maxBytes ?? 1 << 20;
  const maxEvents = options.maxEvents ?? 10_000;
  return async (req, res) => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      json(res, 405, { error: 'method not allowed: POST a JSON event or array of events' });
      return;
    }
    const body = await readBody(req, maxBytes);
    if (body === null) {
      json(res, 413, { error: `body over ${maxBytes} bytes` });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      json(res, 400, { error: `not JSON: ${(err as Error).message}` });
      return;
    }
    const items: unknown[] = Array.isArray(parsed)
      ? parsed
      : parsed !== null &&
          typeof parsed === 'object' &&
          Array.isArray((parsed as { events?: unknown }).events)
        ? (parsed as { events: unknown[] }).events
        : [parsed];
    if (items.length > maxEvents) {
      json(res, 413, { error: `${items.length} events > ${maxEvents} per request` });
      return;
    }
    const shape = options.shape?.() ?? null;
    const decoder = createEventDecoder(shape === null ? {} : { x: shape });
    const events: StreamEvent[] = [];
    const rejected: { index: number; reason: string; detail: string }[] = [];
    items.forEach((value, index) => {
      const d = decoder.decode({
        origin: { topic: '_http', partition: 0, offset: String(index), timestamp: 0 },
        key: null,
        value,
        receivedAt: 0,
      });
      if (isEnvelope(d)) events.push(d.event);
      else rejected.push({ index, reason: d.reason, detail: d.detail });
    });
    if (rejected.length > 0) {
      json(res, 400, { error: 'events rejected', rejected });
      return;
    }
    const preds = predictEvents(options.models(), events);
    json(res, 200, { predictions: events.map((e, j) => ({ id: e.id, predictions: preds[j] })) });
  };
}
