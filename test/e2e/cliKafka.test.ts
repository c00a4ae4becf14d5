/**
 * produce → record → replay → run against the real broker (started by the integration globalSetup), through
 * the `streamnorm` command as a user would run it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseCheckpoint } from '../../src/streams/checkpointStore.js';
import { cleanEnv, freePort, runCli } from './cliHelpers.js';

interface Line {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  value: { id: string; ts: number; x: number[][]; y: number; key?: string } & Record<string, unknown>;
}

const readLines = (path: string): Line[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);

describe('streamnorm against a real Kafka broker', () => {
  const brokers = inject('kafkaBrokers');
  const tag = `${process.pid}-${Date.now()}`;
  const topic = `e2e-cli-in-${tag}`;
  const copy = `e2e-cli-copy-${tag}`;
  const predictions = `e2e-cli-pred-${tag}`;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamnorm-cli-kafka-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('produce writes dataset events, record reads them back in order', async () => {
    const p = await runCli([
      'produce',
      '--dataset',
      'sensor',
      '--max-events',
      '200',
      '--topic',
      topic,
      '--brokers',
      brokers,
      '--rate',
      '2000',
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`produced 200 sensor events to ${topic}`);
    const out = join(dir, 'in.jsonl');
    const r = await runCli(
      ['record', '--topic', topic, '--out', out, '--max-events', '200', '--idle-ms', '15000'],
      { env: cleanEnv({ KAFKA_BROKERS: brokers }) },
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = readLines(out);
    expect(lines).toHaveLength(200);
    expect(lines.map((l) => l.offset)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    expect(lines[0].topic).toBe(topic);
    expect(lines[0].value.id).toBe('sensor-m1-r16');
    expect(lines[0].key).toBe('mote-1');
    expect(
      lines.every(
        (l) => Array.isArray(l.value.x) && l.value.x.length === 2 && (l.value.y === 0 || l.value.y === 1),
      ),
    ).toBe(true);
  });

  it('replay --to-topic republishes a recording with keys and order kept', async () => {
    const src = join(dir, 'in.jsonl');
    const r = await runCli(['replay', '--recording', src, '--to-topic', copy, '--brokers', brokers]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`replayed 200 messages`);
    const out = join(dir, 'copy.jsonl');
    const rec = await runCli([
      'record',
      '--topic',
      copy,
      '--brokers',
      brokers,
      '--out',
      out,
      '--max-events',
      '200',
      '--idle-ms',
      '15000',
    ]);
    expect(rec.code, rec.stderr).toBe(0);
    const a = readLines(src);
    const b = readLines(out);
    expect(b.map((l) => l.value)).toEqual(a.map((l) => l.value));
    expect(b.map((l) => l.key)).toEqual(a.map((l) => l.key));
  });

  it('run learns the topic with two variants, publishes predictions keyed by event id and checkpoints', async () => {
    const port = await freePort();
    const ck = join(dir, 'ck');
    const r = await runCli(
      [
        'run',
        '--topic',
        topic,
        '--group',
        `e2e-cli-${tag}`,
        '--output-topic',
        predictions,
        '--variants',
        'bn=batch,ln=layer',
        '--batch',
        '20',
        '--max-events',
        '200',
        '--metrics-port',
        String(port),
        '--checkpoint-dir',
        ck,
      ],
      { env: cleanEnv({ KAFKA_BROKERS: brokers }), timeoutMs: 170_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^bn\s+200\s/m);
    expect(r.stdout).toMatch(/^ln\s+200\s/m);
    const out = join(dir, 'pred.jsonl');
    const rec = await runCli([
      'record',
      '--topic',
      predictions,
      '--brokers',
      brokers,
      '--out',
      out,
      '--max-events',
      '200',
      '--idle-ms',
      '15000',
    ]);
    expect(rec.code, rec.stderr).toBe(0);
    const lines = readLines(out);
    expect(lines.length).toBe(200);
    const ids = new Set(readLines(join(dir, 'in.jsonl')).map((l) => l.value.id));
    for (const l of lines) {
      expect(ids.has(l.key as string)).toBe(true);
      const preds = (l.value as unknown as { predictions: Record<string, { predicted: number }> })
        .predictions;
      expect(Object.keys(preds).sort()).toEqual(['bn', 'ln']);
    }
    // A second start resumes from the checkpoint: only the 50 new messages are learned, the totals continue.
    const more = await runCli([
      'produce',
      '--dataset',
      'sensor',
      '--max-events',
      '50',
      '--topic',
      topic,
      '--brokers',
      brokers,
    ]);
    expect(more.code, more.stderr).toBe(0);
    const again = await runCli(
      [
        'run',
        '--topic',
        topic,
        '--group',
        `e2e-cli-${tag}`,
        '--variants',
        'bn=batch,ln=layer',
        '--batch',
        '10',
        '--max-events',
        '50',
        '--metrics-port',
        '0',
        '--checkpoint-dir',
        ck,
      ],
      { env: cleanEnv({ KAFKA_BROKERS: brokers }), timeoutMs: 170_000 },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('250 messages learned in total');
    expect(again.stdout).toMatch(/^bn\s+250\s/m);
  });

  it('run without variants picks the default model from the first event (a LayerNorm WindowNet for windows)', async () => {
    const r = await runCli(
      [
        'run',
        '--topic',
        topic,
        '--group',
        `e2e-cli-default-${tag}`,
        '--max-events',
        '200',
        '--batch',
        '25',
        '--metrics-port',
        '0',
        '--checkpoint-dir',
        join(dir, 'ck-default'),
      ],
      { env: cleanEnv({ KAFKA_BROKERS: brokers }), timeoutMs: 170_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    // at least the 200 asked for; the batch in hand when it stops is learned too (the topic holds 250)
    const learned = Number(/^default\s+(\d+)\s/m.exec(r.stdout)?.[1]);
    expect(learned).toBeGreaterThanOrEqual(200);
    expect(learned).toBeLessThanOrEqual(250);
    const ck = parseCheckpoint(readFileSync(join(dir, 'ck-default', 'checkpoint.json')));
    expect(Object.keys(ck.models)).toEqual(['default']);
    // The default learns robustly: a RobustModel (scaler, clip, step guard) around the LayerNorm WindowNet.
    const robust = ck.models.default as unknown as {
      kind: string;
      clip: number;
      inner: { kind: string; options: { normalizer: string } };
    };
    expect(robust.kind).toBe('RobustModel');
    expect(robust.clip).toBe(5);
    expect(robust.inner.kind).toBe('WindowNet');
    expect(robust.inner.options.normalizer).toBe('layer');
  });

  it('produce sends the hashed spam stream (events of up to tens of KB) in requests the broker accepts', async () => {
    const spam = `e2e-cli-spam-${tag}`;
    const p = await runCli([
      'produce',
      '--dataset',
      'spam',
      '--max-events',
      '600',
      '--topic',
      spam,
      '--brokers',
      brokers,
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`produced 600 spam events to ${spam}`);
    const out = join(dir, 'spam.jsonl');
    const r = await runCli([
      'record',
      '--topic',
      spam,
      '--brokers',
      brokers,
      '--out',
      out,
      '--max-events',
      '600',
      '--idle-ms',
      '15000',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readLines(out);
    expect(lines).toHaveLength(600);
    const first = lines[0].value as unknown as { x: { indices: number[]; values: number[] }; y: number };
    expect(first.x.indices.length).toBe(first.x.values.length);
    expect(new Set(lines.map((l) => l.value.y))).toEqual(new Set([0, 1]));
  });
});
