/** Parses the --batch flag of the pipelines: `arrival`, `N` (a count) or `poisson:M` (random sizes of mean M). */
import { InvalidArgumentError } from 'commander';
import type { RebatchPolicy } from '../streams/rebatch.js';

export function batchPolicy(value: string): RebatchPolicy {
  if (value === 'arrival') return 'arrival';
  if (/^\d+$/.test(value) && Number(value) >= 1) return { count: Number(value) };
  const p = /^poisson:(\d+(?:\.\d+)?)$/.exec(value);
  if (p !== null && Number(p[1]) >= 1) return { poisson: Number(p[1]), seed: 1 };
  throw new InvalidArgumentError("expected 'arrival', a positive integer, or poisson:MEAN");
}
