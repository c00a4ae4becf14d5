/**
 * `streamnorm run` processes for the scale-out tests on the real broker: spawned from the sources as a user
 * would start them, their stderr kept (the last 20 kB) for failure messages, plus the audit-log reader and a
 * bounded poll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cleanEnv, cliEntry, root } from '../../e2e/cliHelpers.js';
import { brokers } from './kafka.js';

export interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `streamnorm run --brokers <test broker> --metrics-port 0 --log-level warn ...args`. */
export function startRun(args: string[]): Proc {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cliEntry,
      'run',
      '--brokers',
      brokers(),
      '--metrics-port',
      '0',
      '--log-level',
      'warn',
      ...args,
    ],
    {
      cwd: root,
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => err, exited };
}

/** Polls `check` once a second, at most `tries` times. */
export async function until(what: string, tries: number, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The event ids in a `run --learned-ids` audit log: those its durable checkpoints covered, in order. */
export function learnedIds(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => (JSON.parse(l) as { ids: string[] }).ids);
}

/** Kills with SIGKILL every process that has not exited (a test's cleanup). */
export function killAll(procs: Proc[]): void {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}
