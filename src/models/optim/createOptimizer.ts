import { ModelError } from '../../errors.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';
import { Sgd } from './sgd.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { Ftrl } from './ftrl.js';

const allowed: Record<OptimizerConfig['type'], string[]> = {
  sgd: ['type', 'lr', 'schedule', 'powerT'],
  adagrad: ['type', 'lr', 'eps'],
  adam: ['type', 'lr', 'beta1', 'beta2', 'eps'],
  ftrl: ['type', 'alpha', 'beta'],
};

function positive(type: string, key: string, v: unknown, max = Infinity): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw new ModelError(`optimizer ${type}.${key}=${String(v)} must be a finite number in (0, ${max}]`);
  }
}

/**
 * Validates an optimizer config (unknown keys and bad values are named) and builds it. `optimal` is the
 * regularization strength and loss slope the 'optimal' SGD schedule needs (the model supplies them).
 */
export function createOptimizer(
  cfg: OptimizerConfig | undefined,
  optimal?: { alpha: number; lossSlope: number },
): Optimizer {
  const c = cfg ?? { type: 'sgd' };
  if (typeof c !== 'object' || c === null)
    throw new ModelError(`optimizer must be an object; got ${String(c)}`);
  const type = c.type;
  if (!(type in allowed)) {
    throw new ModelError(
      `unknown optimizer type '${String(type)}' (expected ${Object.keys(allowed).join(', ')})`,
    );
  }
  for (const k of Object.keys(c)) {
    if (!allowed[type].includes(k)) throw new ModelError(`unknown ${type} optimizer option '${k}'`);
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
      return new Sgd(c, optimal);
    }
    case 'adagrad':
      positive('adagrad', 'lr', c.lr);
      positive('adagrad', 'eps', c.eps);
      return new Adagrad(c);
    case 'adam':
      positive('adam', 'lr', c.lr);
      positive('adam', 'eps', c.eps);
      for (const k of ['beta1', 'beta2'] as const) {
        const v = c[k];
        if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v < 1))) {
          throw new ModelError(`optimizer adam.${k}=${String(v)} must be in [0, 1)`);
        }
      }
      return new Adam(c);
    case 'ftrl':
      positive('ftrl', 'alpha', c.alpha);
      if (c.beta !== undefined && (typeof c.beta !== 'number' || !Number.isFinite(c.beta) || c.beta < 0)) {
        throw new ModelError(`optimizer ftrl.beta=${String(c.beta)} must be a finite number ≥ 0`);
      }
      return new Ftrl(c);
  }
}
