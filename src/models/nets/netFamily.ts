import { ModelError } from '../../errors.js';
import type { FlatVariantOptions } from '../modelFamily.js';
import type { NetOptimizerSpec } from '../optim/paramOptimizer.js';
import type { OnlineModel } from '../types.js';
import { type NetOptions, type NetState, SoftmaxNet } from './softmaxNet.js';

/**
 * The options WindowNet and Mlp share, from a CLI / config-file variant: LayerNorm unless a normalizer is
 * named (it trains the same at every arrival batch size), seed 1, Adam at `lr` when a rate is given.
 */
export function netOptionsFrom(v: FlatVariantOptions, classes: number): NetOptions {
  if (v.loss !== undefined)
    throw new ModelError(`loss: only a linear model takes a loss (a net learns softmax cross-entropy)`);
  if (v.task === 'regression') throw new ModelError(`task: the nets are classifiers (use a linear model)`);
  const reg = v.regularizer ?? null;
  if (reg !== null && ('lp' in reg || 'l0' in reg))
    throw new ModelError(`regularizer: a net takes l1, l2 or elastic, not ${'lp' in reg ? 'lp' : 'l0'}`);
  const l1 = reg !== null && 'l1' in reg && reg.l1 !== undefined ? reg.l1 : v.l1;
  const l2 = reg !== null && 'l2' in reg && reg.l2 !== undefined ? reg.l2 : v.l2;
  const optimizer = netOptimizer(v);
  return {
    ...(v.dropout === undefined ? {} : { dropout: v.dropout }),
    ...(v.weightDecay === undefined ? {} : { weightDecay: v.weightDecay }),
    ...(l1 === undefined ? {} : { l1 }),
    ...(l2 === undefined ? {} : { l2 }),
    ...(v.singletonPolicy === undefined ? {} : { singletonPolicy: v.singletonPolicy }),
    ...(optimizer === undefined ? {} : { optimizer }),
    normalizer: v.normalizer ?? 'layer',
    classes,
    seed: v.seed ?? 1,
  };
}

/** Adam at `lr` when only a rate is given; a named optimizer at its own rate, else `lr`, else 0.01. */
function netOptimizer(v: FlatVariantOptions): NetOptimizerSpec | undefined {
  const o = v.optimizer;
  if (o === undefined) return v.lr === undefined ? undefined : { type: 'adam', lr: v.lr };
  if (o.type === 'ftrl') throw new ModelError(`optimizer: a net takes sgd, adagrad or adam, not ftrl`);
  return { ...o, lr: o.lr ?? v.lr ?? 0.01 };
}

/**
 * The weights a net penalizes (every `*.weight` of its state: conv and dense kernels, not biases or
 * normalizer parameters), read from the state alone so a check needs no access to the layers.
 */
export function netWeights(m: OnlineModel): Float64Array {
  const params = (m.state() as NetState).params;
  const out: number[] = [];
  for (const [name, values] of Object.entries(params)) if (name.endsWith('.weight')) out.push(...values);
  return Float64Array.from(out);
}

/** 'WindowNet(layer)': the kind and the normalizer. */
export function netLabel(m: OnlineModel): string {
  return m instanceof SoftmaxNet ? `${m.kind}(${m.opts.normalizer})` : m.kind;
}
