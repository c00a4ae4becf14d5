/**
 * The built bin, exactly as `npm install -g` / `npx streamnorm` / `npm start` run it: `node dist/cli/index.js`.
 * Builds dist first (tsc emits even when an unrelated file has a type error, so the bin is checked on its own).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, runCli, type CliResult } from './cliHelpers.js';

const bin = join(root, 'dist', 'cli', 'index.js');
let dir: string;

const runBin = (args: string[]): Promise<CliResult> => runCli(args, { built: true, timeoutMs: 170_000 });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'streamnorm-bin-'));
  const started = Date.now();
  try {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: root, stdio: 'pipe' },
    );
  } catch {
    // type errors elsewhere in the tree do not stop tsc from emitting; the checks below decide
  }
  if (!existsSync(bin) || statSync(bin).mtimeMs < started - 1000)
    throw new Error('tsc did not emit dist/cli/index.js');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dist/cli/index.js (the streamnorm bin)', () => {
  it('is what package.json#bin points at and starts with a node shebang', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(join(root, pkg.bin.streamnorm)).toBe(bin);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints help and fails bad input with one line and exit 2', async () => {
    const help = await runBin(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: streamnorm [options] [command]');
    const bad = await runBin(['compare', '--speeed', 'max']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^streamnorm: unknown option '--speeed'/),
    ]);
  });

  it('runs compare with worker threads from dist', async () => {
    const out = join(dir, 'cmp');
    const r = await runBin([
      'compare',
      '--dataset',
      'sensor',
      '--max-events',
      '300',
      '--variants',
      'batch,layer',
      '--batch-sizes',
      '1,8',
      '--seeds',
      '2',
      '--jobs',
      '2',
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      rows: { events: number }[];
      meta: { jobs: number };
    };
    expect(json.meta.jobs).toBe(2);
    expect(json.rows).toHaveLength(4);
    expect(json.rows.every((x) => x.events === 300)).toBe(true);
  });

  it('runs the main job (npm start) on the bundled synthetic stream', async () => {
    const r = await runBin([
      'main',
      '--metrics-port',
      '0',
      '--events',
      '200',
      '--seeds',
      '2',
      '--variants',
      'batch,layer,group:4,none',
      '--batch-sizes',
      '4',
      '--out',
      join(dir, 'main'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('through the live pipeline');
    expect(
      r.stdout.split('\n').filter((l) => /^(iid|bursty:8)\s+(batch|layer|group:4|none)\s+4\s/.test(l)),
    ).toHaveLength(8);
    expect(r.stdout).toContain('Reading');
  });
});
