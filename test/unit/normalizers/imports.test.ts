/**
 * The normalizers stand alone: every module reachable from src/normalizers/index.ts (followed through
 * its static imports and re-exports) stays out of src/streams, src/metrics and src/cli and imports no
 * package at all (so neither kafkajs, prom-client nor pino), and the barrel exports no internal kernel or
 * validation helper.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as barrel from '../../../src/normalizers/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Static import and export-from specifiers of a TypeScript file (type-only ones included). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*'([^']+)'/g)].map((m) => m[1]);
}

function reachable(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  }
  return { files: [...files].map((f) => relative(root, f)).sort(), packages: [...packages].sort() };
}

describe('src/normalizers', () => {
  const { files, packages } = reachable(resolve(root, 'src/normalizers/index.ts'));

  it('reaches only normalizer, core and error modules', () => {
    expect(files).toContain('src/normalizers/batchNorm.ts');
    expect(files).toContain('src/errors.ts');
    for (const f of files) expect(f).toMatch(/^src\/(normalizers\/|core\/|errors\.ts$)/);
  });

  it('imports no package (so no kafkajs, prom-client or pino)', () => {
    expect(packages).toEqual([]);
  });

  it('exports the public names and none of the internal kernels or validation helpers', () => {
    for (const name of [
      'BatchNorm',
      'LayerNorm',
      'InstanceNorm',
      'GroupNorm',
      'BatchRenorm',
      'OnlineNorm',
      'StandardScaler',
      'MinMaxScaler',
      'NormalizationError',
      'normalizerDescriptors',
      'parseNormalizerSpec',
      'createNormalizer',
      'normalizerFromState',
      'normalizerSpecs',
    ]) {
      expect(barrel, name).toHaveProperty(name);
    }
    for (const name of [
      'rowsForward',
      'rowsBackward',
      'channelMoments',
      'normalizeChannels',
      'sumRange',
      'shiftedSums',
      'readDims',
      'ensure',
      'checkBool',
      'assertFinite',
      'outputBuffer',
      'Affine',
      'StateCodec',
    ]) {
      expect(barrel, name).not.toHaveProperty(name);
    }
  });
});
