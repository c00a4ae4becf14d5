/**
 * Spawns the `streamnorm` command as a user would, from the sources through tsx's loader (`node --import tsx
 * src/cli/index.ts ...`): no build step that another part of the tree could break, and the same code the
 * bin runs after `npm run build` (cli-bin.test.ts checks the built bin itself).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');
export const cliEntry = join(root, 'src', 'cli', 'index.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without the Kafka and streamnorm settings the test runner itself has (globalSetup sets KAFKA_BROKERS). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('STREAMNORM_') && k !== 'KAFKA_BROKERS') env[k] = v;
  return { ...env, ...extra };
}

export function runCli(
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    /** Run the built bin (dist/cli/index.js) instead of the sources. */
    built?: boolean;
    timeoutMs?: number;
    cwd?: string;
    onStdout?: (chunk: string) => void;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const entry = opts.built ? [join(root, 'dist', 'cli', 'index.js')] : ['--import', 'tsx', cliEntry];
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: opts.cwd ?? root,
      env: opts.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      opts.onStdout?.(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `streamnorm ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 120_000} ms\nstderr: ${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Lines of stderr that are not pino JSON log records. */
export function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
