/** The model the Kafka tests learn: a logistic LinearModel with plain SGD (deterministic, state bit-exact). */
import { LinearModel, type LinearModelState } from '../../../src/models/linearModel.js';
import type { ModelState, OnlineModel } from '../../../src/models/types.js';

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
