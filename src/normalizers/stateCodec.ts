/**
 * Options and state of a normalizer from one declared layout: a class lists its options (with their
 * checks and defaults), its γ/β count, the statistics buffers it keeps and its counters, and constructor
 * validation, `state()` and `fromState()` are derived from that list (see normalizerBase.ts), so the class
 * holds only its math. The state is JSON-safe:
 * `{ kind, ...options, gamma, beta, ...buffers as number[] (null when not kept), ...counters }`.
 */
import { NormalizationError } from '../errors.js';
import { floatsFromState } from './input.js';
import type { NormalizerTraits } from './descriptor.js';
import type { NormalizerParams, NormalizerState } from './normalizer.js';

/**
 * One constructor option: its check (naming the option and the bad value) and its default. `In` is what
 * a caller may pass when it differs from the checked value (BatchRenorm's schedule fills `startStep`).
 */
export interface OptionField<T, In = T> {
  check(who: string, name: string, v: unknown): T;
  /** Used when the option is undefined. Absent: the option is required. */
  readonly default?: T;
  /** Type-level only: what the constructor accepts. */
  readonly input?: In;
}

/** An option with a default (optional in the constructor's options). */
export type DefaultedField<T, In = T> = OptionField<T, In> & { readonly default: T };

export type OptionFields = Record<string, OptionField<unknown, unknown>>;

type InputOf<F> = F extends OptionField<infer _T, infer In> ? In : never;

/**
 * The constructor options a field list accepts: fields without a default are required, the others
 * optional. Doc comments written on the fields carry over.
 */
export type OptionsInput<F extends OptionFields> = {
  [K in keyof F as F[K] extends { readonly default: unknown } ? never : K]: InputOf<F[K]>;
} & {
  [K in keyof F as F[K] extends { readonly default: unknown } ? K : never]?: InputOf<F[K]>;
};

/** The resolved options a field list describes (every default applied). */
export type OptionsOf<F extends OptionFields> = {
  [K in keyof F]: F[K] extends OptionField<infer T, infer _In> ? T : never;
};

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
export function epsField(def = 1e-5): DefaultedField<number> {
  return {
    default: def,
    check: (who, name, v) =>
      typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fail(who, name, 'a finite number > 0', v),
  };
}

/** A rate in [0, 1] (momentum, decay). */
export function unitInterval(def: number): DefaultedField<number> {
  return {
    default: def,
    check: (who, name, v) =>
      typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1
        ? v
        : fail(who, name, 'a number in [0, 1]', v),
  };
}

/** A rate in [0, 1], or null for a meaning of its own. */
export function unitIntervalOrNull(def: number | null): DefaultedField<number | null> {
  return {
    default: def,
    check: (who, name, v) =>
      v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1)
        ? v
        : fail(who, name, 'a number in [0, 1] or null', v),
  };
}

/** A finite number ≥ `min`. */
export function atLeast(min: number, def: number): DefaultedField<number> {
  return {
    default: def,
    check: (who, name, v) =>
      typeof v === 'number' && Number.isFinite(v) && v >= min
        ? v
        : fail(who, name, `a finite number >= ${min}`, v),
  };
}

export function boolField(def: boolean): DefaultedField<boolean> {
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

/**
 * What a normalizer class declares about itself, from which its options, `state()` and `fromState()`
 * are derived: its kind and traits, its options (checked in declared order, with defaults), how many γ/β
 * it has, the statistics buffers it saves (each kept always, `true`, or while the named boolean option is
 * on) and its integer counters.
 */
export interface NormalizerLayout<
  K extends string,
  F extends OptionFields,
  Bd extends Record<string, true | string>,
  C extends string,
> {
  kind: K;
  /** The class name, for error messages. */
  who: string;
  traits: NormalizerTraits;
  options: F;
  /** γ/β count and whether the layer has them at all, from the resolved options. */
  affine(o: OptionsOf<F>): { size: number; enabled: boolean };
  buffers: Bd;
  counters: readonly C[];
  /** How a state's options become constructor options, where they are not simply the same. */
  restoreOptions?(o: OptionsOf<F>): object;
}

/** The `state()` a layout describes: kind, resolved options, γ, β, the buffers and the counters. */
export type StateOf<L> =
  L extends NormalizerLayout<infer K, infer F, infer Bd, infer C>
    ? NormalizerState & { kind: K } & OptionsOf<F> & { gamma: number[] | null; beta: number[] | null } & {
          [B in keyof Bd]: Bd[B] extends true ? number[] : number[] | null;
        } & { [N in C]: number }
    : never;

/** Any layout (what the codec functions accept). */
export type AnyLayout = NormalizerLayout<string, OptionFields, Record<string, true | string>, string>;

/** The constructor options of a layout. */
export type LayoutInput<L> =
  L extends NormalizerLayout<string, infer F, infer _Bd, infer _C> ? OptionsInput<F> : never;

/** The resolved options of a layout. */
export type LayoutOptions<L> =
  L extends NormalizerLayout<string, infer F, infer _Bd, infer _C> ? OptionsOf<F> : never;

/** Declares a layout, keeping its literal kind, option types, buffer names and counter names. */
export function normalizerLayout<
  K extends string,
  F extends OptionFields,
  Bd extends Record<string, true | string>,
  C extends string = never,
>(layout: NormalizerLayout<K, F, Bd, C>): NormalizerLayout<K, F, Bd, C> {
  return layout;
}

/** A copy that shares nothing with the live object (arrays and plain objects among the options). */
function detach(v: unknown): unknown {
  if (Array.isArray(v)) return [...(v as unknown[])];
  if (v !== null && typeof v === 'object') return { ...v };
  return v;
}

/** The live buffers of `n` that its state keeps (γ and β first), by name; null for those it does not keep. */
function keptBuffers(layout: AnyLayout, n: Record<string, unknown>): [string, Float64Array | null][] {
  const params = n.params as NormalizerParams;
  const out: [string, Float64Array | null][] = [
    ['gamma', params.gamma ?? null],
    ['beta', params.beta ?? null],
  ];
  for (const [name, when] of Object.entries(layout.buffers)) {
    out.push([name, when === true || n[when] === true ? (n[name] as Float64Array) : null]);
  }
  return out;
}

/** JSON-safe `{ kind, ...options, gamma, beta, ...buffers (null when not kept), ...counters }`. */
export function encodeState(layout: AnyLayout, instance: object): NormalizerState {
  const n = instance as Record<string, unknown>;
  const s: NormalizerState = { kind: layout.kind };
  for (const name of Object.keys(layout.options)) s[name] = detach(n[name]);
  for (const [name, buf] of keptBuffers(layout, n)) s[name] = buf === null ? null : Array.from(buf);
  for (const name of layout.counters) s[name] = n[name];
  return s;
}

/**
 * Rebuilds an instance from `s`: `create` receives the state's options (checked again by the
 * constructor), then the kept buffers (their lengths checked) and the counters (integers ≥ 0) are restored.
 */
export function restoreState<L extends AnyLayout, N extends object>(
  layout: L,
  s: unknown,
  create: (opts: LayoutOptions<L>) => N,
): N {
  const who = layout.who;
  if (s === null || typeof s !== 'object' || (s as { kind?: unknown }).kind !== layout.kind) {
    throw new NormalizationError(
      `${who}.fromState: expected a state with kind '${layout.kind}', got ${s === null || typeof s !== 'object' ? String(s) : String((s as { kind?: unknown }).kind)}`,
    );
  }
  const st = s as Record<string, unknown>;
  const opts: Record<string, unknown> = {};
  for (const name of Object.keys(layout.options)) opts[name] = st[name];
  const n = create((layout.restoreOptions?.(opts) ?? opts) as LayoutOptions<L>);
  const live = n as Record<string, unknown>;
  for (const [name, buf] of keptBuffers(layout, live)) {
    if (buf !== null) buf.set(floatsFromState(who, name, st[name], buf.length));
  }
  for (const name of layout.counters) {
    const v = st[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new NormalizationError(`${who}.fromState: ${name} must be an integer >= 0, got ${String(v)}`);
    }
    live[name] = v;
  }
  return n;
}
