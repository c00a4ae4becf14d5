import { firstValueFrom, from, toArray } from 'rxjs';
import { LinearModel } from '../../../src/models/linear/index.js';
import { Mlp } from '../../../src/models/nets/mlp.js';
import type { OnlineModel } from '../../../src/models/types.js';
import type { PipelineMetrics } from '../../../src/metrics/index.js';
import { decodeEvents } from '../../../src/streams/decodeEvents.js';
import type { RawMessage, StreamEvent } from '../../../src/streams/event.js';
import { instrument } from '../../../src/streams/instrument.js';
import { prequential, type PrequentialResult } from '../../../src/streams/prequential.js';
import { rebatch } from '../../../src/streams/rebatch.js';

/** A deterministic labeled stream of 4-dimensional vectors (class = sign of a fixed linear score). */
export function streamEvents(n: number, unlabeledEvery = 0): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let i = 0; i < n; i++) {
    const x = [Math.sin(i * 1.7), Math.cos(i * 0.9), Math.sin(i * 0.37 + 1), ((i * 7) % 11) / 11 - 0.5];
    const ev: StreamEvent = { id: `e${i}`, ts: 1_700_000_000_000 + i * 10, x };
    if (unlabeledEvery === 0 || i % unlabeledEvery !== 0) ev.y = x[0] - 0.5 * x[1] + x[3] > 0 ? 1 : 0;
    out.push(ev);
  }
  return out;
}

/** Kafka-like raw messages: the events as JSON text, with `bad` malformed messages spread among them. */
export function rawMessages(events: StreamEvent[], bad: string[], topic = 'events'): RawMessage[] {
  const out: RawMessage[] = [];
  const every = bad.length === 0 ? Infinity : Math.floor(events.length / bad.length);
  let offset = 0;
  let b = 0;
  const receivedAt = Date.now();
  const push = (value: string): void => {
    out.push({
      origin: { topic, partition: 0, offset: String(offset), timestamp: 1_700_000_000_000 + offset },
      key: null,
      value: Buffer.from(value),
      receivedAt,
    });
    offset++;
  };
  events.forEach((ev, i) => {
    if (b < bad.length && i > 0 && i % every === 0) push(bad[b++]);
    push(JSON.stringify(ev));
  });
  while (b < bad.length) push(bad[b++]);
  return out;
}

/** The three variants the metric tests compare: a sparse linear model, and MLPs with BatchNorm and LayerNorm. */
export function variants(): Record<string, OnlineModel> {
  return {
    'linear-l1': new LinearModel({
      loss: 'logistic',
      regularizer: { l1: 0.01 },
      optimizer: { type: 'sgd', lr: 0.1 },
    }),
    'mlp-batch': new Mlp({ inputs: 4, hidden: [8], normalizer: 'batch', classes: 2, seed: 1 }),
    'mlp-layer': new Mlp({ inputs: 4, hidden: [8], normalizer: 'layer', classes: 2, seed: 1 }),
  };
}

/** decodeEvents → rebatch({ count }) → prequential(models) → instrument(metrics): a real in-process pipeline. */
export async function runPipeline(
  metrics: PipelineMetrics,
  raws: RawMessage[],
  models: Record<string, OnlineModel>,
  count = 16,
): Promise<PrequentialResult[]> {
  return firstValueFrom(
    from(raws).pipe(
      decodeEvents({ x: { kind: 'vector', dim: 4 }, label: { classes: 2 } }),
      rebatch({ count }),
      prequential(models),
      instrument(metrics, { mode: 'replay', modelEveryMs: 0 }),
      toArray(),
    ),
  );
}
