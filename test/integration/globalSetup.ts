/**
 * Integration global setup: use the broker named by KAFKA_BROKERS, or start the project's own
 * (deploy/kafka/start.sh, idempotent) and stop it afterwards if this run started it. Tests read the
 * brokers from `inject('kafkaBrokers')` or process.env.KAFKA_BROKERS. Under CI=true a broker that does
 * not start fails the run; elsewhere too, since nothing here is optional.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

const root = join(import.meta.dirname, '..', '..');
const script = (name: string): string => join(root, 'deploy', 'kafka', name);

export default function setup(project: TestProject): () => void {
  const given = process.env.KAFKA_BROKERS;
  if (given && given.trim() !== '') {
    project.provide('kafkaBrokers', given);
    return () => undefined;
  }
  const port = process.env.KAFKA_PORT ?? '9092';
  const pidFile = join(process.env.KAFKA_DATA_DIR ?? join(root, '.kafka', port), 'broker.pid');
  const wasRunning = existsSync(pidFile) && isAlive(Number(readFileSync(pidFile, 'utf8')));
  let out: string;
  try {
    out = execFileSync('bash', [script('start.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 300_000,
    });
  } catch (error) {
    throw new Error(
      `could not start the Kafka broker with deploy/kafka/start.sh (CI=${process.env.CI ?? ''})`,
      { cause: error },
    );
  }
  const brokers = out.trim().split('\n').pop()!.trim();
  process.env.KAFKA_BROKERS = brokers;
  project.provide('kafkaBrokers', brokers);
  return () => {
    if (!wasRunning) execFileSync('bash', [script('stop.sh')], { stdio: 'inherit', timeout: 120_000 });
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
