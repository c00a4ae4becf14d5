/**
 * The model family and its options from the CLI and a config file (docs/models.md), as a user runs them:
 * `replay` of event files with `--model linear --loss hinge --regularizer l1:…`, `--classes 3`, regression and
 * `--model mlp --hidden 32`; one-line errors with a did-you-mean; and `run` on the real broker with FTRL on
 * hashed sparse events.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseCheckpoint } from '../../src/streams/checkpointStore.js';
import { cleanEnv, freePort, plainLines, runCli } from './cliHelpers.js';

const N = 400;

/** A seeded stream of uniform numbers in [-1, 1) (a 32-bit LCG), so every file is the same on every run. */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

function writeEvents(path: string, events: object[]): void {
  writeFileSync(path, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

/** The row of `variant` in a printed table, split on runs of spaces. */
function row(stdout: string, variant: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${variant} `));
  expect(line, stdout).toBeDefined();
  return line!.trim().split(/\s+/);
}

/**
 * Writes `events` (a file of this suite) to a fresh topic of the test broker with `replay --to-topic`, then consumes
 * it with `run` and the given flags into the checkpoint directory `ck`; returns run's result.
 */
async function replayThenRun(
  events: string,
  name: string,
  ck: string,
  flags: string[],
): Promise<Awaited<ReturnType<typeof runCli>>> {
  const brokers = inject('kafkaBrokers');
  const tag = `${process.pid}-${Date.now()}`;
  const topic = `e2e-families-${name}-${tag}`;
  const p = await runCli(['replay', '--input', events, '--to-topic', topic, '--brokers', brokers]);
  expect(p.code, p.stderr).toBe(0);
  return runCli(
    [
      'run',
      '--topic',
      topic,
      '--group',
      `e2e-families-${name}-${tag}`,
      ...flags,
      '--metrics-port',
      String(await freePort()),
      '--checkpoint-dir',
      ck,
      '--log-level',
      'warn',
    ],
    { env: cleanEnv({ KAFKA_BROKERS: brokers }), timeoutMs: 170_000 },
  );
}

describe('model families from the CLI', () => {
  let dir: string;
  const file = (name: string): string => join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamnorm-families-'));
    const u = uniform(7);
    const bin: object[] = [];
    const three: object[] = [];
    const reg: object[] = [];
    const sparse: object[] = [];
    for (let i = 0; i < N; i++) {
      const x = [u(), u(), u(), u()];
      bin.push({ id: `b${i}`, ts: i, x, y: x[0] + 0.5 * x[1] > 0 ? 1 : 0 });
      three.push({ id: `t${i}`, ts: i, x, y: x[0] < -0.33 ? 0 : x[0] < 0.33 ? 1 : 2 });
      reg.push({ id: `r${i}`, ts: i, x, y: 2 * x[0] - x[1] + 0.05 * u() });
      // hashed bag of words: token k of 1,024 buckets; spam (y = 1) uses the upper half more
      const y = u() > 0 ? 1 : 0;
      const indices = [
        ...new Set([0, 1, 2].map(() => Math.floor((u() * 0.5 + 0.5 + (y ? 0.25 : -0.25)) * 1023) & 1023)),
      ];
      sparse.push({ id: `s${i}`, ts: i, x: { indices, values: indices.map(() => 1) }, y });
    }
    three[50] = { id: 't50', ts: 50, x: [0, 0, 0, 0], y: 5 }; // not one of the 3 classes
    sparse[10] = { id: 's10', ts: 10, x: { indices: [4096], values: [1] }, y: 1 }; // index >= --hash-dim
    writeEvents(file('binary.jsonl'), bin);
    writeEvents(file('three.jsonl'), three);
    writeEvents(file('regression.jsonl'), reg);
    writeEvents(file('sparse.jsonl'), sparse);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replay --model linear --loss hinge --regularizer l1:1e-4 learns a linear SVM', async () => {
    const r = await runCli([
      'replay',
      '--input',
      file('binary.jsonl'),
      '--model',
      'linear',
      '--loss',
      'hinge',
      '--regularizer',
      'l1:1e-4',
      '--optimizer',
      'sgd:0.05',
      '--log-level',
      'warn',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [, model, events, , error] = row(r.stdout, 'linear');
    expect(model).toBe('LinearModel');
    expect(Number(events)).toBe(N);
    // a separable stream: far better than the majority class (about 50 %)
    expect(Number(error.replace('%', ''))).toBeLessThan(25);
  });

  it('replay --classes 3 learns a softmax model and dead-letters a label outside the classes', async () => {
    const r = await runCli([
      'replay',
      '--input',
      file('three.jsonl'),
      '--classes',
      '3',
      '--model',
      'linear',
      '--optimizer',
      'adagrad:0.2',
      '--log-level',
      'warn',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(Number(row(r.stdout, 'linear')[2])).toBe(N - 1);
    expect(plainLines(r.stderr).join('\n')).toMatch(/1 dead letter.*bad_label 1/);
  });

  it('replay --task regression learns numbers and reports the MSE and MAE', async () => {
    const r = await runCli([
      'replay',
      '--input',
      file('regression.jsonl'),
      '--task',
      'regression',
      '--optimizer',
      'sgd:0.1',
      '--log-level',
      'warn',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^variant\s+model\s+events\s+MSE\s+MAE\s+events\/s/m);
    const [, model, events, mse, mae] = row(r.stdout, 'linear');
    expect(model).toBe('LinearModel');
    expect(Number(events)).toBe(N);
    // y = 2·x0 − x1 + noise has variance ≈ 5/3; a model that learned predicts far better than its mean
    expect(Number(mse)).toBeLessThan(0.5);
    // mean |e| ≤ √(mean e²) (Jensen), up to the printed rounding
    expect(Number(mae)).toBeGreaterThan(0);
    expect(Number(mae)).toBeLessThanOrEqual(Math.sqrt(Number(mse)) + 1e-3);
  });

  it('replay --model mlp --hidden 32 learns an Mlp with one hidden layer of 32', async () => {
    const r = await runCli([
      'replay',
      '--input',
      file('binary.jsonl'),
      '--model',
      'mlp',
      '--hidden',
      '32',
      '--log-level',
      'warn',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(row(r.stdout, 'mlp').slice(1, 3)).toEqual(['Mlp(layer)', String(N)]);
  });

  it('a config file names the same options in its variants', async () => {
    const cfg = file('models.yaml');
    writeFileSync(
      cfg,
      'variants:\n' +
        '  - { name: svm, model: linear, loss: hinge, regularizer: "elastic:1e-4,1e-3", optimizer: "adam:0.05" }\n' +
        '  - { name: mlp, model: mlp, hidden: [16, 8], dropout: [0.2, 0.1] }\n',
    );
    const r = await runCli([
      'replay',
      '--input',
      file('binary.jsonl'),
      '--config',
      cfg,
      '--log-level',
      'warn',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(row(r.stdout, 'svm')[1]).toBe('LinearModel');
    expect(row(r.stdout, 'mlp')[1]).toBe('Mlp(layer)');
  });

  it.each([
    [['--model', 'linear', '--loss', 'hnge'], /--loss .* got 'hnge' \(did you mean 'hinge'\?\)$/],
    [['--model', 'mpl'], /--model .* got 'mpl' \(did you mean 'mlp'\?\)$/],
    [['--model', 'linear', '--regularizer', 'elastc:1e-4,1e-3'], /--regularizer .*did you mean 'elastic'/],
    [['--model', 'linear', '--optimizer', 'ftlr:0.1'], /--optimizer .*did you mean 'ftrl'/],
    [
      ['--model', 'linear', '--loss', 'hinge', '--classes', '3'],
      /'hinge' is binary, the stream has 3 classes/,
    ],
    [
      ['--model', 'mlp', '--loss', 'hinge'],
      /^streamnorm: --loss: a linear-model option, not read by --model mlp$/,
    ],
  ])('replay %j is refused in one line (exit 2)', async (args, message) => {
    const r = await runCli(['replay', '--input', file('binary.jsonl'), ...args]);
    expect(r.code, r.stderr).toBe(2);
    const lines = plainLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('a config file variant with an unknown option name gets a did-you-mean (exit 2)', async () => {
    const cfg = file('typo.yaml');
    writeFileSync(cfg, 'variants:\n  - { name: svm, model: linear, los: hinge }\n');
    const r = await runCli(['replay', '--input', file('binary.jsonl'), '--config', cfg]);
    expect(r.code).toBe(2);
    expect(plainLines(r.stderr)).toEqual([
      `streamnorm: config file ${cfg}: unknown field variants.0.los (did you mean 'loss'?)`,
    ]);
  });

  it.each([
    [
      ['--variants', 'lyer,batch'],
      /^streamnorm: --variants: expected .* got 'lyer' \(did you mean 'layer'\?\)$/,
    ],
    [
      ['--model', 'rn'],
      /^streamnorm: --model: expected 'windownet' \| 'mlp' \| 'rnn', got 'rn' \(did you mean 'rnn'\?\)$/,
    ],
  ])('compare %j is refused in one line with a did-you-mean (exit 2)', async (args, message) => {
    const r = await runCli(['compare', '--dataset', 'sensor', ...args, '--out', file('cmp-refused')]);
    expect(r.code, r.stderr).toBe(2);
    expect(plainLines(r.stderr)).toHaveLength(1);
    expect(plainLines(r.stderr)[0]).toMatch(message);
  });

  it("compare reads its newer flags from the config file's compare section", async () => {
    const cfg = file('compare.yaml');
    writeFileSync(
      cfg,
      'compare:\n' +
        '  dataset: sensor\n  limit: 120\n  seeds: 1\n  normalizers: [layer]\n  batchSizes: [4]\n' +
        '  arrival: [iid, bursty:4]\n  stepEvents: arrival\n  warmup: 20\n' +
        '  model: { family: rnn, hidden: 8, lr: 0.02 }\n',
    );
    const out = file('cmp');
    const r = await runCli(['compare', '--config', cfg, '--out', out, '--quiet', '--log-level', 'warn']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      meta: { model: { family: string; hidden: number }; stepEvents: unknown; warmup: number };
      rows: { arrival: string; lr: number; status: string }[];
    };
    expect(res.meta.model).toMatchObject({ family: 'rnn', hidden: 8 });
    expect(res.meta.stepEvents).toBe('arrival');
    expect(res.meta.warmup).toBe(20);
    expect(res.rows.map((x) => [x.arrival, x.lr, x.status])).toEqual([
      ['iid', 0.02, 'ok'],
      ['bursty:4', 0.02, 'ok'],
    ]);
  });

  it('run on the broker learns hashed sparse events with --model linear --optimizer ftrl --hash-dim', async () => {
    const ck = join(dir, 'ck');
    const r = await replayThenRun(file('sparse.jsonl'), 'sparse', ck, [
      '--model',
      'linear',
      '--optimizer',
      'ftrl:0.1,1',
      '--regularizer',
      'elastic:1e-4,1e-4',
      '--hash-dim',
      '1024',
      '--batch',
      '20',
      '--max-events',
      String(N - 1),
    ]);
    expect(r.code, r.stderr).toBe(0);
    // every valid event learned (the index beyond --hash-dim is a dead letter, not a crash), in 1,024 weights
    expect(row(r.stdout, 'linear')[1]).toBe(String(N - 1));
    // and the operator sees it on the log (no dead-letter topic given): one line with its reason and offset
    const letters = r.stderr
      .split('\n')
      .filter((l) => l.includes('dead letter: message rejected'))
      .map((l) => JSON.parse(l) as { reason: string; offset: string });
    expect(letters.map((l) => [l.reason, l.offset])).toEqual([['bad_shape', '10']]);
    const saved = parseCheckpoint(readFileSync(join(ck, 'checkpoint.json')));
    const state = saved.models.linear as unknown as { options: object; dim: number };
    expect(state.dim).toBe(1024);
    expect(state.options).toMatchObject({
      loss: 'logistic',
      optimizer: { type: 'ftrl', alpha: 0.1, beta: 1 },
      regularizer: { l1: 1e-4, l2: 1e-4 },
    });
  });

  it('run on the broker learns a regression with --task regression: numeric labels are events, not dead letters', async () => {
    const ck = join(dir, 'ck-regression');
    const r = await replayThenRun(file('regression.jsonl'), 'regression', ck, [
      '--task',
      'regression',
      '--optimizer',
      'sgd:0.1',
      '--batch',
      '5',
      '--max-events',
      String(N),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^variant\s+learned\s+MSE\s+error/m);
    const [, learned, mse, error] = row(r.stdout, 'linear');
    expect(learned).toBe(String(N));
    // far below the labels' variance (≈ 5/3), however the batches were cut by time
    expect(Number(mse)).toBeLessThan(1.2);
    expect(error).toBe('-');
    const saved = parseCheckpoint(readFileSync(join(ck, 'checkpoint.json')));
    expect((saved.models.linear as unknown as { options: object }).options).toMatchObject({
      loss: 'squared',
    });
  });
});
