import { describe, expect, it } from 'vitest';
import { variantSchema } from '../../../src/cli/config.js';
import { buildModel, parseVariantList } from '../../../src/cli/variants.js';
import { ModelError } from '../../../src/errors.js';
import {
  modelConformanceCases,
  modelFamilies,
  modelFamily,
  modelFamilyNames,
  modelFromState,
  modelLabel,
} from '../../../src/models/modelFamilies.js';
import type { InputKind, StreamShape } from '../../../src/models/modelFamily.js';
import { modelChecks } from '../../../src/testing/modelChecks.js';

const shapes: Record<InputKind, StreamShape> = {
  vector: { kind: 'vector', dim: 5 },
  sparse: { kind: 'sparse', dim: 32 },
  window: { kind: 'window', channels: 2, length: 6 },
};

describe('model families', () => {
  it('have unique names and kinds, and the config schema accepts exactly their names', () => {
    expect(new Set(modelFamilies.map((f) => f.name)).size).toBe(modelFamilies.length);
    expect(new Set(modelFamilies.map((f) => f.kind)).size).toBe(modelFamilies.length);
    for (const name of modelFamilyNames)
      expect(variantSchema.safeParse({ name: 'v', model: name }).success).toBe(true);
    expect(variantSchema.safeParse({ name: 'v', model: 'forest' }).success).toBe(false);
    expect(() => modelFamily('forest')).toThrow(/model: expected 'linear' \| 'windownet' \| 'mlp'/);
  });

  it.each(modelFamilies.map((f) => [f.name, f] as const))(
    '%s: builds for exactly the inputs its traits name, restores by kind, carries conformance cases',
    (_name, f) => {
      expect(f.conformance.length).toBeGreaterThan(0);
      for (const kind of Object.keys(shapes) as InputKind[]) {
        const build = () => f.create(f.optionsFrom({}, 2), shapes[kind]);
        if (!f.traits.inputs.includes(kind)) {
          expect(build).toThrow(ModelError);
          continue;
        }
        const m = build();
        expect(m.kind).toBe(f.kind);
        expect(f.traits.tasks).toContain(m.task);
        const r = modelFromState(JSON.parse(JSON.stringify(m.state())));
        expect(r.kind).toBe(f.kind);
        expect(JSON.stringify(r.state())).toBe(JSON.stringify(m.state()));
        expect(modelLabel(m)).toMatch(new RegExp(`^${f.kind}`));
      }
    },
  );

  it('maps the CLI flat options onto each family (nets: LayerNorm and seed 1 unless given)', () => {
    const win = modelFamily('windownet').create(
      modelFamily('windownet').optionsFrom({ hidden: 4, kernel: 2 }, 3),
      shapes.window,
    );
    expect(modelLabel(win)).toBe('WindowNet(layer)');
    expect(win.classes).toBe(3);
    expect(modelFamily('mlp').optionsFrom({ hidden: 8, normalizer: 'batch' }, 2)).toMatchObject({
      hidden: [8],
      normalizer: 'batch',
      seed: 1,
    });
    expect(modelFamily('linear').optionsFrom({ l1: 0.1, lr: 0.5 }, 4)).toEqual({
      loss: 'softmax',
      classes: 4,
      regularizer: { l1: 0.1 },
      optimizer: { type: 'sgd', lr: 0.5 },
    });
  });

  it('reads --variant items through each family, and builds them along the same path', () => {
    expect(parseVariantList('batch,ln=layer,linear,mlp,m2=mlp:group:2')).toEqual([
      { name: 'batch', model: 'windownet', normalizer: 'batch' },
      { name: 'ln', model: 'windownet', normalizer: 'layer' },
      { name: 'linear', model: 'linear' },
      { name: 'mlp', model: 'mlp', normalizer: 'layer' },
      { name: 'm2', model: 'mlp', normalizer: 'group:2' },
    ]);
    expect(() => parseVariantList('svm')).toThrow(
      /'svm' is not a normalizer or a model: it is not one of linear \| NORMALIZER \| mlp\[:NORMALIZER\]/,
    );
    expect(() => parseVariantList('mlp:bogus')).toThrow(
      /'mlp:bogus' is not a normalizer or a model: it is not one of/,
    );
    const [m2] = parseVariantList('m2=mlp:group:2');
    expect(modelLabel(buildModel(m2, { kind: 'vector', dim: 4 }))).toBe('Mlp(group:2)');
    const [lin] = parseVariantList('linear');
    const sparse = buildModel(lin, { kind: 'sparse' }, 3);
    expect(sparse.kind).toBe('LinearModel');
    expect(sparse.classes).toBe(3);
    expect(() => buildModel(lin, { kind: 'window', shape: [2, 3] })).toThrow(
      /variant linear: model: a LinearModel needs/,
    );
  });

  it('case names are unique across families', () => {
    const names = modelConformanceCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('the weight-statistics check fails a model whose reported norms do not match its weights', () => {
    const check = modelChecks.find((c) => c.name.startsWith('reports weight statistics'))!;
    for (const base of modelConformanceCases.filter(
      (c) => c.name.startsWith('linear/') || c.name.startsWith('mlp/'),
    )) {
      const scaled = {
        ...base,
        weights: (m: Parameters<typeof base.weights>[0]) => Array.from(base.weights(m), (v) => 2 * v),
      };
      expect(() => check.run(scaled)).toThrow(/l1|l2|sparsity|count/);
      const extra = {
        ...base,
        weights: (m: Parameters<typeof base.weights>[0]) => [...Array.from(base.weights(m)), 1],
      };
      expect(() => check.run(extra)).toThrow();
      expect(() => check.run(base)).not.toThrow();
    }
  });
});
