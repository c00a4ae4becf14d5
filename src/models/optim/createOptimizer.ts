import { ModelError } from '../../errors.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';
import { Sgd } from './sgd.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { Ftrl } from './ftrl.js';

/** Option names each optimizer type takes; a model family lists the types and options it supports. */
export type OptimizerKeys = Partial<Record<OptimizerConfig['type'], readonly string[]>>;

/** What `LinearModel` takes: every type, plain SGD (its lazy and fused paths need one rate and no momentum). */
export const linearOptimizerKeys: OptimizerKeys = {
  sgd: ['type', 'lr', 'schedule', 'powerT'],
  adagrad: ['type', 'lr', 'eps'],
  adam: ['type', 'lr', 'beta1', 'beta2', 'eps'],
  ftrl: ['type', 'alpha', 'beta'],
};

const knownTypes: readonly OptimizerConfig['type'][] = ['sgd', 'adagrad', 'adam', 'ftrl'];

function positive(type: string, key: string, v: unknown, max = Infinity): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw new ModelError(`optimizer ${type}.${key}=${String(v)} must be a finite number in (0, ${max}]`);
  }
}

function unitInterval(type: string, key: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v < 1))) {
    throw new ModelError(`optimizer ${type}.${key}=${String(v)} must be in [0, 1)`);
  }
}

/**
 * Checks an optimizer config against the types and options a model family supports (`keys`), naming the bad
 * type, option or value; returns it unchanged. `optimal` is what the 'optimal' SGD schedule needs (the
 * regularization strength and loss slope, which only a model can supply).
 */
export function validateOptimizerConfig(
  cfg: OptimizerConfig,
  keys: OptimizerKeys,
  optimal?: { alpha: number; lossSlope: number },
): OptimizerConfig {
  const c = cfg;
  if (typeof c !== 'object' || c === null)
    throw new ModelError(`optimizer must be an object; got ${String(c)}`);
  const type = c.type;
  const allowed = keys[type];
  if (allowed === undefined) {
    const expected = Object.keys(keys).join(', ');
    throw new ModelError(
      knownTypes.includes(type)
        ? `optimizer type '${type}' is not supported here (expected ${expected})`
        : `unknown optimizer type '${String(type)}' (expected ${expected})`,
    );
  }
  for (const k of Object.keys(c)) {
    if (!allowed.includes(k)) throw new ModelError(`unknown ${type} optimizer option '${k}'`);
  }
  switch (c.type) {
    case 'sgd': {
      positive('sgd', 'lr', c.lr);
      if (
        c.powerT !== undefined &&
        (typeof c.powerT !== 'number' || !Number.isFinite(c.powerT) || c.powerT < 0)
      ) {
        throw new ModelError(`optimizer sgd.powerT=${String(c.powerT)} must be a finite number ≥ 0`);
      }
      const sched = c.schedule ?? 'constant';
      if (sched !== 'constant' && sched !== 'invscaling' && sched !== 'optimal') {
        throw new ModelError(
          `unknown sgd schedule '${String(sched)}' (expected constant, invscaling, optimal)`,
        );
      }
      if (sched === 'optimal' && (!optimal || !(optimal.alpha > 0))) {
        throw new ModelError(
          `sgd schedule 'optimal' needs a positive regularization strength (sklearn's alpha = l1 + l2); got ${optimal?.alpha ?? 0}`,
        );
      }
      unitInterval('sgd', 'momentum', c.momentum);
      if (c.nesterov !== undefined && typeof c.nesterov !== 'boolean')
        throw new ModelError(`optimizer sgd.nesterov=${String(c.nesterov)} must be a boolean`);
      if (c.nesterov === true && !((c.momentum ?? 0) > 0))
        throw new ModelError(`optimizer sgd.nesterov needs momentum > 0`);
      break;
    }
    case 'adagrad':
      positive('adagrad', 'lr', c.lr);
      positive('adagrad', 'eps', c.eps);
      break;
    case 'adam':
      positive('adam', 'lr', c.lr);
      positive('adam', 'eps', c.eps);
      unitInterval('adam', 'beta1', c.beta1);
      unitInterval('adam', 'beta2', c.beta2);
      break;
    case 'ftrl':
      positive('ftrl', 'alpha', c.alpha);
      if (c.beta !== undefined && (typeof c.beta !== 'number' || !Number.isFinite(c.beta) || c.beta < 0)) {
        throw new ModelError(`optimizer ftrl.beta=${String(c.beta)} must be a finite number ≥ 0`);
      }
      break;
  }
  return c;
}

/**
 * Validates a `LinearModel` optimizer config (unknown keys and bad values are named) and builds it. `optimal`
 * is the regularization strength and loss slope the 'optimal' SGD schedule needs (the model supplies them).
 */
export function createOptimizer(
  cfg: OptimizerConfig | undefined,
  optimal?: { alpha: number; lossSlope: number },
): Optimizer {
  const c = validateOptimizerConfig(cfg ?? { type: 'sgd' }, linearOptimizerKeys, optimal);
  switch (c.type) {
    case 'sgd':
      return new Sgd(c, optimal);
    case 'adagrad':
      return new Adagrad(c);
    case 'adam':
      return new Adam(c);
    case 'ftrl':
      return new Ftrl(c);
  }
}
