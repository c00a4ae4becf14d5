/** The model the Kafka tests learn: a logistic LinearModel with plain SGD (deterministic, state bit-exact). */
import { LinearModel, type LinearModelState } from '../../../src/models/linear/index.js';
import type {
  Classifier,
  Features,
  ModelState,
  OnlineModel,
  WeightStats,
} from '../../../src/models/types.js';

export const testModelOptions = {
  loss: 'logistic' as const,
  regularizer: { l2: 1e-4 },
  optimizer: { type: 'sgd' as const, lr: 0.05 },
  dim: 4,
};

/** `createModels` for runLivePipeline: one variant, restored from the checkpoint when there is one. */
export function createTestModels(
  states: Readonly<Record<string, ModelState>> | null,
): Record<string, OnlineModel> {
  const s = states?.linear;
  return { linear: s ? LinearModel.fromState(s as LinearModelState) : new LinearModel(testModelOptions) };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` (a deliberately slow model: the event loop, and so the pipeline, stalls). */
function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** Delegates to a model, blocking for `ms` before each learning step. */
class SlowModel implements OnlineModel {
  constructor(
    private readonly inner: OnlineModel,
    private readonly ms: number,
  ) {}
  get kind(): string {
    return this.inner.kind;
  }
  get task(): OnlineModel['task'] {
    return this.inner.task;
  }
  get classes(): number {
    return this.inner.classes;
  }
  get rejectedUpdates(): number {
    return this.inner.rejectedUpdates;
  }
  learnOne(x: Features, y: number, w?: number): void {
    blockFor(this.ms);
    this.inner.learnOne(x, y, w);
  }
  learnMany(X: Features[], Y: number[]): void {
    blockFor(this.ms);
    this.inner.learnMany(X, Y);
  }
  predictOne(x: Features): number {
    return this.inner.predictOne(x);
  }
  predictMany(X: Features[]): number[] {
    return this.inner.predictMany(X);
  }
  predictProbaOne(x: Features): number[] {
    return (this.inner as Classifier).predictProbaOne(x);
  }
  predictProbaMany(X: Features[]): number[][] {
    return (this.inner as Classifier).predictProbaMany(X);
  }
  weightStats(): WeightStats {
    return this.inner.weightStats();
  }
  state(): ModelState {
    return this.inner.state();
  }
}

/**
 * The test model, made slow when `ms` > 0: every learning step first blocks the thread for `ms`. State
 * is the wrapped model's, so slow and fast runs compare directly.
 */
export function createSlowTestModels(
  ms: number,
): (states: Readonly<Record<string, ModelState>> | null) => Record<string, OnlineModel> {
  return (states) => {
    const models = createTestModels(states);
    return ms > 0 ? { linear: new SlowModel(models.linear, ms) } : models;
  };
}

/** Parameters after learning `events` offline in count batches of `size` (one learnMany each). */
export function offlineModelParams(events: readonly { x: Features; y?: number }[], size: number): number[] {
  const m = new LinearModel(testModelOptions);
  for (let i = 0; i < events.length; i += size) {
    const b = events.slice(i, i + size);
    m.learnMany(
      b.map((e) => e.x),
      b.map((e) => e.y!),
    );
  }
  return m.state().params;
}
