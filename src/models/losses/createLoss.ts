import { ModelError } from '../../errors.js';
import type { Loss, LossName } from './loss.js';
import { squaredLoss } from './squared.js';
import { logisticLoss } from './logistic.js';
import { hingeLoss } from './hinge.js';
import { exponentialLoss } from './exponential.js';
import { SoftmaxLoss } from './softmax.js';

export const lossNames: readonly LossName[] = ['squared', 'logistic', 'hinge', 'exponential', 'softmax'];

/** Builds a loss by name; `classes` is required for softmax and must be absent or 2 for the others. */
export function createLoss(name: LossName, classes?: number): Loss {
  if (name !== 'softmax' && classes !== undefined && !(name !== 'squared' && classes === 2)) {
    throw new ModelError(`option classes=${classes} only applies to the softmax loss (loss is '${name}')`);
  }
  switch (name) {
    case 'squared':
      return squaredLoss;
    case 'logistic':
      return logisticLoss;
    case 'hinge':
      return hingeLoss;
    case 'exponential':
      return exponentialLoss;
    case 'softmax':
      if (classes === undefined) throw new ModelError(`the softmax loss needs the 'classes' option`);
      return new SoftmaxLoss(classes);
    default:
      throw new ModelError(`unknown loss '${String(name)}' (expected one of ${lossNames.join(', ')})`);
  }
}
