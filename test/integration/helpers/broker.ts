/** A dedicated broker for tests that stop and restart it, so the shared one is never disturbed. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const scripts = join(import.meta.dirname, '..', '..', '..', 'deploy', 'kafka');

export interface DedicatedBroker {
  brokers: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the broker and deletes its data directory. */
  destroy(): Promise<void>;
}

export async function startDedicatedBroker(port: number): Promise<DedicatedBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), `sn-kafka-${port}-`));
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_DATA_DIR: dataDir };
  const start = async (): Promise<void> => {
    await run('bash', [join(scripts, 'start.sh')], { env, timeout: 180_000 });
  };
  const stop = async (): Promise<void> => {
    await run('bash', [join(scripts, 'stop.sh')], { env, timeout: 120_000 });
  };
  await start();
  return {
    brokers: `127.0.0.1:${port}`,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
