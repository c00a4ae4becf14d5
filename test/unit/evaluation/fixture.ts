import { readFileSync } from 'node:fs';

/** Reference values from scikit-learn and SciPy (test/fixtures/evaluation/generate_evaluation.py). */
export interface EvaluationFixture {
  averagePrecision: { scores: number[]; labels: number[]; ap: number }[];
  logLoss: { proba: number[][]; labels: number[]; logLoss: number }[];
  balancedError: { labels: number[]; predicted: number[]; classes: number; balancedError: number }[];
  kl: { p: number[]; q: number[]; kl: number }[];
  tQuantile: { p: number; df: number; t: number }[];
  tHalfWidth: { xs: number[]; halfWidth: number }[];
}

export const fx = JSON.parse(
  readFileSync(new URL('../../fixtures/evaluation/evaluation.json', import.meta.url), 'utf8'),
) as EvaluationFixture;
