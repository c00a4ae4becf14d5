/**
 * A recording replayed straight into model variants side by side, through the same operators as the live
 * pipeline (fromRecording → decodeEvents → rebatch → prequential → instrument), with Prometheus metrics
 * (mode="replay") served while it runs. Used by `streamnorm replay --into-models` and by `streamnorm main`.
 */
import { createReadStream } from 'node:fs';
import { NEVER, fromEvent, lastValueFrom, take, takeUntil, takeWhile, tap } from 'rxjs';
import { ConfigError, DatasetError, DecodeError } from '../errors.js';
import { PipelineMetrics } from '../metrics/catalog.js';
import { createRegistry } from '../metrics/createRegistry.js';
import { ReplayReadiness } from '../metrics/readiness.js';
import { startMetricsServer, type MetricsServer, type MetricsServerOptions } from '../metrics/server.js';
import { modelLabel } from '../models/modelFamilies.js';
import { isSparse, type Task } from '../models/types.js';
import { createEventDecoder, decodeEvents, isEnvelope, type XShape } from '../streams/decodeEvents.js';
import type { DeadLetterSink } from '../streams/deadLetters.js';
import type { DeadLetter, StreamEvent } from '../streams/event.js';
import { fromInputFile, inputLineOf, type InputSpec } from '../streams/inputFile.js';
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
  metrics: ({ host: string; port: number } & Pick<MetricsServerOptions, 'auth' | 'tls'>) | null;
  logger: Logger;
  quiet?: boolean;
  /** Number of classes (`--classes`); default: from a bounded sample of the recording (see {@link sampleSchema}). */
  classes?: number;
  /** Dense vector length (`--dim`); default: the most common shape in the sample. */
  dim?: number;
  /** Weight count of sparse (hashed) events (`--hash-dim`); default 2^18. An index >= it is a dead letter. */
  hashDim?: number;
  /** The labels are numbers (every variant a regressor): no class check, squared error as the loss. */
  regression?: boolean;
  /** Called with each dead letter and the recording line it came from. */
  onDeadLetter?: (line: number | undefined, letter: DeadLetter) => void;
  /** Stop at the first dead letter with a {@link DecodeError} naming its line. */
  strict?: boolean;
  /** Format and CSV mapping of the input file (default: detected). */
  input?: InputSpec;
  /** Aborting stops reading; the events read so far are still scored and summarized (`interrupted: true`). */
  signal?: AbortSignal;
}

/** Valid events read to fix the schema when flags do not: bounded, so a huge recording costs nothing more. */
export const SCHEMA_SAMPLE = 1000;
/** Most classes a sample may imply; more needs `--classes`. */
export const MAX_SAMPLED_CLASSES = 1000;

export interface VariantSummary {
  variant: string;
  model: string;
  /** What the variant predicts: its loss is log loss (classification) or squared error (regression). */
  task: Task;
  events: number;
  loss: number;
  error: number;
  fadedError: number;
  /** Mean absolute error of a regressor's predictions (NaN for classifiers). */
  mae: number;
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
  /** Stopped early by the abort signal (Ctrl-C). */
  interrupted: boolean;
}

/** The shape of an event's x, as decodeEvents' schema names it. */
export function shapeOf(e: StreamEvent): XShape {
  const x = e.x;
  if (isSparse(x)) return { kind: 'sparse' };
  if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0]))
    return { kind: 'window', shape: [x.length, (x[0] as number[]).length] };
  return { kind: 'vector', dim: (x as ArrayLike<number>).length };
}

/**
 * The schema of a replay when flags do not give it, from the first {@link SCHEMA_SAMPLE} lines that decode as
 * events: the most common shape (so one odd first line does not dead-letter the rest), and as many classes as
 * the labels 0, 1, 2, ... seen without a gap (at least 2). Never max(y) + 1: a stray label of 100000 is one
 * dead letter, not a 100001-class model.
 */
export async function sampleSchema(
  recording: string,
  fixed: { dim?: number; classes?: number },
  input: InputSpec = {},
): Promise<{ shape: XShape; classes: number }> {
  const decoder = createEventDecoder(
    fixed.dim === undefined ? {} : { x: { kind: 'vector', dim: fixed.dim } },
  );
  const shapes = new Map<string, { shape: XShape; n: number }>();
  const labels = new Set<number>();
  let valid = 0;
  const sample = (m: Parameters<typeof decoder.decode>[0]): void => {
    // A fresh inference per event: the sample votes on the shape instead of the first line fixing it.
    const d = fixed.dim === undefined ? createEventDecoder().decode(m) : decoder.decode(m);
    if (!isEnvelope(d)) return;
    valid++;
    const shape = shapeOf(d.event);
    const key = JSON.stringify(shape);
    const seen = shapes.get(key);
    if (seen === undefined) shapes.set(key, { shape, n: 1 });
    else seen.n++;
    const y = d.event.y;
    if (typeof y === 'number' && Number.isInteger(y) && y >= 0 && y < MAX_SAMPLED_CLASSES) labels.add(y);
  };
  await lastValueFrom(
    fromInputFile(recording, input).pipe(
      take(4 * SCHEMA_SAMPLE),
      takeWhile(() => valid < SCHEMA_SAMPLE),
      tap(sample),
    ),
    { defaultValue: undefined },
  );
  if (valid === 0)
    throw new DatasetError(
      `${recording} has no valid events in its first lines (run with --dead-letters FILE to see why)`,
    );
  let best: { shape: XShape; n: number } | null = null;
  for (const v of shapes.values()) if (best === null || v.n > best.n) best = v;
  let classes = fixed.classes ?? 0;
  if (fixed.classes === undefined) {
    while (labels.has(classes)) classes++;
    classes = Math.max(2, classes);
  }
  return { shape: best!.shape, classes };
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++;
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  }
  return last === 0x0a ? n : n + 1;
}

export async function replayIntoModels(o: ReplayModelsOptions): Promise<ReplayModelsSummary> {
  for (const [k, v, min] of [
    ['--classes', o.classes, 2],
    ['--dim', o.dim, 1],
  ] as const)
    if (v !== undefined && !(Number.isInteger(v) && v >= min))
      throw new ConfigError(`${k} must be an integer >= ${min}, got ${v}`);
  // The schema from flags or a bounded sample; the replay itself streams.
  const sampled = await sampleSchema(o.recording, { dim: o.dim, classes: o.classes }, o.input);
  const { classes } = sampled;
  let shape = sampled.shape;
  if (o.hashDim !== undefined) {
    if (shape.kind !== 'sparse')
      throw new ConfigError(
        `--hash-dim: the events of ${o.recording} are ${shape.kind === 'vector' ? 'dense vectors' : 'windows'}, not sparse (hashed) vectors`,
      );
    shape = { kind: 'sparse', dim: o.hashDim };
  }
  const chosen =
    o.variants ??
    (shape.kind === 'window' ? parseVariantList('batch,layer,group:4,none') : defaultVariants(shape));
  const models = buildModels(chosen, shape, classes);
  const registry = createRegistry();
  const metrics = new PipelineMetrics(registry);
  const readiness = new ReplayReadiness(o.recording);
  let server: MetricsServer | null = null;
  if (o.metrics !== null) {
    server = await startMetricsServer({
      registry,
      ...o.metrics,
      readiness: () => readiness.report(),
    });
    o.logger.info({ url: `${server.url}/metrics` }, 'serving metrics');
  }
  const instrumenter = createInstrumenter(metrics, { mode: 'replay' });
  const total = await countLines(o.recording);
  const progress = createProgress({ label: 'replay', total, unit: 'events', quiet: o.quiet });
  const sink: DeadLetterSink = {
    write(letter) {
      const line = inputLineOf(letter.origin);
      o.onDeadLetter?.(line, letter);
      if (o.strict)
        throw new DecodeError(
          letter.reason,
          `line ${line ?? '?'} of ${o.recording}: ${letter.reason}: ${letter.detail} (--strict stops at the first bad line)`,
        );
    },
    close: () => Promise.resolve(),
  };
  const started = performance.now();
  readiness.started();
  let seen = 0;
  let deadLetters = 0;
  let last: PrequentialResult | undefined;
  const seconds: Record<string, number> = {};
  // Regression: the mean absolute error beside the MSE (the prequential loss), from the predictions.
  const absErrorSum: Record<string, number> = {};
  const regression = Object.values(models).some((m) => m.task === 'regression');
  try {
    last = await lastValueFrom(
      fromInputFile(o.recording, o.input, { speed: o.speed }).pipe(
        takeUntil(o.signal === undefined ? NEVER : fromEvent(o.signal, 'abort')),
        decodeEvents({ x: shape, label: o.regression === true ? {} : { classes } }, { deadLetters: sink }),
        rebatch(o.batch),
        prequential(models, { predictions: regression }),
        tap((r) => {
          instrumenter.observe(r);
          readiness.progress(r.messages);
          seen += r.messages;
          deadLetters += r.deadLetters.length;
          for (const v of r.variants) {
            seconds[v.variant] = (seconds[v.variant] ?? 0) + v.processingSeconds;
            if (v.task !== 'regression') continue;
            let sum = absErrorSum[v.variant] ?? 0;
            for (const p of v.predictions) if (p.y !== undefined) sum += Math.abs(p.y - p.predicted);
            absErrorSum[v.variant] = sum;
          }
          progress.update(seen);
        }),
      ),
      { defaultValue: undefined },
    );
    instrumenter.flush();
    readiness.finished();
  } catch (err) {
    readiness.failed(err instanceof Error ? err.message : String(err));
    throw err;
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
      task: m.task,
      events: s.labeled,
      loss: s.loss,
      error: s.error,
      fadedError: s.fadedError,
      mae: m.task === 'regression' && s.labeled > 0 ? (absErrorSum[v.variant] ?? 0) / s.labeled : NaN,
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
    interrupted: o.signal?.aborted === true,
  };
}

/** An aligned table of the variants' prequential scores. */
export function formatVariantTable(s: ReplayModelsSummary): string {
  // the loss is log loss for classifiers, squared error for regressors; a regression's error is the MAE
  const tasks = new Set(s.variants.map((v) => v.task));
  const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '-');
  const fixed = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : '-');
  const speed = (v: VariantSummary): string =>
    v.eventsPerSecond >= 1000 ? `${(v.eventsPerSecond / 1000).toFixed(1)}k` : v.eventsPerSecond.toFixed(0);
  const regressionOnly = tasks.size === 1 && tasks.has('regression');
  const header = regressionOnly
    ? ['variant', 'model', 'events', 'MSE', 'MAE', 'events/s', 'rejected']
    : [
        'variant',
        'model',
        'events',
        tasks.size > 1 ? 'loss' : 'log loss',
        'error',
        'faded error',
        'events/s',
        'rejected',
      ];
  const rows = s.variants.map((v) => [
    v.variant,
    v.model,
    String(v.events),
    fixed(v.loss),
    ...(regressionOnly ? [fixed(v.mae)] : [pct(v.error), pct(v.fadedError)]),
    speed(v),
    String(v.rejectedUpdates),
  ]);
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]): string =>
    r.map((x, c) => (c < 2 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
