/**
 * The normalizer registry: every normalization layer with a factory, so the conformance suite runs on
 * each (adding an entry adds it to the suite), and the nets build their normalizer from a spec string.
 */
import { NormalizationError } from '../errors.js';
import { BatchNorm, type BatchNormState } from './batchNorm.js';
import { BatchRenorm, type BatchRenormState } from './batchRenorm.js';
import { GroupNorm, type GroupNormState } from './groupNorm.js';
import { InstanceNorm, type InstanceNormState } from './instanceNorm.js';
import { LayerNorm, type LayerNormState } from './layerNorm.js';
import type { Normalizer, NormalizerState } from './normalizer.js';
import { OnlineNorm, type OnlineNormState } from './onlineNorm.js';

/** The feature shape a normalizer sees per sample: `[C]` (length undefined) or `[C, L]`. */
export interface FeatureShape {
  channels: number;
  length?: number;
}

/** A parsed normalizer spec. */
export type NormalizerSpec =
  | { kind: 'batch' | 'layer' | 'instance' | 'batchrenorm' | 'online' | 'none' }
  | { kind: 'group'; groups: number };

/** The spec strings `createNormalizer` accepts. */
export const normalizerSpecs = [
  'batch',
  'layer',
  'instance',
  'group:G',
  'batchrenorm',
  'online',
  'none',
] as const;

/**
 * Parses `'batch' | 'layer' | 'instance' | 'group:G' | 'batchrenorm' | 'online' | 'none'`; throws a
 * NormalizationError naming an unknown or malformed spec.
 */
export function parseNormalizerSpec(spec: string): NormalizerSpec {
  if (typeof spec !== 'string') throw new NormalizationError(`unknown normalizer spec ${String(spec)}`);
  switch (spec) {
    case 'batch':
    case 'layer':
    case 'instance':
    case 'batchrenorm':
    case 'online':
    case 'none':
      return { kind: spec };
  }
  const m = /^group:(\d+)$/.exec(spec);
  if (m) {
    const groups = Number(m[1]);
    if (groups >= 1) return { kind: 'group', groups };
  }
  throw new NormalizationError(
    `unknown normalizer spec '${spec}' (expected one of ${normalizerSpecs.join(', ')}, G a positive integer)`,
  );
}

/**
 * Builds the normalizer a net puts after a layer with per-sample feature shape `shape`. Returns null for
 * 'none'. LayerNorm normalizes `[C]` when `length` is undefined, else `[C, L]`. InstanceNorm gets a
 * learnable affine here (PyTorch defaults to none) so every variant in a comparison has the same
 * capacity; it needs `length > 1`. `seed` is accepted for symmetry with the models: every normalizer
 * initializes deterministically (γ = 1, β = 0), so it changes nothing today.
 */
export function createNormalizer(spec: string, shape: FeatureShape, _seed?: number): Normalizer | null {
  const p = parseNormalizerSpec(spec);
  const channels = shape.channels;
  const length = shape.length;
  if (length !== undefined && (!Number.isInteger(length) || length < 1)) {
    throw new NormalizationError(
      `createNormalizer: length must be a positive integer, got ${String(length)}`,
    );
  }
  switch (p.kind) {
    case 'none':
      return null;
    case 'batch':
      return new BatchNorm({ channels });
    case 'layer':
      return new LayerNorm({ shape: length === undefined ? [channels] : [channels, length] });
    case 'instance':
      if (length === undefined || length < 2) {
        throw new NormalizationError(
          `createNormalizer: 'instance' needs windows [C, L] with L > 1, got ${length === undefined ? `vectors [${channels}]` : `[${channels}, ${length}]`}`,
        );
      }
      return new InstanceNorm({ channels, affine: true });
    case 'group':
      return new GroupNorm({ groups: p.groups, channels });
    case 'batchrenorm':
      return new BatchRenorm({ channels });
    case 'online':
      return new OnlineNorm({ channels });
  }
}

/** Rebuilds any registered normalizer from its `state()`. */
export function normalizerFromState(s: NormalizerState): Normalizer {
  const kind = s !== null && typeof s === 'object' ? s.kind : undefined;
  switch (kind) {
    case 'batch':
      return BatchNorm.fromState(s as BatchNormState);
    case 'layer':
      return LayerNorm.fromState(s as LayerNormState);
    case 'instance':
      return InstanceNorm.fromState(s as InstanceNormState);
    case 'group':
      return GroupNorm.fromState(s as GroupNormState);
    case 'batchrenorm':
      return BatchRenorm.fromState(s as BatchRenormState);
    case 'online':
      return OnlineNorm.fromState(s as OnlineNormState);
    default:
      throw new NormalizationError(`normalizerFromState: unknown normalizer kind ${String(kind)}`);
  }
}

/** One registry entry: what the conformance suite needs to exercise a normalizer. */
export interface NormalizerEntry {
  /** Display name (unique). */
  name: string;
  /** Builds a fresh instance for per-sample feature shape `shape`. */
  create(shape: FeatureShape): Normalizer;
  /** Accepts `[N, C]` input (InstanceNorm does not). */
  acceptsVectors: boolean;
  /** Training needs more than one value per channel (N·L > 1). */
  needsBatchStatistics: boolean;
  /** Has running statistics that move in training and stay put in inference. */
  hasRunningStats: boolean;
  /**
   * When the layer's backward is, by the paper's definition, not the derivative of its forward, a factory
   * for a configuration where it is, and why. Finite differences check that configuration.
   */
  gradientCheck?: { create(shape: FeatureShape): Normalizer; why: string };
}

/** Every normalizer, in a few configurations. Adding one here adds it to the conformance suite. */
export const normalizerRegistry: readonly NormalizerEntry[] = [
  {
    name: 'BatchNorm',
    create: ({ channels }) => new BatchNorm({ channels }),
    acceptsVectors: true,
    needsBatchStatistics: true,
    hasRunningStats: true,
  },
  {
    name: 'BatchNorm(momentum=null, affine=false)',
    create: ({ channels }) => new BatchNorm({ channels, momentum: null, affine: false }),
    acceptsVectors: true,
    needsBatchStatistics: true,
    hasRunningStats: true,
  },
  {
    name: 'LayerNorm',
    create: ({ channels, length }) =>
      new LayerNorm({ shape: length === undefined ? [channels] : [channels, length] }),
    acceptsVectors: true,
    needsBatchStatistics: false,
    hasRunningStats: false,
  },
  {
    name: 'InstanceNorm(affine, trackRunningStats)',
    create: ({ channels }) => new InstanceNorm({ channels, affine: true, trackRunningStats: true }),
    acceptsVectors: false,
    needsBatchStatistics: false,
    hasRunningStats: true,
  },
  {
    name: 'InstanceNorm',
    create: ({ channels }) => new InstanceNorm({ channels }),
    acceptsVectors: false,
    needsBatchStatistics: false,
    hasRunningStats: false,
  },
  {
    name: 'GroupNorm(groups=2)',
    create: ({ channels }) => new GroupNorm({ groups: 2, channels }),
    acceptsVectors: true,
    needsBatchStatistics: false,
    hasRunningStats: false,
  },
  {
    name: 'BatchRenorm',
    create: ({ channels }) => new BatchRenorm({ channels }),
    acceptsVectors: true,
    needsBatchStatistics: true,
    hasRunningStats: true,
    gradientCheck: {
      why:
        'r and d are constants in backward (Ioffe 2017), so backward is the derivative of the forward only where ' +
        'they are locally constant: dMax = 0 pins d, and a running variance of 100 puts σ_B/σ below 1/rMax so r is clipped',
      create: ({ channels }) => {
        const b = new BatchRenorm({ channels, rMax: 3, dMax: 0 });
        b.runningVar.fill(100);
        return b;
      },
    },
  },
  {
    name: 'OnlineNorm',
    create: ({ channels }) => new OnlineNorm({ channels }),
    acceptsVectors: true,
    needsBatchStatistics: false,
    hasRunningStats: true,
    gradientCheck: {
      why:
        'the backward control process (α_b < 1) deliberately replaces the true derivative; with α_b = 1 it is off and ' +
        'backward is the derivative of the forward with the running statistics of the previous samples held constant, ' +
        'which finite differences see exactly on one-sample batches',
      create: ({ channels }) => new OnlineNorm({ channels, alphaBackward: 1 }),
    },
  },
];
