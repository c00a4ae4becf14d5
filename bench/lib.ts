/**
 * Shared helpers for benchmark suites. A suite is `bench/suites/<name>.bench.ts` exporting
 * `run(): Promise<SuiteResult>`; `npm run bench [name...]` runs them one by one and writes
 * `bench/results/<name>.json`. Nothing here is asserted: results are reported, never tested.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const nativeDir = join(benchDir, 'native');

export interface Case {
  name: string;
  /** Median time of one task call in nanoseconds. */
  medianNs: number;
  /** Work units per call (elements, events, ...), so per-unit figures can be compared. */
  units?: number;
  perUnitNs?: number;
  [extra: string]: unknown;
}

export interface SuiteResult {
  suite: string;
  date: string;
  node: string;
  cases: Case[];
  /** Ratios between cases measured in this same run (e.g. ts / c, ts / torch). */
  ratios?: Record<string, number>;
  /** What a ratio should reach (e.g. `'>= 0.9'`), shown beside it in the report. */
  targets?: Record<string, string>;
  notes?: string[];
}

/** Runs tinybench on the given tasks and returns median ns per call for each. */
export async function measure(
  tasks: Record<string, () => void | Promise<void>>,
  opts: { time?: number; warmupTime?: number } = {},
): Promise<Record<string, number>> {
  const bench = new Bench({ time: opts.time ?? 500, warmupTime: opts.warmupTime ?? 100 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result as { latency?: { p50?: number } } | undefined;
    const p50ms = r?.latency?.p50;
    if (p50ms === undefined) throw new Error(`bench task ${task.name} produced no result`);
    out[task.name] = p50ms * 1e6;
  }
  return out;
}

/** Compiles a C file from bench/native with gcc -O2 (cached by mtime) and returns the binary path. */
export function compileC(file: string, extraFlags: string[] = []): string {
  const src = resolve(nativeDir, file);
  const bin = src.replace(/\.c$/, '.bin');
  let fresh = false;
  try {
    fresh = statSync(bin).mtimeMs > statSync(src).mtimeMs;
  } catch {
    fresh = false;
  }
  if (!fresh)
    execFileSync('gcc', ['-O2', '-std=c11', '-o', bin, src, '-lm', ...extraFlags], { stdio: 'inherit' });
  return bin;
}

/** Runs a binary or script and parses its stdout as JSON. */
export function runJson(cmd: string, args: string[], timeoutMs = 600_000): unknown {
  const out = execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return JSON.parse(out);
}

/** True when Debian's python3 has torch importable. */
export function hasTorch(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 });
    return true;
  } catch {
    return false;
  }
}

export function writeResult(result: SuiteResult): string {
  const dir = join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${result.suite}.json`);
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}

export function header(suite: string): Pick<SuiteResult, 'suite' | 'date' | 'node'> {
  return { suite, date: new Date().toISOString(), node: process.version };
}

/**
 * The broker a Kafka suite talks to: KAFKA_BROKERS when set, else the project's own, started with
 * deploy/kafka/start.sh (which reuses a broker it started earlier). `stop()` stops it only when this call
 * started it.
 */
export function benchBroker(): { brokers: string; stop(): void } {
  const given = process.env.KAFKA_BROKERS;
  if (given) return { brokers: given, stop: () => undefined };
  const root = join(benchDir, '..');
  const pidFile = join(
    process.env.KAFKA_DATA_DIR ?? join(root, '.kafka', process.env.KAFKA_PORT ?? '9092'),
    'broker.pid',
  );
  const running = existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')));
  const out = execFileSync('bash', [join(root, 'deploy', 'kafka', 'start.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return {
    brokers: out.trim().split('\n').pop()!,
    stop: () => {
      if (!running) execFileSync('bash', [join(root, 'deploy', 'kafka', 'stop.sh')], { stdio: 'inherit' });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
