import type { Ftrl } from '../optim/ftrl.js';
import type { Regularizer } from '../regularizers/regularizer.js';
import type { SparseInput } from './sparseInput.js';
import type { StoreParts } from './storeBase.js';
import { StoreBase } from './storeBase.js';

/**
 * FTRL-Proximal's weights (McMahan et al. 2013): a weight is a function of its coordinate's z, n and the
 * step count, evaluated when read, so `params` is stale by design (current only after `materialize`, or at
 * the active coordinates after `prepareSparse`) and sparse steps are lazy for free. The step writes only z
 * and n, so only they are guarded. The elastic net is applied in closed form by `Ftrl` itself.
 *
 * A one-output model learns a sparse event in the shape of Algorithm 1 (`learnSparse`): gather the active
 * z and n, weights and score from the copies, then the z/n update, with the copies as the guard's snapshot.
 */
export class FtrlStore extends StoreBase {
  private readonly ftrl: Ftrl;
  private readonly l1: number;
  private readonly l2: number;
  /** Guard coordinates (2j, 2j + 1) of z_j and n_j for coords[i] = j. */
  private coords2 = new Int32Array(0);
  /**
   * The sparse path's per-feature buffers for events of more than SCRATCH features (smaller ones use the
   * module's Z_AT, ...): z and n of the active features before the step, their pre-step weights and √n.
   */
  private zAt = new Float64Array(16);
  private nAt = new Float64Array(16);
  private wAt = new Float64Array(16);
  private rootAt = new Float64Array(16);

  /** `ftrl` must be `p.opt` (the store calls its FTRL-only passes as well as the Optimizer interface). */
  constructor(p: StoreParts & { opt: Ftrl }, reg: Regularizer) {
    super(p);
    this.ftrl = p.opt;
    this.l1 = reg.elastic?.l1 ?? 0;
    this.l2 = reg.elastic?.l2 ?? 0;
  }

  override allocate(d: number): void {
    super.allocate(d);
    this.ftrl.setPenalty({ l1: this.l1, l2: this.l2, penalized: this.nW });
    // The step never writes params (weights are evaluated on read), so only z and n need guarding.
    this.guardArrays = this.ftrl.stateArrays();
  }

  read(t: number, j: number): number {
    return this.ftrl.weightAt(t, j);
  }

  materialize(t: number): void {
    const { params, ftrl } = this;
    for (let j = 0; j < params.length; j++) params[j] = ftrl.weightAt(t, j);
  }

  protected prepareSparse(t: number, idx: Int32Array, nnz: number): void {
    const { K, dim: d, params, ftrl, nW } = this;
    for (let k = 0; k < K; k++) {
      const o = k * d;
      for (let i = 0; i < nnz; i++) params[o + idx[i]] = ftrl.weightAt(t, o + idx[i]);
      params[nW + k] = ftrl.weightAt(t, nW + k);
    }
  }

  protected rowRead(t: number, o: number, x: ArrayLike<number>, d: number, s0: number): number {
    let s = s0;
    for (let j = 0; j < d; j++) s += this.ftrl.weightAt(t, o + j) * x[j];
    return s;
  }

  protected step(t0: number, coords: Int32Array | null, grad: Float64Array, n: number): boolean {
    if (coords === null) this.guard.save(this.guardArrays);
    else {
      // z_j and n_j sit interleaved at 2j and 2j + 1 in one array.
      if (this.coords2.length < 2 * n) this.coords2 = new Int32Array(2 * this.coords.length);
      const c2 = this.coords2;
      for (let i = 0; i < n; i++) {
        c2[2 * i] = 2 * coords[i];
        c2[2 * i + 1] = 2 * coords[i] + 1;
      }
      this.guard.save(this.guardArrays, c2, 2 * n);
    }
    this.ftrl.step(t0 + 1, this.params, grad, n, coords, 0);
    return this.guard.commit();
  }

  /**
   * A one-output model's sparse event, Algorithm 1: gather the active features' z and n (one tight loop,
   * so their cache misses overlap), weights + score from the copies, then the z/n updates. The copies are
   * also the non-finite guard's snapshot: `Ftrl.stepEvent` checks every value it writes and puts the
   * copies back if one is not finite, so no other snapshot is taken. The same values as the general path
   * (`ftrlSparse.test.ts` pins it to `Ftrl.step`).
   */
  override learnSparse(t: number, x: SparseInput, y: number, w: number): boolean {
    if (this.K !== 1) return super.learnSparse(t, x, y, w);
    const ftrl = this.ftrl;
    const { nnz, idx, val } = x;
    const nW = this.nW;
    if (nnz > SCRATCH && this.wAt.length < nnz) {
      const n = idx.length;
      this.zAt = new Float64Array(n);
      this.nAt = new Float64Array(n);
      this.wAt = new Float64Array(n);
      this.rootAt = new Float64Array(n);
    }
    // Module constants when they fit: V8 compiles their accesses in the three loops to fixed addresses.
    const small = nnz <= SCRATCH;
    const zAt = small ? Z_AT : this.zAt;
    const nAt = small ? N_AT : this.nAt;
    const wAt = small ? W_AT : this.wAt;
    const rootAt = small ? ROOT_AT : this.rootAt;
    ftrl.gather(idx, nnz, zAt, nAt);
    // The weights of the active features go to wAt (in cache), not to params: nothing reads them there.
    const wb = ftrl.weightAt(t, nW);
    const s = ftrl.weightsDot(t, zAt, nAt, val, nnz, wAt, rootAt, wb);
    // The general path's score, bit for bit (same weights, same order): a non-finite one is rejected.
    if (!Number.isFinite(s)) return this.reject();
    this.scores[0] = s;
    const g = w * this.scalarLoss!.gradient(y, s);
    if (ftrl.stepEvent(zAt, nAt, wAt, rootAt, idx, val, nnz, g, this.fitIntercept ? nW : -1, wb)) return true;
    return this.reject();
  }
}

/**
 * The sparse path's per-feature buffers for events of up to SCRATCH active features, shared by every
 * model (each use is synchronous and complete within one `learnSparse`). As module constants their
 * accesses compile to fixed addresses: commit 0145fa7 measured ~30% faster FTRL steps than with the same
 * buffers in per-model fields.
 */
const SCRATCH = 1024;
const Z_AT = new Float64Array(SCRATCH);
const N_AT = new Float64Array(SCRATCH);
const W_AT = new Float64Array(SCRATCH);
const ROOT_AT = new Float64Array(SCRATCH);
