import { describe, it } from 'vitest';
import { modelConformanceCases } from '../../src/models/modelFamilies.js';
import { modelChecks } from '../../src/testing/modelChecks.js';

/** Every family's conformance cases (their descriptors carry them) through every shared check. */
describe.each(modelConformanceCases.map((c) => [c.name, c] as const))('model conformance: %s', (_name, c) => {
  it.each(modelChecks.map((check) => [check.name, check] as const))('%s', (_check, check) => check.run(c));
});
