import type { FlatVariantOptions } from '../modelFamily.js';
import type { OnlineModel } from '../types.js';
import { type NetOptions, type NetState, SoftmaxNet } from './softmaxNet.js';

/**
 * The options WindowNet and Mlp share, from a CLI / config-file variant: LayerNorm unless a normalizer is
 * named (it trains the same at every arrival batch size), seed 1, Adam at `lr` when a rate is given.
 */
export function netOptionsFrom(v: FlatVariantOptions, classes: number): NetOptions {
  return {
    ...(v.dropout === undefined ? {} : { dropout: v.dropout }),
    ...(v.weightDecay === undefined ? {} : { weightDecay: v.weightDecay }),
    ...(v.l1 === undefined ? {} : { l1: v.l1 }),
    ...(v.l2 === undefined ? {} : { l2: v.l2 }),
    ...(v.singletonPolicy === undefined ? {} : { singletonPolicy: v.singletonPolicy }),
    ...(v.lr === undefined ? {} : { optimizer: { type: 'adam' as const, lr: v.lr } }),
    normalizer: v.normalizer ?? 'layer',
    classes,
    seed: v.seed ?? 1,
  };
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
