/**
 * Getting the model out, as a user would, on the real broker: `run` learns a topic and checkpoints,
 * `export` writes the checkpoint's models as a model file, and `predict` on that file gives, bit for bit, the
 * predictions the live consumer published for the next events (all predicted by the checkpointed models: they
 * arrive as one batch, predicted before any is learned). Savepoints: named copies that `export` reads.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, freePort, root, runCli } from './cliHelpers.js';
import { spawn } from 'node:child_process';
import { cliEntry } from './cliHelpers.js';

interface Prediction {
  id: string;
  predictions: Record<string, { predicted: number; proba?: number[] }>;
}

describe('export, then predict', () => {
  const brokers = inject('kafkaBrokers');
  const tag = `${process.pid}-${Date.now()}`;
  const topic = `model-out-in-${tag}`;
  const out1 = `model-out-pred1-${tag}`;
  const out2 = `model-out-pred2-${tag}`;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamnorm-model-out-'));
    let s = 7;
    const rnd = (): number => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
    const events = Array.from({ length: 200 }, (_, i) => {
      const x = [rnd() * 4 - 2, rnd() * 4 - 2, rnd()];
      return JSON.stringify({ id: `ev${i}`, ts: 1_700_000_000_000 + i, x, y: x[0] - x[1] > 0 ? 1 : 0 });
    });
    writeFileSync(join(dir, 'first.jsonl'), events.slice(0, 150).join('\n') + '\n');
    writeFileSync(join(dir, 'second.jsonl'), events.slice(150).join('\n') + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (output: string, batch: number, maxEvents: number) =>
    runCli(
      [
        'run',
        '--topic',
        topic,
        '--group',
        `model-out-${tag}`,
        '--output-topic',
        output,
        '--variants',
        'lin=linear,net=mlp:layer',
        '--batch',
        String(batch),
        '--max-wait-ms',
        '0',
        '--max-events',
        String(maxEvents),
        '--metrics-port',
        '0',
        '--checkpoint-dir',
        join(dir, 'ck'),
        '--log-level',
        'warn',
      ],
      { env: cleanEnv({ KAFKA_BROKERS: brokers }), timeoutMs: 170_000 },
    );

  it('predict on the exported model equals the live predictions bit for bit', async () => {
    const p1 = await runCli([
      'produce',
      '--input',
      join(dir, 'first.jsonl'),
      '--topic',
      topic,
      '--brokers',
      brokers,
      '--quiet',
    ]);
    expect(p1.code, p1.stderr).toBe(0);
    const r1 = await run(out1, 10, 150);
    expect(r1.code, r1.stderr).toBe(0);

    const model = join(dir, 'model.json');
    const e = await runCli(['export', '--checkpoint-dir', join(dir, 'ck'), '--out', model]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^exported lin, net \(checkpoint \d+\) to /);
    const file = JSON.parse(readFileSync(model, 'utf8')) as {
      format: string;
      version: number;
      variants: object;
    };
    expect([file.format, file.version, Object.keys(file.variants)]).toEqual([
      'streamnorm-model',
      1,
      ['lin', 'net'],
    ]);

    // the next 50 events: one batch, all predicted by the checkpointed models before any is learned
    const p2 = await runCli([
      'produce',
      '--input',
      join(dir, 'second.jsonl'),
      '--topic',
      topic,
      '--brokers',
      brokers,
      '--quiet',
    ]);
    expect(p2.code, p2.stderr).toBe(0);
    const r2 = await run(out2, 50, 50);
    expect(r2.code, r2.stderr).toBe(0);
    const rec = join(dir, 'live.jsonl');
    const r = await runCli([
      'record',
      '--topic',
      out2,
      '--brokers',
      brokers,
      '--out',
      rec,
      '--max-events',
      '50',
      '--idle-ms',
      '15000',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const live = new Map(
      readFileSync(rec, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { value: Prediction }).value)
        .map((v) => [v.id, v.predictions] as const),
    );
    expect(live.size).toBe(50);

    const pr = await runCli(['predict', '--model', model, '--input', join(dir, 'second.jsonl')]);
    expect(pr.code, pr.stderr).toBe(0);
    const offline = pr.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Prediction & { line: number });
    expect(offline.map((o) => o.line)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const o of offline) expect(o.predictions, o.id).toEqual(live.get(o.id));
    // bit for bit, not merely close: the very same JSON numbers
    expect(JSON.stringify(offline.map((o) => o.predictions))).toBe(
      JSON.stringify(offline.map((o) => live.get(o.id))),
    );
  });

  it('predict reads standard input, and CSV, with the same results', async () => {
    const model = join(dir, 'model.json');
    const fromFile = await runCli(['predict', '--model', model, '--input', join(dir, 'second.jsonl')]);
    const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'predict', '--model', model], {
      cwd: root,
      env: cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.stdin.end(readFileSync(join(dir, 'second.jsonl')));
    });
    expect(code).toBe(0);
    expect(stdout).toBe(fromFile.stdout);
    // the same events as CSV: id, three features, label
    const csv = join(dir, 'second.csv');
    const lines = readFileSync(join(dir, 'second.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(
      csv,
      'id,a,b,c,y\n' +
        lines
          .map((l) => JSON.parse(l) as { id: string; x: number[]; y: number })
          .map((e) => [e.id, ...e.x, e.y].join(','))
          .join('\n') +
        '\n',
    );
    const fromCsv = await runCli(['predict', '--model', model, '--input', csv]);
    expect(fromCsv.code, fromCsv.stderr).toBe(0);
    const strip = (s: string) =>
      s
        .trim()
        .split('\n')
        .map((l) => {
          const { line: _l, ts: _t, ...rest } = JSON.parse(l) as Record<string, unknown>;
          return rest;
        });
    expect(strip(fromCsv.stdout)).toEqual(strip(fromFile.stdout));
  });

  it('a named savepoint is kept, listed and exported', async () => {
    const ck = join(dir, 'ck');
    const s = await runCli(['savepoint', '--checkpoint-dir', ck, '--name', 'before-upgrade']);
    expect(s.code, s.stderr).toBe(0);
    const again = await runCli(['savepoint', '--checkpoint-dir', ck, '--name', 'before-upgrade']);
    expect(again.code).toBe(2);
    const l = await runCli(['savepoint', '--checkpoint-dir', ck, '--list']);
    expect(l.stdout).toMatch(/^before-upgrade\tcheckpoint \d+\t/m);
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    expect((await runCli(['export', '--checkpoint-dir', ck, '--out', a])).code).toBe(0);
    expect(
      (await runCli(['export', '--checkpoint-dir', ck, '--savepoint', 'before-upgrade', '--out', b])).code,
    ).toBe(0);
    const variants = (p: string) => (JSON.parse(readFileSync(p, 'utf8')) as { variants: unknown }).variants;
    expect(variants(b)).toEqual(variants(a));
    const missing = await runCli(['export', '--checkpoint-dir', ck, '--savepoint', 'nope', '--out', b]);
    expect(missing.code).toBe(6);
    expect(missing.stderr).toMatch(/no savepoint 'nope'/);
  });

  it('predict --serve-port answers POST /predict with the same predictions', async () => {
    const model = join(dir, 'model.json');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cliEntry, 'predict', '--model', model, '--serve-port', String(port)],
      { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      let up = false;
      for (let i = 0; i < 200 && !up; i++) {
        await new Promise((r) => setTimeout(r, 100));
        up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      }
      expect(up).toBe(true);
      const lines = readFileSync(join(dir, 'second.jsonl'), 'utf8').trim().split('\n');
      const res = await fetch(`http://127.0.0.1:${port}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `[${lines.join(',')}]`,
      });
      expect(res.status).toBe(200);
      const served = ((await res.json()) as { predictions: Prediction[] }).predictions;
      const fromFile = await runCli(['predict', '--model', model, '--input', join(dir, 'second.jsonl')]);
      const offline = fromFile.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Prediction);
      expect(JSON.stringify(served)).toBe(
        JSON.stringify(offline.map((o) => ({ id: o.id, predictions: o.predictions }))),
      );
      const one = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', body: lines[0] });
      expect(((await one.json()) as { predictions: Prediction[] }).predictions).toEqual([served[0]]);
      const bad = await fetch(`http://127.0.0.1:${port}/predict`, {
        method: 'POST',
        body: JSON.stringify([JSON.parse(lines[0]), { id: 'b', ts: 1, x: [1, 'a', 2] }]),
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { rejected: { index: number; reason: string }[] }).rejected).toEqual([
        expect.objectContaining({ index: 1, reason: 'bad_shape' }),
      ]);
      expect((await fetch(`http://127.0.0.1:${port}/predict`)).status).toBe(405);
    } finally {
      child.kill('SIGTERM');
      expect(await closed).toBe(0);
    }
  });

  it('POST /predict takes the metrics server auth: 401 without credentials, 200 with them', async () => {
    const pw = join(dir, 'pw');
    writeFileSync(pw, 's3cret\n');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        cliEntry,
        'predict',
        '--model',
        join(dir, 'model.json'),
        '--serve-port',
        String(port),
        '--metrics-username',
        'ops',
        '--metrics-password-file',
        pw,
      ],
      { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      let up = false;
      for (let i = 0; i < 200 && !up; i++) {
        await new Promise((r) => setTimeout(r, 100));
        up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      }
      expect(up, output).toBe(true);
      const body = readFileSync(join(dir, 'second.jsonl'), 'utf8').split('\n')[0];
      const url = `http://127.0.0.1:${port}/predict`;
      const none = await fetch(url, { method: 'POST', body });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
      const wrong = await fetch(url, {
        method: 'POST',
        body,
        headers: { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` },
      });
      expect(wrong.status).toBe(401);
      const ok = await fetch(url, {
        method: 'POST',
        body,
        headers: { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` },
      });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { predictions: Prediction[] }).predictions).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
      expect(await closed).toBe(0);
    }
    expect(output).not.toContain('s3cret');
  });
});
