import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/core/rng.js';
import { LinearModel } from '../../../../src/models/linear/index.js';
import { digests, optimizers } from './digestScenarios.js';

/**
 * Every observable result of `LinearModel` over the scenarios in `digestScenarios.ts`, hashed per
 * optimizer, equals what the code before the weight-store split (4ba3a52, one class with branches on the
 * weight representation) produced: generated there with
 * `npx tsx test/unit/models/linear/digestScenarios.ts <worktree of 4ba3a52>`.
 * A mismatch means results changed somewhere for that optimizer (not necessarily in the stores). One
 * deliberate change since: Adam (see its entry).
 */
const expected = [
  '554f86c8807bba88ae0d2f6f8049d208c78ab6f573850797b6caf927854021b9',
  'cf1d7cecf527f94a0c84747019712734857517cf25dc056f41db5b93fd09205e',
  '40ce63afe519184c535ef8b066d6c2b9b2dbaada3d885da42281ee94b3f4123e',
  'd74a3df31b69d20392fd4c76945b7c4958952a3b4bf5b38aab77ff8ce4ae7908',
  // Adam: since the optimizer stack became one (nets and LinearModel), the one Adam is PyTorch's (eps added
  // after bias correction); LinearModel's weights moved by ~4e-11 relative. Digest of that formula.
  '123f1721c0d211907229ad0af6320d1d7ca38687e9493d1dbe4785a73b2cf41d',
  'e6b2e9f0c59a33411e6e10e56bdd9075c9ea7fcea992f8ff74b6a253543974da',
];

describe('LinearModel results are those of 4ba3a52, bit for bit', () => {
  const got = digests(LinearModel as never, Rng);
  it.each(optimizers.map((o, i) => [o, i] as const))('%o', (_o, i) => {
    expect(got[i]).toBe(expected[i]);
  });
});
