/**
 * Arithmetic on model states (the JSON every model's `state()` gives and `modelFromState` reads), so that
 * replicas of any model family exchange what they learned without per-model code: a delta is what one
 * state learned beyond another, deltas add up, and a delta applies to a state.
 *
 * What a delta holds, by the shape of the state:
 * - every finite number and every array of finite numbers (parameters, counters such as `t`,
 *   `numBatchesTracked`, `rejectedUpdates`): the difference, added as is (asynchronous SGD's sum of steps);
 * - a sub-state whose `kind` has a {@link StatisticsMerge} that is exact for it (BatchNorm with
 *   `momentum: null`, StandardScaler): its statistics as counted moments of what was learned in between,
 *   merged with Chan et al.'s parallel formula; its other numbers as differences;
 * - a sub-state whose merge is not exact (moving averages): its mean and variance are exchanged by value and
 *   mixed ({@link readMixtures}, {@link writeMixtures}); its other numbers as differences;
 * - nothing for what stays local to a replica ({@link LOCAL_KEYS}: random generators, optimizer moments,
 *   options, early stopping's saved best state) and for strings, booleans, nulls and non-finite numbers.
 */
import { statisticsMerges } from '../normalizers/descriptors.js';
import { type Moments, mergeMoments, subtractMoments } from '../normalizers/moments.js';

/**
 * Keys whose values each replica keeps for itself: a generator's state (averaging it would break its
 * sequence), the optimizer's moments (local, as in local SGD / FedAvg), the step guard's own averages, the
 * options and the saved best state of early stopping.
 */
export const LOCAL_KEYS: ReadonlySet<string> = new Set([
  'rng',
  'optimizer',
  'augmenter',
  'guard',
  'options',
  'best',
  'bestState',
  'stats',
  'version',
]);

/** The marker under which a delta holds counted moments. */
const MOMENTS = '$moments';

/** What a state learned beyond another: a JSON tree mirroring the state (see the module comment). */
export type StateDelta = number | number[] | StateDelta[] | { [key: string]: StateDelta | Moments };

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function mergeFor(node: Record<string, unknown>) {
  return typeof node.kind === 'string' ? statisticsMerges().get(node.kind) : undefined;
}

/** `later − earlier` (see the module comment); undefined when nothing in it is shared. */
export function stateDelta(later: unknown, earlier: unknown): StateDelta | undefined {
  if (typeof later === 'number') {
    return typeof earlier === 'number' && Number.isFinite(later) && Number.isFinite(earlier)
      ? later - earlier
      : undefined;
  }
  if (isNumberArray(later)) {
    // A buffer sized by the first event (null before it) learned all of its values.
    if (earlier === null) return later.every(Number.isFinite) ? [...later] : undefined;
    if (!isNumberArray(earlier) || earlier.length !== later.length) return undefined;
    if (!later.every(Number.isFinite) || !earlier.every(Number.isFinite)) return undefined;
    return later.map((v, i) => v - earlier[i]);
  }
  if (Array.isArray(later)) {
    if (!Array.isArray(earlier) || earlier.length !== later.length) return undefined;
    const out = later.map((v, i) => stateDelta(v, earlier[i]));
    return out.some((d) => d === undefined) ? undefined : (out as StateDelta[]);
  }
  if (!isObject(later) || !isObject(earlier) || later.kind !== earlier.kind) return undefined;
  const out: Record<string, StateDelta | Moments> = {};
  const merge = mergeFor(later);
  const exact = merge !== undefined && merge.exact(later) && merge.exact(earlier);
  if (exact) out[MOMENTS] = subtractMoments(merge.read(later), merge.read(earlier));
  const mixed = merge !== undefined && !exact && merge.mixture !== undefined ? merge.mixture : null;
  for (const [key, v] of Object.entries(later)) {
    if (LOCAL_KEYS.has(key) || (exact && merge.fields.includes(key))) continue;
    if (mixed !== null && (key === mixed.mean || key === mixed.variance)) continue;
    const d = stateDelta(v, earlier[key]);
    if (d !== undefined) out[key] = d;
  }
  return out;
}

/** `a + b`: two deltas learned one after the other (or by different replicas) as one. */
export function addDeltas(a: StateDelta | undefined, b: StateDelta | undefined): StateDelta | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (typeof a === 'number') return typeof b === 'number' ? a + b : a;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return a;
    return (a as StateDelta[]).map((v, i) => addDeltas(v, (b as StateDelta[])[i])!) as StateDelta;
  }
  if (!isObject(b)) return a;
  const out: Record<string, StateDelta | Moments> = {};
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const x = (a as Record<string, unknown>)[key];
    const y = (b as Record<string, unknown>)[key];
    if (key === MOMENTS) {
      out[key] =
        x === undefined
          ? (y as Moments)
          : y === undefined
            ? (x as Moments)
            : mergeMoments(x as Moments, y as Moments);
    } else {
      out[key] = addDeltas(x as StateDelta | undefined, y as StateDelta | undefined)!;
    }
  }
  return out;
}

/** `a − b`: what `a` holds beyond `b`, when `a` was built by adding deltas to `b` ({@link addDeltas}). */
export function subtractDeltas(a: StateDelta | undefined, b: StateDelta | undefined): StateDelta | undefined {
  if (b === undefined) return a;
  if (a === undefined) return undefined;
  if (typeof a === 'number') return typeof b === 'number' ? a - b : a;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return a;
    return (a as StateDelta[]).map((v, i) => subtractDeltas(v, (b as StateDelta[])[i])!) as StateDelta;
  }
  if (!isObject(b)) return a;
  const out: Record<string, StateDelta | Moments> = {};
  for (const [key, x] of Object.entries(a)) {
    const y = (b as Record<string, unknown>)[key];
    if (key === MOMENTS)
      out[key] = y === undefined ? (x as Moments) : subtractMoments(x as Moments, y as Moments);
    else out[key] = subtractDeltas(x as StateDelta, y as StateDelta | undefined)!;
  }
  return out;
}

/** `state + delta`: a new state (the input is not modified). */
export function applyDelta<S>(state: S, delta: StateDelta | undefined): S {
  if (delta === undefined) return state;
  if (typeof state === 'number') return (typeof delta === 'number' ? state + delta : state) as S;
  if (state === null) return (isNumberArray(delta) ? [...delta] : state) as S;
  if (isNumberArray(state)) {
    if (!isNumberArray(delta) || delta.length !== state.length) return state;
    return state.map((v, i) => v + delta[i]) as S;
  }
  if (Array.isArray(state)) {
    if (!Array.isArray(delta) || delta.length !== state.length) return state;
    return state.map((v, i) => applyDelta(v, (delta as StateDelta[])[i])) as S;
  }
  if (!isObject(state) || !isObject(delta)) return state;
  let out: Record<string, unknown> = { ...state };
  for (const [key, d] of Object.entries(delta)) {
    if (key === MOMENTS || !(key in state)) continue;
    out[key] = applyDelta(state[key], d as StateDelta);
  }
  const merge = mergeFor(state);
  if (merge !== undefined) {
    const moments = delta[MOMENTS] as Moments | undefined;
    if (moments !== undefined && merge.exact(state)) {
      out = merge.write(out, mergeMoments(merge.read(state), moments));
    } else {
      for (const key of merge.nonNegative) {
        const v = out[key];
        if (isNumberArray(v)) out[key] = v.map((x) => Math.max(0, x));
      }
    }
  }
  return out as S;
}

/** A state's moving-average statistics by path (`inner.normalizers.0`), as {@link readMixtures} finds them. */
export type Mixtures = Record<string, { mean: number[]; variance: number[] }>;

/** The moving-average statistics (mean, variance) of every sub-state whose merge mixes them, by path. */
export function readMixtures(state: unknown, path = '', out: Mixtures = {}): Mixtures {
  if (Array.isArray(state)) {
    state.forEach((v, i) => readMixtures(v, path === '' ? String(i) : `${path}.${i}`, out));
    return out;
  }
  if (!isObject(state)) return out;
  const merge = mergeFor(state);
  if (merge?.mixture !== undefined && !merge.exact(state)) {
    const mean = state[merge.mixture.mean];
    const variance = state[merge.mixture.variance];
    if (isNumberArray(mean) && isNumberArray(variance))
      out[path] = { mean: [...mean], variance: [...variance] };
    return out;
  }
  for (const [key, v] of Object.entries(state)) {
    if (!LOCAL_KEYS.has(key)) readMixtures(v, path === '' ? key : `${path}.${key}`, out);
  }
  return out;
}

/** `state` with the statistics at the paths of `mixtures` replaced (a new state; the input is not modified). */
export function writeMixtures<S>(state: S, mixtures: Mixtures, path = ''): S {
  if (Array.isArray(state)) {
    return state.map((v, i) => writeMixtures(v, mixtures, path === '' ? String(i) : `${path}.${i}`)) as S;
  }
  if (!isObject(state)) return state;
  const merge = mergeFor(state);
  if (merge?.mixture !== undefined && !merge.exact(state)) {
    const m = mixtures[path];
    const mean = state[merge.mixture.mean];
    if (m === undefined || !isNumberArray(mean) || mean.length !== m.mean.length) return state;
    return { ...state, [merge.mixture.mean]: [...m.mean], [merge.mixture.variance]: [...m.variance] } as S;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(state)) {
    out[key] = LOCAL_KEYS.has(key) ? v : writeMixtures(v, mixtures, path === '' ? key : `${path}.${key}`);
  }
  return out as S;
}
