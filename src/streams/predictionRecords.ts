/**
 * The records `runLivePipeline` publishes: one per event, all variants together, keyed by the event id.
 * The JSON text is written directly, without building a record object per event and stringifying it:
 * it is byte for byte what `JSON.stringify` gives for a {@link PredictionRecord} (property tests hold it to
 * that), at a fraction of the allocations.
 */
import type { PrequentialResult } from './prequential.js';
import type { OutgoingMessage } from './toKafka.js';

/** The value of a prediction record: the event's id and time, its origin and every variant's prediction. */
export interface PredictionRecord {
  id: string;
  ts: number;
  topic: string;
  partition: number;
  offset: string;
  y?: number;
  predictions: Record<string, { predicted: number; proba?: number[] }>;
}

/** A number as JSON.stringify writes it (non-finite numbers become null). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * A string as JSON.stringify writes it. Ids and offsets almost never hold a quote, a backslash, a control
 * character or a surrogate (which JSON.stringify escapes), so those are quoted as they are after one scan.
 */
function str(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** One prediction record per event of the batch, in batch order; key = event id. */
export function predictionRecords(r: PrequentialResult): OutgoingMessage[] {
  const n = r.envelopes.length;
  const out: OutgoingMessage[] = new Array(n);
  // Variants in the order an object keyed by their names lists them (integer-like names first, as JavaScript
  // orders keys), with their quoted names, once per batch.
  const index = new Map(r.variants.map((v, i) => [v.variant, i]));
  const variants = Object.keys(Object.fromEntries(r.variants.map((v) => [v.variant, 0]))).map(
    (name) => r.variants[index.get(name)!],
  );
  const names = variants.map((v) => `${JSON.stringify(v.variant)}:`);
  let topic = '';
  let topicJson = '""';
  for (let j = 0; j < n; j++) {
    const { event, origin } = r.envelopes[j];
    if (origin.topic !== topic) {
      topic = origin.topic;
      topicJson = JSON.stringify(topic);
    }
    let preds = '';
    for (let v = 0; v < variants.length; v++) {
      const p = variants[v].predictions[j];
      if (!p) continue;
      let body = `{"predicted":${num(p.predicted)}`;
      if (p.proba) {
        body += ',"proba":[';
        const proba = p.proba;
        for (let k = 0; k < proba.length; k++) body += k === 0 ? num(proba[k]) : `,${num(proba[k])}`;
        body += ']';
      }
      preds += preds.length === 0 ? `${names[v]}${body}}` : `,${names[v]}${body}}`;
    }
    let value =
      `{"id":${str(event.id)},"ts":${num(event.ts)},"topic":${topicJson},` +
      `"partition":${num(origin.partition)},"offset":${str(origin.offset)},"predictions":{${preds}}`;
    value += event.y === undefined ? '}' : `,"y":${num(event.y)}}`;
    out[j] = { key: event.id, value };
  }
  return out;
}
