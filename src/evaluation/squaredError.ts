/** (y − ŷ)²: the prequential loss of a regressor (the live metrics and early stopping). */
export function squaredError(y: number, yhat: number): number {
  const d = y - yhat;
  return d * d;
}
