/**
 * Options and state of a normalizer from one declared field list: a class lists its options (with their
 * checks and defaults), the parameter and statistics buffers it keeps and its counters, and the codec
 * derives constructor validation, `state()` and `fromState()` from that list, so the class holds only its
 * math. The state is JSON-safe: `{ kind, ...options, ...buffers as number[] (null when not kept), ...counters }`.
 */
import { NormalizationError } from '../errors.js';
import type { NormalizerState } from './normalizer.js';

/** One constructor option: its check (naming the option and the bad value) and its default. */
export interface OptionField<T> {
  check(who: string, name: string, v: unknown): T;
  /** Used when the option is undefined. Absent: the option is required. */
  readonly default?: T;
}

export type OptionFields = Record<string, OptionField<unknown>>;

/** The resolved options a field list describes (every default applied). */
export type OptionsOf<F extends OptionFields> = {
  [K in keyof F]: F[K] extends OptionField<infer T> ? T : never;
};

/**
 * The `state()` of a normalizer: its kind, resolved options, buffers (`Optional`: null when the instance
 * does not keep them, e.g. γ and β without an affine step; `Kept`: always there) and counters.
 */
export type StateOf<
  K extends string,
  F extends OptionFields,
  Optional extends string,
  Kept extends string = never,
  Counters extends string = never,
> = NormalizerState & { kind: K } & OptionsOf<F> & { [B in Optional]: number[] | null } & {
    [B in Kept]: number[];
  } & { [C in Counters]: number };

function fail(who: string, name: string, what: string, v: unknown): never {
  throw new NormalizationError(`${who}: ${name} must be ${what}, got ${String(v)}`);
}

/** A required positive integer (channels, groups). */
export function positiveInt(): OptionField<number> {
  return {
    check: (who, name, v) =>
      typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : fail(who, name, 'a positive integer', v),
  };
}

/** ε: a finite number > 0. */
export function epsField(def = 1e-5): OptionField<number> {
  return {
    default: def,
    check: (who, name, v) =>
      typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fail(who, name, 'a finite number > 0', v),
  };
}

/** A rate in [0, 1] (momentum, decay). */
export function unitInterval(def: number): OptionField<number> {
  return {
    default: def,
    check: (who, name, v) =>
      typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1
        ? v
        : fail(who, name, 'a number in [0, 1]', v),
  };
}

/** A rate in [0, 1], or null for a meaning of its own. */
export function unitIntervalOrNull(def: number | null): OptionField<number | null> {
  return {
    default: def,
    check: (who, name, v) =>
      v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1)
        ? v
        : fail(who, name, 'a number in [0, 1] or null', v),
  };
}

/** A finite number ≥ `min`. */
export function atLeast(min: number, def: number): OptionField<number> {
  return {
    default: def,
    check: (who, name, v) =>
      typeof v === 'number' && Number.isFinite(v) && v >= min
        ? v
        : fail(who, name, `a finite number >= ${min}`, v),
  };
}

export function boolField(def: boolean): OptionField<boolean> {
  return {
    default: def,
    check: (who, name, v) => (typeof v === 'boolean' ? v : fail(who, name, 'a boolean', v)),
  };
}

/**
 * Checks `opts` against `fields` in their declared order and applies the defaults; the first bad option
 * throws a NormalizationError naming it. Only undefined takes the default: null is a value, refused unless
 * the field gives it a meaning (BatchNorm's cumulative `momentum: null`). Options not in `fields` are ignored.
 */
export function readOptions<F extends OptionFields>(who: string, fields: F, opts: unknown): OptionsOf<F> {
  if (opts === null || typeof opts !== 'object')
    throw new NormalizationError(`${who}: options object required`);
  const given = opts as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    let v = given[name];
    if (v === undefined) v = field.default;
    out[name] = field.check(who, name, v);
  }
  return out as OptionsOf<F>;
}

/** A copy that shares nothing with the live object (arrays and plain objects among the options). */
function detach(v: unknown): unknown {
  if (Array.isArray(v)) return [...(v as unknown[])];
  if (v !== null && typeof v === 'object') return { ...v };
  return v;
}

/**
 * Derives `state()` and `fromState()` for a normalizer class `N`: its options are read back from the
 * instance's fields of the same names, its buffers (parameters and statistics, null when the instance
 * does not keep one) are saved as number arrays and restored into the rebuilt instance with their length
 * checked, and its counters must come back as integers ≥ 0.
 */
export class StateCodec<
  N extends object,
  K extends string,
  F extends OptionFields,
  B extends string,
  C extends string,
> {
  constructor(
    readonly kind: K,
    readonly who: string,
    readonly fields: F,
    private readonly buffers: (n: N) => Record<B, Float64Array | null | undefined>,
    private readonly counters: readonly C[] = [],
  ) {}

  /** Resolves and checks constructor options (see {@link readOptions}). */
  options(opts: unknown): OptionsOf<F> {
    return readOptions(this.who, this.fields, opts);
  }

  /** The state; its class narrows the type where a buffer is always kept. */
  state(n: N): StateOf<K, F, B, never, C> {
    const live = n as unknown as Record<string, unknown>;
    const s: Record<string, unknown> = { kind: this.kind };
    for (const name of Object.keys(this.fields)) s[name] = detach(live[name]);
    for (const [name, buf] of Object.entries(this.buffers(n)) as [
      string,
      Float64Array | null | undefined,
    ][]) {
      s[name] = buf ? Array.from(buf) : null;
    }
    for (const name of this.counters) s[name] = live[name];
    return s as StateOf<K, F, B, never, C>;
  }

  /**
   * Rebuilds an instance from `s`: `create` receives the state's options (checked again by the
   * constructor), then buffers and counters are restored.
   */
  restore(s: unknown, create: (opts: OptionsOf<F>) => N): N {
    const who = this.who;
    if (s === null || typeof s !== 'object' || (s as { kind?: unknown }).kind !== this.kind) {
      throw new NormalizationError(
        `${who}.fromState: expected a state with kind '${this.kind}', got ${s === null || typeof s !== 'object' ? String(s) : String((s as { kind?: unknown }).kind)}`,
      );
    }
    const st = s as Record<string, unknown>;
    const opts: Record<string, unknown> = {};
    for (const name of Object.keys(this.fields)) opts[name] = st[name];
    const n = create(opts as OptionsOf<F>);
    for (const [name, buf] of Object.entries(this.buffers(n)) as [
      string,
      Float64Array | null | undefined,
    ][]) {
      if (buf) buf.set(floatsFromState(who, name, st[name], buf.length));
    }
    for (const name of this.counters) {
      const v = st[name];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        throw new NormalizationError(`${who}.fromState: ${name} must be an integer >= 0, got ${String(v)}`);
      }
      (n as Record<string, unknown>)[name] = v;
    }
    return n;
  }
}

/** Float64Array from a JSON number array of the expected length (fromState). */
function floatsFromState(who: string, name: string, v: unknown, length: number): Float64Array {
  if (
    !Array.isArray(v) ||
    v.length !== length ||
    !v.every((e) => typeof e === 'number' && Number.isFinite(e))
  ) {
    throw new NormalizationError(`${who}.fromState: ${name} must be ${length} finite numbers`);
  }
  return Float64Array.from(v as number[]);
}
