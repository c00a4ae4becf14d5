/**
 * The conformance suite, run on every case of every listed normalizer descriptor (see normalizerChecks.ts).
 */
import { describe, expect, it } from 'vitest';
import { conformanceCases, normalizerDescriptors } from '../../src/normalizers/descriptors.js';
import { describeNormalizerConformance } from './normalizerChecks.js';

describeNormalizerConformance(conformanceCases());

describe('conformance cases', () => {
  it('cover every normalizer family that has a state', () => {
    const covered = new Set(conformanceCases().map((c) => c.kind));
    for (const d of normalizerDescriptors) if (d.fromState) expect(covered, d.kind).toContain(d.kind);
  });
});
