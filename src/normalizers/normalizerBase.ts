/**
 * The base every normalizer class extends: built from its layout (stateCodec.ts), it checks the options
 * and keeps them as readonly fields, sets `kind` and `perSample`, allocates γ, β and their gradients, and
 * gives `state()` and `fromState()`. A class adds its buffers and its math.
 */
import { Affine } from './affine.js';
import type { NormalizerParams, NormalizerState } from './normalizer.js';
import {
  type AnyLayout,
  type NormalizerLayout,
  type OptionsOf,
  type StateOf,
  type LayoutInput,
  encodeState,
  readOptions,
  restoreState,
} from './stateCodec.js';

/** What the base gives an instance: kind, trait, options, parameters and `state()`. */
export type NormalizerBaseInstance<L> =
  L extends NormalizerLayout<infer K, infer F, infer _Bd, infer _C>
    ? Readonly<OptionsOf<F>> & {
        readonly kind: K;
        readonly perSample: boolean;
        readonly params: NormalizerParams;
        readonly grads: NormalizerParams;
        state(): StateOf<L>;
      }
    : never;

/** The class the base is: its instances, and a `fromState` that rebuilds whichever subclass it is called on. */
export interface NormalizerBaseClass<L> {
  new (opts: LayoutInput<L>): NormalizerBaseInstance<L>;
  fromState<T>(this: new (opts: LayoutInput<L>) => T, s: StateOf<L>): T;
}

export function normalizerBase<L extends AnyLayout>(layout: L): NormalizerBaseClass<L> {
  class Base {
    readonly kind: string = layout.kind;
    readonly perSample: boolean = layout.traits.perSample;
    readonly params: NormalizerParams;
    readonly grads: NormalizerParams;

    constructor(opts: unknown) {
      const o = readOptions(layout.who, layout.options, opts);
      Object.assign(this, o);
      const { size, enabled } = layout.affine(o);
      ({ params: this.params, grads: this.grads } = new Affine(size, enabled));
    }

    state(): NormalizerState {
      return encodeState(layout, this);
    }

    static fromState(this: new (opts: unknown) => object, s: unknown): object {
      return restoreState(layout, s, (o) => new this(o));
    }
  }
  return Base as unknown as NormalizerBaseClass<L>;
}
