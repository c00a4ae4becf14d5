/**
 * Adding a normalizer is one class with its descriptor and one registration: this file adds a throwaway
 * RMS normalization (Zhang & Sennrich 2019, per sample over C·L, per-channel affine) through its
 * descriptor alone, and finds it accepted by the CLI variant grammar, the config schema, compare (spec
 * validation, default grid, help text, per-sample trait, a cell run) and the conformance suite, and
 * refused by all of them again once it is removed. None of those modules is edited or mocked for it.
 */
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, variantSchema } from '../../../src/cli/config.js';
import { registerCompare } from '../../../src/cli/compare.js';
import { parseVariantList } from '../../../src/cli/variants.js';
import type { Tensor } from '../../../src/core/tensor.js';
import { syntheticEvents } from '../../../src/datasets/synthetic.js';
import { isPerSampleSpec, runCell } from '../../../src/experiment/cell.js';
import { validateGrid } from '../../../src/experiment/compare.js';
import { inferClasses, inferShape } from '../../../src/experiment/source.js';
import { WindowNet } from '../../../src/models/nets/windowNet.js';
import { normalizerBase } from '../../../src/normalizers/normalizerBase.js';
import type { NormalizerDescriptor } from '../../../src/normalizers/descriptor.js';
import {
  conformanceCases,
  createNormalizer,
  defaultNormalizerSpecs,
  isNormalizerSpec,
  normalizerFromState,
  registerNormalizer,
} from '../../../src/normalizers/descriptors.js';
import { type Dims, ensure, outputBuffer, readDims, readGrad } from '../../../src/normalizers/input.js';
import type { ForwardOptions, Normalizer } from '../../../src/normalizers/normalizer.js';
import {
  type StateOf,
  boolField,
  epsField,
  normalizerLayout,
  positiveInt,
} from '../../../src/normalizers/stateCodec.js';
import { describeNormalizerConformance } from '../../conformance/normalizerChecks.js';

const layout = normalizerLayout({
  kind: 'rms',
  who: 'RmsNorm',
  traits: { perSample: true, needsWindows: false, needsBatchStatistics: false },
  options: { channels: positiveInt(), eps: epsField(), affine: boolField(true) },
  affine: (o) => ({ size: o.channels, enabled: o.affine }),
  buffers: {},
  counters: [],
});
type RmsNormState = StateOf<typeof layout>;

/** y = γ_c·x/√(mean(x²) + ε) + β_c per sample (the mean over its C·L values). */
class RmsNorm extends normalizerBase(layout) implements Normalizer {
  private xhat: Float64Array = new Float64Array(0);
  private inv: Float64Array = new Float64Array(0);
  private last: Dims | null = null;

  constructor(opts: { channels: number; eps?: number; affine?: boolean }) {
    super(opts);
  }

  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    const d = readDims(x, 'RmsNorm', this.channels);
    const out = outputBuffer(opts.out, x.data.length, 'RmsNorm', x.data);
    const { n, c, l } = d;
    const len = c * l;
    this.xhat = ensure(this.xhat, n * len);
    this.inv = ensure(this.inv, n);
    for (let i = 0; i < n; i++) {
      let q = 0;
      for (let k = i * len; k < (i + 1) * len; k++) q += x.data[k] * x.data[k];
      const r = 1 / Math.sqrt(q / len + this.eps);
      this.inv[i] = r;
      for (let j = 0; j < c; j++) {
        const g = this.params.gamma ? this.params.gamma[j] : 1;
        const b = this.params.beta ? this.params.beta[j] : 0;
        for (let k = i * len + j * l; k < i * len + (j + 1) * l; k++) {
          this.xhat[k] = x.data[k] * r;
          out[k] = g * this.xhat[k] + b;
        }
      }
    }
    this.last = d;
    return { data: out, shape: [...x.shape] };
  }

  backward(dy: Tensor, out?: Float64Array): Tensor {
    const { n, c, l } = readGrad(dy, 'RmsNorm', this.last);
    const dx = outputBuffer(out, dy.data.length, 'RmsNorm', dy.data);
    const { gamma } = this.params;
    const { gamma: dgamma, beta: dbeta } = this.grads;
    dgamma?.fill(0);
    dbeta?.fill(0);
    const len = c * l;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < c; j++) {
        for (let k = i * len + j * l; k < i * len + (j + 1) * l; k++) {
          s += (gamma ? gamma[j] : 1) * dy.data[k] * this.xhat[k];
          if (dgamma) dgamma[j] += dy.data[k] * this.xhat[k];
          if (dbeta) dbeta[j] += dy.data[k];
        }
      }
      const m = s / len;
      for (let j = 0; j < c; j++) {
        for (let k = i * len + j * l; k < i * len + (j + 1) * l; k++) {
          dx[k] = this.inv[i] * ((gamma ? gamma[j] : 1) * dy.data[k] - this.xhat[k] * m);
        }
      }
    }
    return { data: dx, shape: [...dy.shape] };
  }
}

const rmsDescriptor: NormalizerDescriptor<{ kind: 'rms' }> = {
  kind: 'rms',
  grammar: 'rms',
  compareDefault: 'rms',
  parse: (text) => (text === 'rms' ? { kind: 'rms' } : null),
  create: (_spec, { channels }) => new RmsNorm({ channels }),
  fromState: (s) => RmsNorm.fromState(s as RmsNormState),
  traits: layout.traits,
  conformance: [
    {
      name: 'RmsNorm (throwaway)',
      create: ({ channels }) => new RmsNorm({ channels }),
      hasRunningStats: false,
    },
  ],
};

function compareHelp(): string {
  const program = new Command();
  registerCompare(program);
  return program.commands
    .find((c) => c.name() === 'compare')!
    .helpInformation()
    .replace(/\s+/g, ' ');
}

const unregister = registerNormalizer(rmsDescriptor);
afterAll(unregister);

describe('a normalizer added through its descriptor alone', () => {
  it('is accepted by the CLI variant grammar, for WindowNet and Mlp', () => {
    expect(parseVariantList('rms,r=rms,m=mlp:rms')).toEqual([
      { name: 'rms', model: 'windownet', normalizer: 'rms' },
      { name: 'r', model: 'windownet', normalizer: 'rms' },
      { name: 'm', model: 'mlp', normalizer: 'rms' },
    ]);
  });

  it('is accepted by the config schema (variants and compare.normalizers)', () => {
    expect(variantSchema.parse({ name: 'a', normalizer: 'rms' }).normalizer).toBe('rms');
    expect(configSchema.parse({ compare: { normalizers: ['rms', 'batch'] } }).compare?.normalizers).toEqual([
      'rms',
      'batch',
    ]);
  });

  it('is accepted by compare: validation, default grid, help text, per-sample trait and a cell run', () => {
    expect(() => validateGrid(['rms', 'layer'], 1)).not.toThrow();
    expect(defaultNormalizerSpecs()).toContain('rms');
    expect(compareHelp()).toMatch(/comma-separated: batch, .*rms/);
    expect(compareHelp()).toMatch(/default: batch,.*,rms\)/);
    expect(isPerSampleSpec('rms')).toBe(true);
    const windows = syntheticEvents({ n: 60, seed: 5, length: 8, channels: 2 });
    const cell = runCell(
      windows,
      inferShape(windows),
      inferClasses(windows),
      { normalizer: 'rms', batch: { kind: 'fixed', size: 4 }, seed: 1 },
      { hidden: 4 },
    );
    expect(cell.failed).toBeUndefined();
    expect(cell.events).toBe(60);
    expect(cell.gapCount).toBe(0); // per sample: no train-inference gap to measure
  });

  it('is built by the nets and restored from their state', () => {
    const net = new WindowNet({
      inChannels: 2,
      length: 8,
      hidden: 4,
      kernel: 3,
      classes: 2,
      normalizer: 'rms',
    });
    net.learnOne(
      Array.from({ length: 16 }, (_, i) => Math.sin(i)),
      1,
    );
    const back = WindowNet.fromState(JSON.parse(JSON.stringify(net.state())));
    expect(back.state()).toEqual(net.state());
    const n = createNormalizer('rms', { channels: 3 })!;
    expect(normalizerFromState(JSON.parse(JSON.stringify(n.state())))).toBeInstanceOf(RmsNorm);
  });
});

describeNormalizerConformance(conformanceCases().filter((c) => c.kind === 'rms'));

describe('once removed', () => {
  it('is refused by all of them again', () => {
    unregister();
    expect(isNormalizerSpec('rms')).toBe(false);
    expect(() => parseVariantList('rms')).toThrow(/'rms' is not a normalizer/);
    expect(variantSchema.safeParse({ name: 'a', normalizer: 'rms' }).success).toBe(false);
    expect(() => validateGrid(['rms'], 1)).toThrow(/normalizers: .*rms/);
    expect(defaultNormalizerSpecs()).not.toContain('rms');
    expect(isPerSampleSpec('rms')).toBe(false);
    expect(() => normalizerFromState({ kind: 'rms' })).toThrow(/unknown normalizer kind rms/);
  });
});
