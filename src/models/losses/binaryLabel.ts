import { ModelError } from '../../errors.js';

/** Binary losses take y ∈ {0, 1} (the class index), never ±1, so every classifier shares one label space. */
export function checkBinaryLabel(loss: string, y: number): void {
  if (y !== 0 && y !== 1) {
    throw new ModelError(`label y=${y} is out of range for the ${loss} loss (expected 0 or 1)`);
  }
}
