import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Where the Prometheus binaries are (Debian's `prometheus` package). Missing binaries skip the tests
 * that need them locally, but under CI=true they are a failure: the tests must never pass vacuously.
 */
export const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
export const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';

/**
 * Whether this is a CI run: CI set to anything but empty, 'false' or '0' (CI services set 'true', '1' or their
 * own name). .ci/run applies the same rule.
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== 'false' && v !== '0';
}

export function haveTool(path: string): boolean {
  if (existsSync(path)) return true;
  if (isCI()) {
    throw new Error(`${path} is required under CI=true (apt-get install prometheus)`);
  }
  return false;
}

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run promtool with arguments (and optional stdin), bounded by a timeout. */
export function promtool(args: string[], input?: string): ToolResult {
  const r = spawnSync(PROMTOOL, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
