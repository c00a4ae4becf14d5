import { LOG_LOSS_EPS } from './logLoss.js';
import { meanOver } from './meanOver.js';

/**
 * Total variation distance ½·Σ_k |a_k − b_k| between two class distributions: for two classes, the absolute
 * difference of the probabilities of class 1.
 */
export function totalVariation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let tv = 0;
  for (let k = 0; k < a.length; k++) tv += Math.abs(b[k] - a[k]);
  return tv / 2;
}

/**
 * KL(p ‖ q) = Σ_k p_k·log(p_k / q_k) in nats, with q clipped at LOG_LOSS_EPS (the log-loss convention) so an
 * inference-mode probability of 0 costs a large finite amount, and terms with p_k = 0 contributing 0.
 */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let kl = 0;
  for (let k = 0; k < p.length; k++) {
    if (p[k] > 0) kl += p[k] * Math.log(p[k] / Math.max(LOG_LOSS_EPS, q[k]));
  }
  return kl;
}

/**
 * The train-versus-inference gap of a batch: the mean over events of the total variation between the class
 * probabilities predicted with the normalizer in training mode and in inference mode (dropout off in both),
 * 0 for a per-sample normalizer by construction. NaN for an empty batch.
 */
export function trainInferenceGap(
  training: readonly ArrayLike<number>[],
  inference: readonly ArrayLike<number>[],
): number {
  return meanOver('trainInferenceGap', training, inference, totalVariation);
}

/** The KL variant of the gap: the mean of KL(p_train ‖ p_inference) over events (nats; NaN when empty). */
export function trainInferenceKl(
  training: readonly ArrayLike<number>[],
  inference: readonly ArrayLike<number>[],
): number {
  return meanOver('trainInferenceKl', training, inference, klDivergence);
}
