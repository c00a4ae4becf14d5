import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/cli/config.js';
import {
  GrammarError,
  forFlag,
  parseDropout,
  parseHidden,
  parseModelFamily,
  parseNormalizer,
  parseOptimizer,
  parseRegularizer,
  streamIsRegression,
  variantsWithModelFlags,
} from '../../../src/cli/modelOptions.js';
import { closestName } from '../../../src/cli/suggest.js';
import { buildModel, toVariantSpec } from '../../../src/cli/variants.js';
import { ConfigError } from '../../../src/errors.js';
import { LinearModel } from '../../../src/models/linear/linearModel.js';
import { Mlp } from '../../../src/models/nets/mlp.js';

const vector = { kind: 'vector', dim: 4 } as const;

describe('--regularizer grammar', () => {
  it('reads every regularizer of the library', () => {
    expect(parseRegularizer('none')).toBeNull();
    expect(parseRegularizer('l1:1e-4')).toEqual({ l1: 1e-4 });
    expect(parseRegularizer('l2:0.01')).toEqual({ l2: 0.01 });
    expect(parseRegularizer('elastic:1e-4,1e-3')).toEqual({ l1: 1e-4, l2: 1e-3 });
    expect(parseRegularizer('l0:10')).toEqual({ l0: { k: 10 } });
    expect(parseRegularizer('lp:1.5,0.01')).toEqual({ lp: { p: 1.5, lambda: 0.01 } });
  });
  it('refuses bad values, naming them, with a did-you-mean on the name', () => {
    expect(() => parseRegularizer('l3:1')).toThrow(/got 'l3' \(did you mean 'l1'\?\)/);
    expect(() => parseRegularizer('l1')).toThrow(/l1 takes one value/);
    expect(() => parseRegularizer('l1:-1')).toThrow(/l1: expected a number >= 0, got '-1'/);
    expect(() => parseRegularizer('lp:0.5,1')).toThrow(/p must be >= 1/);
    expect(() => parseRegularizer('l0:2.5')).toThrow(/integer/);
    expect(() => parseRegularizer('elastic:1')).toThrow(/two values/);
  });
});

describe('--optimizer grammar', () => {
  it('reads every optimizer of the library with its rates', () => {
    expect(parseOptimizer('sgd')).toEqual({ type: 'sgd' });
    expect(parseOptimizer('sgd:0.05,invscaling')).toEqual({ type: 'sgd', lr: 0.05, schedule: 'invscaling' });
    expect(parseOptimizer('adagrad:0.1')).toEqual({ type: 'adagrad', lr: 0.1 });
    expect(parseOptimizer('adam:1e-3')).toEqual({ type: 'adam', lr: 1e-3 });
    expect(parseOptimizer('ftrl:0.5,1')).toEqual({ type: 'ftrl', alpha: 0.5, beta: 1 });
    expect(parseOptimizer('ftrl')).toEqual({ type: 'ftrl' });
  });
  it('refuses unknown names and schedules with a did-you-mean', () => {
    expect(() => parseOptimizer('adma')).toThrow(/did you mean 'adam'/);
    expect(() => parseOptimizer('sgd:0.1,optimall')).toThrow(/did you mean 'optimal'/);
    expect(() => parseOptimizer('adam:0.1,2')).toThrow(GrammarError);
    expect(() => parseOptimizer('adam:0')).toThrow(/adam lr: expected a number > 0/);
  });
});

describe('family names, nets and normalizers', () => {
  it('suggests the family for a typo, a swapped pair included', () => {
    expect(() => parseModelFamily('mpl')).toThrow(/did you mean 'mlp'/);
    expect(() => parseModelFamily('linaer')).toThrow(/did you mean 'linear'/);
    expect(closestName('mpl', ['mlp', 'rnn'])).toBe('mlp');
    expect(parseModelFamily('rnn')).toBe('rnn');
  });
  it('reads hidden sizes, dropout rates and normalizers', () => {
    expect(parseHidden('32')).toBe(32);
    expect(parseHidden('64,32')).toEqual([64, 32]);
    expect(() => parseHidden('64,x')).toThrow(GrammarError);
    expect(parseDropout('0.3,0.1')).toEqual([0.3, 0.1]);
    expect(() => parseDropout('1')).toThrow(GrammarError);
    expect(parseNormalizer('group:4')).toBe('group:4');
    expect(() => parseNormalizer('lyer')).toThrow(/did you mean 'layer'/);
  });
  it('a flag wrapper names the flag in a one-line ConfigError', () => {
    const f = forFlag('--regularizer', parseRegularizer);
    expect(() => f('l9:1')).toThrow(ConfigError);
    expect(() => f('l9:1')).toThrow(/^--regularizer: expected/);
  });
});

describe('variants from the family flags', () => {
  it('--model F is one variant named after it, with the options', () => {
    const v = variantsWithModelFlags(
      { model: 'linear', loss: 'hinge', regularizer: { l1: 1e-4 } },
      undefined,
      undefined,
      '--variants',
    );
    expect(v).toEqual([{ name: 'linear', model: 'linear', loss: 'hinge', regularizer: { l1: 1e-4 } }]);
    const m = buildModel(v![0], vector);
    expect(m).toBeInstanceOf(LinearModel);
    expect((m as LinearModel).state().options).toMatchObject({ loss: 'hinge', regularizer: { l1: 1e-4 } });
  });
  it('options apply to each --variants item; --model with --variants is refused', () => {
    const v = variantsWithModelFlags(
      { hidden: 8 },
      [{ name: 'bn', normalizer: 'batch' }],
      undefined,
      '--variants',
    );
    expect(v).toEqual([{ name: 'bn', normalizer: 'batch', hidden: 8 }]);
    expect(() => variantsWithModelFlags({ model: 'mlp' }, [{ name: 'bn' }], undefined, '--variants')).toThrow(
      /give --model or --variants, not both/,
    );
    // a config file's variants yield to --model (flags override the file)
    expect(variantsWithModelFlags({ model: 'mlp' }, undefined, [{ name: 'bn' }], '--variants')).toEqual([
      { name: 'mlp', model: 'mlp' },
    ]);
  });
  it('linear options alone choose a linear model; net options alone need --model', () => {
    expect(
      variantsWithModelFlags({ optimizer: { type: 'ftrl' } }, undefined, undefined, '--variants'),
    ).toEqual([{ name: 'linear', model: 'linear', optimizer: { type: 'ftrl' } }]);
    expect(() => variantsWithModelFlags({ hidden: 32 }, undefined, undefined, '--variants')).toThrow(
      /--hidden: needs --model/,
    );
    expect(() =>
      variantsWithModelFlags({ model: 'mlp', loss: 'hinge' }, undefined, undefined, '--variants'),
    ).toThrow(/--loss: a linear-model option, not read by --model mlp/);
    expect(() =>
      variantsWithModelFlags({ model: 'linear', hidden: 3 }, undefined, undefined, '--variants'),
    ).toThrow(/--hidden: a net option/);
  });

  it('--readout is an rnn option: passed through for --model rnn, refused for the other families', () => {
    expect(
      variantsWithModelFlags({ model: 'rnn', readout: 'last' }, undefined, undefined, '--variants'),
    ).toEqual([{ name: 'rnn', model: 'rnn', readout: 'last' }]);
    expect(() =>
      variantsWithModelFlags({ model: 'windownet', readout: 'last' }, undefined, undefined, '--variants'),
    ).toThrow(/--readout: only --model rnn has a readout/);
  });
  it('the stream is a regression when every variant is one, and a mix is refused', () => {
    expect(streamIsRegression([{ name: 'a', task: 'regression' }])).toBe(true);
    expect(streamIsRegression([{ name: 'a', loss: 'squared' }])).toBe(true);
    expect(streamIsRegression([{ name: 'a', loss: 'hinge' }])).toBe(false);
    expect(streamIsRegression(undefined)).toBe(false);
    expect(() => streamIsRegression([{ name: 'a', loss: 'squared' }, { name: 'b' }])).toThrow(
      /one or the other/,
    );
    expect(() => streamIsRegression([{ name: 'a', task: 'regression' }], 3)).toThrow(/--classes/);
  });
});

describe('each family maps the options', () => {
  it('linear: the loss follows the classes and the task; lr fills the optimizer', () => {
    const opts = (v: object, classes = 2): object =>
      toVariantSpec({ name: 'l', model: 'linear', ...v }, vector, classes).options ?? {};
    expect(opts({})).toMatchObject({ loss: 'logistic' });
    expect(opts({}, 3)).toMatchObject({ loss: 'softmax', classes: 3 });
    expect(opts({ task: 'regression' })).toMatchObject({ loss: 'squared' });
    expect(opts({ optimizer: { type: 'ftrl' }, lr: 0.2 })).toMatchObject({
      optimizer: { type: 'ftrl', alpha: 0.2 },
    });
    expect(opts({ optimizer: { type: 'adam', lr: 0.1 }, lr: 0.2 })).toMatchObject({
      optimizer: { type: 'adam', lr: 0.1 },
    });
    expect(opts({ regularizer: { lp: { p: 1.5, lambda: 0.1 } } })).toMatchObject({
      regularizer: { lp: { p: 1.5, lambda: 0.1 } },
    });
    expect(() => opts({ loss: 'hinge' }, 3)).toThrow(/'hinge' is binary, the stream has 3 classes/);
    expect(() => opts({ task: 'regression', loss: 'logistic' })).toThrow(
      /regression model learns the squared loss/,
    );
  });
  it('a sparse hashed linear model with FTRL builds with the hash dimension', () => {
    const m = buildModel(
      { name: 'l', model: 'linear', optimizer: { type: 'ftrl', alpha: 0.1 } },
      {
        kind: 'sparse',
        dim: 1024,
      },
    );
    expect((m as LinearModel).weights.length).toBe(1024);
  });
  it('nets: l1/l2 regularizers and sgd/adagrad/adam; a loss, lp, ftrl or regression refused', () => {
    const m = buildModel(
      {
        name: 'm',
        model: 'mlp',
        hidden: [16, 8],
        regularizer: { l2: 0.01 },
        optimizer: { type: 'sgd', lr: 0.1 },
      },
      vector,
    );
    expect(m).toBeInstanceOf(Mlp);
    expect((m as Mlp).hidden).toEqual([16, 8]);
    expect((m as Mlp).opts).toMatchObject({ l2: 0.01, optimizer: { type: 'sgd', lr: 0.1 } });
    expect(() => buildModel({ name: 'm', model: 'mlp', loss: 'hinge' }, vector)).toThrow(
      /only a linear model/,
    );
    expect(() => buildModel({ name: 'm', model: 'mlp', regularizer: { l0: { k: 2 } } }, vector)).toThrow(
      /not l0/,
    );
    expect(() => buildModel({ name: 'm', model: 'mlp', optimizer: { type: 'ftrl' } }, vector)).toThrow(
      /not ftrl/,
    );
    expect(() => buildModel({ name: 'm', model: 'mlp', task: 'regression' }, vector)).toThrow(/classifiers/);
  });
});

describe('config file variants take the same grammar', () => {
  it('parses the strings into the library options', () => {
    const c = parseConfig(
      {
        variants: [
          { name: 'svm', model: 'linear', loss: 'hinge', regularizer: 'l1:1e-4', optimizer: 'ftrl:0.1,1' },
          { name: 'reg', model: 'linear', task: 'regression' },
        ],
      },
      'config file c.yaml',
    );
    expect(c.variants?.[0]).toMatchObject({
      loss: 'hinge',
      regularizer: { l1: 1e-4 },
      optimizer: { type: 'ftrl', alpha: 0.1, beta: 1 },
    });
    expect(c.variants?.[1]).toMatchObject({ task: 'regression' });
  });
  it('names the field in one line, with a did-you-mean', () => {
    const bad = (v: object): string => {
      try {
        parseConfig({ variants: [{ name: 'x', ...v }] }, 'config file c.yaml');
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(bad({ model: 'linaer' })).toBe(
      "config file c.yaml: bad value for variants.0.model: expected 'linear' | 'windownet' | 'mlp' | 'rnn', got 'linaer' (did you mean 'linear'?)",
    );
    expect(bad({ loss: 'hnge' })).toMatch(/variants\.0\.loss: .* \(did you mean 'hinge'\?\)$/);
    expect(bad({ regularizer: 'elastc:1,2' })).toMatch(/variants\.0\.regularizer: .*did you mean 'elastic'/);
    expect(bad({ optimizer: 'ftlr' })).toMatch(/variants\.0\.optimizer: .*did you mean 'ftrl'/);
    expect(bad({ normalizer: 'lyer' })).toMatch(/variants\.0\.normalizer: .*did you mean 'layer'/);
    expect(bad({ los: 'hinge' })).toMatch(/unknown field variants\.0\.los \(did you mean 'loss'\?\)/);
    expect(bad({ loss: 'hinge' }).includes('\n')).toBe(false);
  });
});

describe("the config file's compare section takes compare's newer flags", () => {
  it('arrival, step events, warm-up, the family, hidden layers and lr auto', () => {
    const c = parseConfig(
      {
        compare: {
          arrival: ['iid', 'bursty:8'],
          stepEvents: 'arrival',
          warmup: 100,
          model: { family: 'mlp', hidden: [64, 64], lr: 'auto' },
        },
      },
      'config file c.yaml',
    );
    expect(c.compare).toMatchObject({
      arrival: ['iid', 'bursty:8'],
      stepEvents: 'arrival',
      warmup: 100,
      model: { family: 'mlp', hidden: [64, 64], lr: 'auto' },
    });
    expect(() => parseConfig({ compare: { model: { family: 'mpl' } } }, 'config file c.yaml')).toThrow(
      "config file c.yaml: bad value for compare.model.family: expected 'linear' | 'windownet' | 'mlp' | 'rnn', got 'mpl' (did you mean 'mlp'?)",
    );
    expect(() => parseConfig({ compare: { stepEvent: 8 } }, 'config file c.yaml')).toThrow(
      /unknown field compare\.stepEvent \(did you mean 'stepEvents'\?\)/,
    );
  });
});
