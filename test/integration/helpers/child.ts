/** Runs helpers/consumer.ts as a child process and follows the JSON lines it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ConsumerConfig } from './consumer.js';

export interface ConsumerLine {
  type: 'started' | 'checkpoint' | 'done' | 'error';
  messages?: number;
  resumedFrom?: number;
  summary?: {
    messages: number;
    batches: number;
    offsets: Record<string, string>;
    scores: Record<string, { events: number; labeled: number }>;
  };
  state?: { params: number[]; t: number };
  message?: string;
}

export interface ConsumerChild {
  child: ChildProcess;
  lines: ConsumerLine[];
  /** Resolves with the first line (seen so far or later) matching; rejects on exit or after `timeoutMs`. */
  waitLine(match: (l: ConsumerLine) => boolean, timeoutMs: number): Promise<ConsumerLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

export function spawnConsumer(config: ConsumerConfig): ConsumerChild {
  const script = join(import.meta.dirname, 'consumer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, CONSUMER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: ConsumerLine[] = [];
  const listeners = new Set<() => void>();
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as ConsumerLine);
    } catch {
      return;
    }
    for (const l of [...listeners]) l();
  });
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      for (const l of [...listeners]) l();
      resolve({ code, signal });
    }),
  );
  const waitLine = (match: (l: ConsumerLine) => boolean, timeoutMs: number): Promise<ConsumerLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.find(match);
        if (found) return done(() => resolve(found));
        if (exitedFlag)
          done(() => reject(new Error(`consumer exited before the expected line; stderr:\n${err}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no matching consumer line in ${timeoutMs} ms; stderr:\n${err}`))),
        timeoutMs,
      );
      const done = (f: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  return { child, lines, waitLine, exited, stderr: () => err };
}
