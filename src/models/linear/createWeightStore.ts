import { Ftrl } from '../optim/ftrl.js';
import type { Regularizer } from '../regularizers/regularizer.js';
import { EagerStore } from './eagerStore.js';
import { FtrlStore } from './ftrlStore.js';
import { LazyElasticNetStore } from './lazyElasticNetStore.js';
import type { StoreParts } from './storeBase.js';
import type { WeightStore } from './weightStore.js';

/**
 * The store for a validated optimizer and regularizer, chosen once: FTRL keeps its own statistics; an
 * elastic net whose prox can be owed (an optimizer that leaves a zero-gradient weight alone) goes lazy on
 * sparse steps; everything else (Adam, Lp, L0, no penalty) is eager. Unsupported pairs were refused
 * before (the model refuses Lp / L0 with FTRL).
 */
export function createWeightStore(p: StoreParts, reg: Regularizer): WeightStore {
  const cfg = p.opt.config();
  if (cfg.type === 'ftrl') {
    // A typed Ftrl for the store's FTRL-only passes, built from the config createOptimizer validated.
    return new FtrlStore({ ...p, opt: new Ftrl(cfg) }, reg);
  }
  if (reg.elastic !== null && !p.opt.dense && !p.opt.proximal) return new LazyElasticNetStore(p, reg);
  return new EagerStore(p, reg);
}
