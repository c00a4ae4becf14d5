/**
 * A recording replayed straight into model variants side by side, through the same operators as the live
 * pipeline (fromRecording → decodeEvents → rebatch → prequential → instrument), with Prometheus metrics
 * (mode="replay") served while it runs. Used by `streamnorm replay --into-models` and by `streamnorm main`.
 */
import { lastValueFrom, tap } from 'rxjs';
import { DatasetError } from '../errors.js';
import { readRecordingEvents } from '../experiment/source.js';
import { PipelineMetrics } from '../metrics/catalog.js';
import { createRegistry } from '../metrics/createRegistry.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { modelLabel } from '../models/modelFamilies.js';
import { isSparse } from '../models/types.js';
import { decodeEvents, type XShape } from '../streams/decodeEvents.js';
import type { StreamEvent } from '../streams/event.js';
import { fromRecording } from '../streams/fromRecording.js';
import { createInstrumenter } from '../streams/instrument.js';
import { prequential, type PrequentialResult, type RunningScore } from '../streams/prequential.js';
import { rebatch, type RebatchPolicy } from '../streams/rebatch.js';
import type { VariantConfig } from './config.js';
import type { Logger } from './logger.js';
import { createProgress } from './progress.js';
import { buildModels, defaultVariants, parseVariantList } from './variants.js';

export interface ReplayModelsOptions {
  recording: string;
  /** null: BatchNorm, LayerNorm, GroupNorm(4) and no normalizer side by side for windows, the default model otherwise. */
  variants: VariantConfig[] | null;
  speed: 'max' | number;
  batch: RebatchPolicy;
  /** Serve metrics here while replaying (null: no server). */
  metrics: { host: string; port: number } | null;
  logger: Logger;
  quiet?: boolean;
}

export interface VariantSummary {
  variant: string;
  model: string;
  events: number;
  loss: number;
  error: number;
  fadedError: number;
  eventsPerSecond: number;
  rejectedUpdates: number;
}

export interface ReplayModelsSummary {
  recording: string;
  shape: XShape;
  events: number;
  deadLetters: number;
  batches: number;
  wallSeconds: number;
  metricsUrl: string | null;
  variants: VariantSummary[];
}

/** The shape of an event's x, as decodeEvents' schema names it. */
export function shapeOf(e: StreamEvent): XShape {
  const x = e.x;
  if (isSparse(x)) return { kind: 'sparse' };
  if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0]))
    return { kind: 'window', shape: [x.length, (x[0] as number[]).length] };
  return { kind: 'vector', dim: (x as ArrayLike<number>).length };
}

export async function replayIntoModels(o: ReplayModelsOptions): Promise<ReplayModelsSummary> {
  // One pass to learn the shape, the classes and the length (for progress); the replay itself streams.
  const { events, skipped } = readRecordingEvents(o.recording);
  if (events.length === 0) throw new DatasetError(`recording ${o.recording} has no labelled events`);
  const shape = shapeOf(events[0]);
  let classes = 2;
  for (const e of events)
    if (typeof e.y === 'number' && Number.isInteger(e.y) && e.y + 1 > classes) classes = e.y + 1;
  const chosen =
    o.variants ??
    (shape.kind === 'window' ? parseVariantList('batch,layer,group:4,none') : defaultVariants(shape));
  const models = buildModels(chosen, shape, classes);
  const registry = createRegistry();
  const metrics = new PipelineMetrics(registry);
  let server: MetricsServer | null = null;
  if (o.metrics !== null) {
    server = await startMetricsServer({
      registry,
      host: o.metrics.host,
      port: o.metrics.port,
      readiness: () => metrics.readiness({ requireConsumer: false }),
    });
    o.logger.info({ url: `${server.url}/metrics` }, 'serving metrics');
  }
  const instrumenter = createInstrumenter(metrics, { mode: 'replay' });
  const total = events.length + skipped;
  const progress = createProgress({ label: 'replay', total, unit: 'events', quiet: o.quiet });
  const started = performance.now();
  let seen = 0;
  let deadLetters = 0;
  let last: PrequentialResult | undefined;
  const seconds: Record<string, number> = {};
  try {
    last = await lastValueFrom(
      fromRecording(o.recording, { speed: o.speed }).pipe(
        decodeEvents({ x: shape, label: { classes } }),
        rebatch(o.batch),
        prequential(models, { predictions: false }),
        tap((r) => {
          instrumenter.observe(r);
          seen += r.messages;
          deadLetters += r.deadLetters.length;
          for (const v of r.variants) seconds[v.variant] = (seconds[v.variant] ?? 0) + v.processingSeconds;
          progress.update(seen);
        }),
      ),
      { defaultValue: undefined },
    );
    instrumenter.flush();
  } finally {
    progress.stop();
    if (server !== null) await server.close();
  }
  const variants: VariantSummary[] = (last?.variants ?? []).map((v) => {
    const s: RunningScore = v.running;
    const m = models[v.variant];
    return {
      variant: v.variant,
      model: modelLabel(m),
      events: s.labeled,
      loss: s.loss,
      error: s.error,
      fadedError: s.fadedError,
      eventsPerSecond: s.events / Math.max(seconds[v.variant] ?? 0, 1e-9),
      rejectedUpdates: v.rejectedUpdates,
    };
  });
  return {
    recording: o.recording,
    shape,
    events: seen - deadLetters,
    deadLetters,
    batches: last === undefined ? 0 : last.batch + 1,
    wallSeconds: (performance.now() - started) / 1000,
    metricsUrl: server === null ? null : `${server.url}/metrics`,
    variants,
  };
}

/** An aligned table of the variants' prequential scores. */
export function formatVariantTable(s: ReplayModelsSummary): string {
  const header = ['variant', 'model', 'events', 'log loss', 'error', 'faded error', 'events/s', 'rejected'];
  const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '-');
  const rows = s.variants.map((v) => [
    v.variant,
    v.model,
    String(v.events),
    Number.isFinite(v.loss) ? v.loss.toFixed(4) : '-',
    pct(v.error),
    pct(v.fadedError),
    v.eventsPerSecond >= 1000 ? `${(v.eventsPerSecond / 1000).toFixed(1)}k` : v.eventsPerSecond.toFixed(0),
    String(v.rejectedUpdates),
  ]);
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]): string =>
    r.map((x, c) => (c < 2 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
