import type { OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { Features } from '../models/types.js';
import type { DeadLetterSink } from './deadLetters.js';
import { isDeadLetter, type Decoded, type XShape } from './decodeEvents.js';
import type { DeadLetter, Envelope } from './event.js';
import { operate } from './operate.js';

/**
 * The default input bound: a feature value or label of magnitude above 1e9 is a dead letter (`out_of_range`).
 * Finite values up to ±1.8e308 pass JSON, but a model squares them (variances, L2 norms, the scaler's M2:
 * above ~1.3e154 that overflows) and multiplies them by weights and learning rates; a stream whose features
 * exceed 1e9 in magnitude is mis-scaled or hostile, and the robust default's scaler would need thousands of
 * events to absorb even one such value. Raise it with `maxAbs` for streams that really carry larger values.
 */
export const DEFAULT_MAX_ABS = 1e9;

export interface FitSchemaOptions {
  /** Largest accepted |x| (every feature value) and |y|. Default {@link DEFAULT_MAX_ABS}. */
  maxAbs?: number;
  /** Also hand every dead letter made here to this sink. */
  deadLetters?: DeadLetterSink;
  /** Called once with the shape of the first valid event (the stream's shape, when it was inferred). */
  onShape?: (shape: XShape) => void;
  /** Longest `raw` text kept in a dead letter (default 64 KiB). */
  maxRawChars?: number;
}

/** The shape of a decoded event's `x` (decodeEvents has validated it). */
export function shapeOfFeatures(x: Features): XShape {
  if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0]))
    return { kind: 'window', shape: [x.length, (x[0] as number[]).length] };
  if (Array.isArray(x) || x instanceof Float64Array) return { kind: 'vector', dim: x.length };
  return { kind: 'sparse' };
}

/** The first value of `x` beyond ±maxAbs, as "where = value", or null. */
function outOfRange(x: Features, maxAbs: number): string | null {
  const scan = (a: ArrayLike<number>, where: string): string | null => {
    for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]) <= maxAbs)) return `${where}[${i}] = ${a[i]}`;
    return null;
  };
  if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0])) {
    const rows = x as number[][];
    for (let r = 0; r < rows.length; r++) {
      const hit = scan(rows[r], `x[${r}]`);
      if (hit !== null) return hit;
    }
    return null;
  }
  if (Array.isArray(x) || x instanceof Float64Array) return scan(x as ArrayLike<number>, 'x');
  return scan(x.values, 'x.values');
}

/**
 * Holds decoded events to the stream's input bound, after `decodeEvents` (which checks shape, classes, sparse
 * dim and finiteness): an event with a feature value or label beyond ±`maxAbs` becomes a dead letter with
 * reason `out_of_range`, so a finite but huge value (±1e308) never reaches a model. Dead letters and arrival
 * batches pass through in place, so offsets and batch boundaries are unchanged.
 *
 * @example
 * raw$.pipe(decodeEvents(schema), fitSchema({ maxAbs: 1e9 }), rebatch({ count: 32 }), prequential(models))
 */
export function fitSchema<I extends Decoded | readonly Decoded[]>(
  options: FitSchemaOptions = {},
): OperatorFunction<I, I> {
  const maxAbs = options.maxAbs ?? DEFAULT_MAX_ABS;
  if (!(maxAbs > 0)) throw new ConfigError(`maxAbs must be a positive number, got ${maxAbs}`);
  const maxRaw = options.maxRawChars ?? 1 << 16;
  return operate<I, I>((out) => {
    let shapeSeen = false;
    const one = (d: Decoded): Decoded => {
      if (isDeadLetter(d)) return d;
      const { event } = d as Envelope;
      let hit = outOfRange(event.x, maxAbs);
      if (hit === null && event.y !== undefined && !(Math.abs(event.y) <= maxAbs)) hit = `y = ${event.y}`;
      if (hit === null) {
        if (!shapeSeen) {
          shapeSeen = true;
          options.onShape?.(shapeOfFeatures(event.x));
        }
        return d;
      }
      let raw = JSON.stringify(event);
      if (raw.length > maxRaw) raw = raw.slice(0, maxRaw);
      const letter: DeadLetter = {
        origin: d.origin,
        key: event.key ?? null,
        reason: 'out_of_range',
        detail: `${hit} is beyond the input bound ±${maxAbs}`,
        raw,
      };
      options.deadLetters?.write(letter);
      return letter;
    };
    return {
      next(input) {
        if (Array.isArray(input)) out.next((input as readonly Decoded[]).map(one) as unknown as I);
        else out.next(one(input as Decoded) as I);
      },
    };
  });
}
