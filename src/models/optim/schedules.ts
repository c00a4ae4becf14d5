/** A learning-rate schedule: the rate of step t (1-based). */
export interface Schedule {
  lr(t: number): number;
}

/** η_t = lr. */
export function constantSchedule(lr: number): Schedule {
  return { lr: () => lr };
}

/** η_t = lr / t^powerT (scikit-learn's 'invscaling'); powerT = 0.5 gives the classic 1/√t. */
export function invScalingSchedule(lr: number, powerT: number): Schedule {
  return { lr: (t) => lr / Math.pow(t, powerT) };
}

/**
 * scikit-learn's 'optimal' schedule η_t = 1 / (alpha·(t0 + t − 1)) (Bottou's SGD heuristic), with
 * alpha the regularization strength and t0 from sklearn's heuristic: typw = √(1/√alpha),
 * η0 = typw / max(1, |loss'(−typw, y=1)|), t0 = 1/(η0·alpha).
 */
export function optimalSchedule(alpha: number, lossSlopeAtTypw: number): Schedule {
  const typw = Math.sqrt(1 / Math.sqrt(alpha));
  const eta0 = typw / Math.max(1, Math.abs(lossSlopeAtTypw));
  const t0 = 1 / (eta0 * alpha);
  return { lr: (t) => 1 / (alpha * (t0 + t - 1)) };
}

/** The typical weight magnitude sklearn's 'optimal' heuristic evaluates the loss slope at. */
export function optimalTypw(alpha: number): number {
  return Math.sqrt(1 / Math.sqrt(alpha));
}
