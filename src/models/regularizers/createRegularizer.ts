import { ModelError } from '../../errors.js';
import type { Regularizer, RegularizerConfig } from './regularizer.js';
import { ElasticNet } from './elasticNet.js';
import { LpPenalty } from './lp.js';
import { L0Projection } from './l0.js';

function nonNegative(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ModelError(`regularizer ${name}=${String(v)} must be a finite number ≥ 0`);
  }
  return v;
}

function onlyKeys(where: string, o: object, keys: string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k))
      throw new ModelError(`unknown ${where} option '${k}' (expected ${keys.join(', ')})`);
  }
}

/** Validates a regularizer config (errors name the bad value) and builds it; none → a zero elastic net. */
export function createRegularizer(cfg: RegularizerConfig | undefined | null): Regularizer {
  if (cfg === undefined || cfg === null) return new ElasticNet(0, 0);
  if (typeof cfg !== 'object') throw new ModelError(`regularizer must be an object; got ${String(cfg)}`);
  if ('lp' in cfg) {
    onlyKeys('regularizer', cfg, ['lp']);
    const lp = cfg.lp;
    if (typeof lp !== 'object' || lp === null) throw new ModelError(`regularizer lp must be { p, lambda }`);
    onlyKeys('regularizer lp', lp, ['p', 'lambda']);
    if (typeof lp.p !== 'number' || !Number.isFinite(lp.p) || lp.p < 1) {
      throw new ModelError(
        `regularizer lp.p=${String(lp.p)} must be a finite number ≥ 1 (‖·‖_p is not a norm for p < 1)`,
      );
    }
    return new LpPenalty(lp.p, nonNegative('lp.lambda', lp.lambda));
  }
  if ('l0' in cfg) {
    onlyKeys('regularizer', cfg, ['l0']);
    const l0 = cfg.l0;
    if (typeof l0 !== 'object' || l0 === null) throw new ModelError(`regularizer l0 must be { k }`);
    onlyKeys('regularizer l0', l0, ['k']);
    if (!Number.isInteger(l0.k) || l0.k < 0) {
      throw new ModelError(`regularizer l0.k=${String(l0.k)} must be an integer ≥ 0`);
    }
    return new L0Projection(l0.k);
  }
  onlyKeys('regularizer', cfg, ['l1', 'l2', 'lp', 'l0']);
  return new ElasticNet(nonNegative('l1', cfg.l1 ?? 0), nonNegative('l2', cfg.l2 ?? 0));
}
