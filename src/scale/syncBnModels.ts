/**
 * How `run --sync-bn` reaches the BatchNorm layers of the pipeline's models: a reducer per layer (channel
 * `<variant>/<layer index>`) attached around each learning call, to the layers the model has at that moment, and
 * detached after. Attaching per call is what keeps SyncBN on: a replica that folds its peers' deltas replaces the
 * model behind its slot (replica.ts), and a net restores a layer from a snapshot after a training-mode prediction
 * or a rejected step (normSlot.ts) — either would drop a reducer set once. Predictions, including the
 * training-mode one behind the train-versus-inference gap metric, pool nothing.
 */
import type { OnlineModel } from '../models/types.js';
import { BatchNorm } from '../normalizers/batchNorm.js';
import type { Normalizer } from '../normalizers/normalizer.js';
import type { StatisticsReducer } from '../normalizers/statisticsReducer.js';

/** A layer's reducer for one channel; `close()` ends a step whose backward did not run (after each learning call). */
export interface LayerReducer extends StatisticsReducer {
  close(): void;
}

/** The model's normalization layers, when it has any (nets: `normalizerLayers()`). */
function normalizerLayers(model: OnlineModel): readonly (Normalizer | null)[] {
  const m = model as OnlineModel & { normalizerLayers?: () => (Normalizer | null)[] };
  return typeof m.normalizerLayers === 'function' ? m.normalizerLayers() : [];
}

/** Whether a model has a BatchNorm layer (what `--sync-bn` synchronizes). */
export function hasBatchNorm(model: OnlineModel): boolean {
  return normalizerLayers(model).some((n) => n instanceof BatchNorm);
}

/** Methods of a model that take a learning step (and so run BatchNorm in training mode). */
const LEARNING = new Set<string | symbol>(['learnMany', 'learnOne', 'accumulateMany']);

/** The variants as the pipeline uses them: each learning call runs with `reducerFor(channel)` on each BatchNorm layer. */
export function withLayerReducers(
  models: Record<string, OnlineModel>,
  reducerFor: (channel: string) => LayerReducer,
): Record<string, OnlineModel> {
  const out: Record<string, OnlineModel> = {};
  for (const [variant, model] of Object.entries(models)) {
    out[variant] = new Proxy(model, {
      get: (target, prop, receiver) => {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (!LEARNING.has(prop) || typeof v !== 'function') return v;
        const fn = v as (...a: unknown[]) => unknown;
        return (...args: unknown[]) => learning(variant, target, reducerFor, () => fn.apply(target, args));
      },
    });
  }
  return out;
}

function learning<T>(
  variant: string,
  model: OnlineModel,
  reducerFor: (channel: string) => LayerReducer,
  run: () => T,
): T {
  const attached: { bn: BatchNorm; r: LayerReducer }[] = [];
  normalizerLayers(model).forEach((n, i) => {
    if (!(n instanceof BatchNorm)) return;
    const r = reducerFor(`${variant}/${i}`);
    n.reducer = r;
    attached.push({ bn: n, r });
  });
  try {
    return run();
  } finally {
    for (const { bn, r } of attached) {
      bn.reducer = null;
      r.close();
    }
  }
}
