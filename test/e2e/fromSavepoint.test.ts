/**
 * `run --from-savepoint` and `--checkpoint-keep` on the real broker, as a user runs them: a savepoint taken
 * after 100 events, 50 more learned, then a run from the savepoint learns those 50 again into the very same
 * model (bit for bit); a savepoint of another topic or of other variants is refused with exit 6 and one line.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseCheckpoint, type Checkpoint } from '../../src/streams/checkpointStore.js';
import { cleanEnv, plainLines, runCli } from './cliHelpers.js';

describe('run --from-savepoint', () => {
  const brokers = inject('kafkaBrokers');
  const tag = `${process.pid}-${Date.now()}`;
  const topic = `from-savepoint-${tag}`;
  const other = `from-savepoint-other-${tag}`;
  let dir: string;
  let ck: string;

  const latest = (): Checkpoint => parseCheckpoint(readFileSync(join(ck, 'checkpoint.json')));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamnorm-from-savepoint-'));
    ck = join(dir, 'ck');
    let s = 11;
    const rnd = (): number => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
    const events = Array.from({ length: 150 }, (_, i) => {
      const x = [rnd() * 4 - 2, rnd() * 4 - 2];
      return JSON.stringify({ id: `ev${i}`, ts: 1_700_000_000_000 + i, x, y: x[0] + x[1] > 0 ? 1 : 0 });
    });
    writeFileSync(join(dir, 'first.jsonl'), events.slice(0, 100).join('\n') + '\n');
    writeFileSync(join(dir, 'second.jsonl'), events.slice(100).join('\n') + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const produce = (file: string, to = topic) =>
    runCli(['produce', '--input', join(dir, file), '--topic', to, '--brokers', brokers, '--quiet']);

  const run = (maxEvents: number, ...extra: string[]) =>
    runCli(
      [
        'run',
        '--topic',
        topic,
        '--group',
        `from-savepoint-${tag}`,
        '--variants',
        'lin=linear',
        '--batch',
        '10',
        '--max-wait-ms',
        '0',
        '--max-events',
        String(maxEvents),
        '--metrics-port',
        '0',
        '--checkpoint-dir',
        ck,
        '--checkpoint-keep',
        '3',
        '--checkpoint-interval-ms',
        '200',
        '--log-level',
        'warn',
        ...extra,
      ],
      { env: cleanEnv({ KAFKA_BROKERS: brokers }), timeoutMs: 170_000 },
    );

  it('starts from the savepoint: the same events learned again give the same model, offsets and count', async () => {
    expect((await produce('first.jsonl')).code).toBe(0);
    const r1 = await run(100);
    expect(r1.code, r1.stderr).toBe(0);
    expect(latest().messages).toBe(100);
    const s = await runCli(['savepoint', '--checkpoint-dir', ck, '--name', 'at100']);
    expect(s.code, s.stderr).toBe(0);

    expect((await produce('second.jsonl')).code).toBe(0);
    const r2 = await run(50);
    expect(r2.code, r2.stderr).toBe(0);
    const after150 = latest();
    expect(after150.messages).toBe(150);
    expect(after150.offsets[`${topic}:0`]).toBe('150');

    const r3 = await run(50, '--from-savepoint', 'at100');
    expect(r3.code, r3.stderr).toBe(0);
    expect(r3.stdout).toMatch(/^150 messages learned in total/m);
    const again = latest();
    expect(again.sequence).toBeGreaterThan(after150.sequence);
    expect(again.messages).toBe(150);
    expect(again.offsets).toEqual(after150.offsets);
    expect(JSON.stringify(again.models)).toBe(JSON.stringify(after150.models));

    // --checkpoint-keep 3: the three newest checkpoints, the newest among them
    const history = readdirSync(join(ck, 'history')).sort();
    expect(history).toHaveLength(3);
    expect(parseCheckpoint(readFileSync(join(ck, 'history', history[2]))).sequence).toBe(again.sequence);
  });

  it('refuses, exit 6 and one line, a savepoint of another topic', async () => {
    expect((await produce('first.jsonl', other)).code).toBe(0);
    const r = await runCli(
      [
        'run',
        '--topic',
        other,
        '--group',
        `from-savepoint-other-${tag}`,
        '--metrics-port',
        '0',
        '--checkpoint-dir',
        ck,
        '--from-savepoint',
        join(ck, 'savepoints', 'at100.json'),
        '--log-level',
        'warn',
      ],
      { env: cleanEnv({ KAFKA_BROKERS: brokers }), timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(6);
    const lines = plainLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/at100\.json is refused: it was written for topic "from-savepoint-\d+-\d+"/);
    expect(lines[0]).toMatch(/streamnorm savepoint --list/);
  });

  it('refuses, exit 6 and one line, a savepoint of other variants (another model shape)', async () => {
    const r = await run(10, '--from-savepoint', 'at100', '--variants', 'lin=mlp:layer');
    expect(r.code, r.stderr).toBe(6);
    const lines = plainLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/refused: variant "lin" was .*linear.*this run asks for .*mlp/);
  });

  it('a savepoint that does not exist is a usage error naming the ones there are', async () => {
    const r = await run(10, '--from-savepoint', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no savepoint 'nope' .*savepoints: at100/);
  });
});
