/**
 * streamnorm/testing: the conformance checks as plain functions (node:assert, no test framework), with the
 * cases the package runs them on, so a third party can check its own model the way the package checks its own.
 */
export { modelChecks, runModelChecks, type ModelCheck } from './modelChecks.js';
export type { ModelConformanceCase } from '../models/modelFamily.js';
export { modelConformanceCases } from '../models/modelFamilies.js';
export { sampleDense, sampleSparse, sampleWindow } from '../models/sampleInputs.js';
