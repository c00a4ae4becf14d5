/**
 * Scenarios whose every observable result (weights, intercepts, steps, rejections, scores, penalty,
 * state, error messages) is hashed per optimizer, to pin `LinearModel` to the results of the code before
 * the weight-store split (4ba3a52) bit for bit: 5 losses × 6 regularizers × 6 modes (dense number[],
 * Float64Array, sparse, mixed, dense and sparse batches) × intercept on/off, 60 events each with a run
 * of 1e200-scaled dense events (rejections).
 *
 * Regenerate the fixture in `weightStoreDigest.test.ts` (only for an intended change of results):
 * `npx tsx test/unit/models/linear/digestScenarios.ts <worktree root>`.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';

interface Model {
  learnOne(x: unknown, y: number, w?: number): void;
  learnMany(X: unknown[], Y: number[]): void;
  decisionFunction(x: unknown): number[];
  penalty(): number;
  weightStats(): unknown;
  state(): unknown;
  readonly weights: Float64Array;
  readonly steps: number;
  readonly rejectedUpdates: number;
}
type ModelClass = new (o: never) => Model;
interface RngLike {
  normal(): number;
  int(n: number): number;
}
type RngClass = new (seed: number) => RngLike;

export const optimizers = [
  { type: 'sgd', lr: 0.05 },
  { type: 'sgd', lr: 0.05, schedule: 'invscaling' },
  { type: 'sgd', schedule: 'optimal' },
  { type: 'adagrad', lr: 0.1 },
  { type: 'adam', lr: 0.01 },
  { type: 'ftrl', alpha: 0.2, beta: 1 },
] as const;

const losses = ['squared', 'logistic', 'hinge', 'exponential', 'softmax'];
const regularizers = [
  null,
  { l1: 0.01 },
  { l2: 0.02 },
  { l1: 0.005, l2: 0.01 },
  { lp: { p: 1.5, lambda: 0.01 } },
  { l0: { k: 3 } },
];
const modes = ['dense', 'f64', 'sparse', 'mixed', 'batch', 'sparsebatch'];

/** One sha256 per entry of `optimizers`, over every scenario run with it. */
export function digests(LinearModel: ModelClass, Rng: RngClass): string[] {
  const d = 8;
  return optimizers.map((optimizer) => {
    const out: unknown[] = [];
    for (const loss of losses)
      for (const regularizer of regularizers)
        for (const mode of modes)
          for (const fitIntercept of [true, false]) {
            let m: Model;
            const options = { loss, regularizer, optimizer, fitIntercept, dim: d };
            try {
              m = new LinearModel({ ...options, ...(loss === 'softmax' ? { classes: 3 } : {}) } as never);
            } catch (e) {
              out.push(['ctor', loss, regularizer, (e as Error).message]);
              continue;
            }
            const rng = new Rng(7);
            const label = () =>
              loss === 'squared' ? rng.normal() : loss === 'softmax' ? rng.int(3) : rng.int(2);
            const dense = (scale = 1) => Array.from({ length: d }, () => rng.normal() * scale);
            const sparse = () => {
              const indices = Array.from({ length: 1 + rng.int(4) }, () => rng.int(d));
              return { indices, values: indices.map(() => rng.normal()) };
            };
            const trace: unknown[] = [];
            for (let e = 0; e < 60; e++) {
              const big = e === 30 ? 1e200 : 1;
              try {
                if (mode === 'dense') m.learnOne(dense(big), label(), e % 5 === 0 ? 0.5 : 1);
                else if (mode === 'f64') m.learnOne(Float64Array.from(dense(big)), label());
                else if (mode === 'sparse') m.learnOne(sparse(), label());
                else if (mode === 'mixed')
                  m.learnOne(e % 3 === 0 ? Float64Array.from(dense(big)) : sparse(), label());
                else if (mode === 'batch')
                  m.learnMany(
                    [dense(big), Float64Array.from(dense()), sparse()],
                    [label(), label(), label()],
                  );
                else m.learnMany([sparse(), sparse(), sparse()], [label(), label(), label()]);
              } catch (err) {
                trace.push((err as Error).message);
              }
              if (e % 20 === 19) {
                trace.push([dense(), sparse()].map((x) => m.decisionFunction(x)));
                if (e === 39) trace.push(Array.from(m.weights));
              }
            }
            out.push([
              mode,
              fitIntercept,
              m.steps,
              m.rejectedUpdates,
              m.penalty(),
              m.weightStats(),
              trace,
              m.state(),
            ]);
          }
    const json = JSON.stringify(out, (_k, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? String(v) : Object.is(v, -0) ? '-0' : v,
    );
    return createHash('sha256').update(json).digest('hex');
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = process.argv[2] ?? '.';
  const { LinearModel } = (await import(pathToFileURL(`${root}/src/models/linearModel.ts`).href)) as {
    LinearModel: ModelClass;
  };
  const { Rng } = (await import(pathToFileURL(`${root}/src/core/rng.ts`).href)) as { Rng: RngClass };
  console.log(JSON.stringify(digests(LinearModel, Rng), null, 2));
}
