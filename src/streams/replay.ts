import { lastValueFrom, tap } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { ModelState, OnlineModel } from '../models/types.js';
import { DeadLetterCounter, TeeDeadLetterSink, type DeadLetterSink } from './deadLetters.js';
import { decodeEvents, type EventSchema } from './decodeEvents.js';
import { fromRecording } from './fromRecording.js';
import { mergeOffsets } from './offsets.js';
import {
  emptyScore,
  prequential,
  type PrequentialOptions,
  type PrequentialResult,
  type RunningScore,
} from './prequential.js';
import { rebatch, type RebatchPolicy } from './rebatch.js';

export interface ReplayOptions {
  /** Path of the recording (JSON Lines of RecordedMessage). */
  recording: string;
  /** The variants, learned in place: `{ name: model }`. */
  models: Readonly<Record<string, OnlineModel>>;
  schema?: EventSchema;
  /** `'arrival'` (each recorded message alone), `{ count }` (default `{ count: 32 }`) or `{ poisson, seed }`. */
  policy?: Exclude<RebatchPolicy, { timeMs: number }>;
  learn?: PrequentialOptions['learn'];
  fading?: number;
  /** Also write dead letters here (they are always counted). */
  deadLetters?: DeadLetterSink;
  /** Called with every batch's result, synchronously (read models right away: they keep learning). */
  onResult?: (result: PrequentialResult) => void;
}

/** Final scores of one variant after a replay. */
export interface VariantSummary extends RunningScore {
  variant: string;
  rejectedUpdates: number;
}

export interface ReplayResult {
  /** Final `state()` of every variant. */
  states: Record<string, ModelState>;
  summaries: Record<string, VariantSummary>;
  /** Lines read (events and dead letters), valid events, batches. */
  messages: number;
  events: number;
  batches: number;
  /** Dead letters by reason. */
  deadLetters: Record<string, number>;
  /** Next offset per `"topic:partition"` after the replay (where a live consumer would continue). */
  offsets: Record<string, string>;
}

/**
 * Replay a recording straight into model variants, as fast as possible: fromRecording → decodeEvents →
 * rebatch → prequential. Nothing here depends on wall-clock time (time-based batching is refused), so the
 * same recording, policy and freshly built models give bit-for-bit identical final states and scores on every
 * run; dead letters never reach a model and do not count toward batch sizes, so poison lines change nothing.
 *
 * @example
 * const r = await replayIntoModels({ recording: 'data/sensor.jsonl', models: { l1: lasso, l2: ridge }, policy: { count: 16 } });
 * r.summaries.l1.loss;
 */
export async function replayIntoModels(options: ReplayOptions): Promise<ReplayResult> {
  const policy = options.policy ?? { count: 32 };
  if (policy !== 'arrival' && typeof policy === 'object' && 'timeMs' in policy)
    throw new ConfigError(
      'replayIntoModels is deterministic: time-based batching ({ timeMs }) is not allowed',
    );
  if (policy !== 'arrival' && (policy.maxWaitMs !== undefined || policy.maxAgeMs !== undefined))
    throw new ConfigError(
      'replayIntoModels is deterministic: a batch flushed by time (maxWaitMs, maxAgeMs) is not allowed',
    );
  const names = Object.keys(options.models);
  const counter = new DeadLetterCounter();
  const sink = options.deadLetters ? new TeeDeadLetterSink(counter, options.deadLetters) : counter;
  const offsets: Record<string, string> = {};
  let messages = 0;
  let events = 0;
  let batches = 0;
  let last: PrequentialResult | null = null;
  await lastValueFrom(
    fromRecording(options.recording, { speed: 'max' }).pipe(
      decodeEvents(options.schema ?? {}, { deadLetters: sink }),
      rebatch(policy),
      prequential(options.models, { learn: options.learn, fading: options.fading }),
      tap((r) => {
        messages += r.messages;
        events += r.envelopes.length;
        batches++;
        mergeOffsets(offsets, r.offsets);
        last = r;
        options.onResult?.(r);
      }),
    ),
    { defaultValue: null },
  );
  const states: Record<string, ModelState> = {};
  const summaries: Record<string, VariantSummary> = {};
  const final = last as PrequentialResult | null;
  for (const [i, name] of names.entries()) {
    const model = options.models[name];
    states[name] = model.state();
    const running = final?.variants[i].running;
    summaries[name] = {
      variant: name,
      rejectedUpdates: model.rejectedUpdates,
      ...(running ?? emptyScore()),
    };
  }
  return { states, summaries, messages, events, batches, deadLetters: counter.counts(), offsets };
}
