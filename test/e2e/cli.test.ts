/**
 * The `streamnorm` command end to end, without a broker: help, bad input (one clear line, a meaningful
 * exit code), compare on a small grid, replay into models, and the main job with its metrics server.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, plainLines, root, runCli } from './cliHelpers.js';

const subcommands = ['run', 'record', 'replay', 'produce', 'compare', 'main'];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'streamnorm-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Asserts a failure: the exit code, and exactly one line on stderr, prefixed, matching `pattern`. */
function expectOneLine(
  r: { code: number | null; stderr: string; stdout: string },
  code: number,
  pattern: RegExp,
): void {
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  expect(lines, `stderr was:\n${r.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^streamnorm: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(code);
}

describe('streamnorm --help', () => {
  it('lists every subcommand and documents the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const s of subcommands) expect(r.stdout).toMatch(new RegExp(`^\\s+${s}\\b`, 'm'));
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 internal error, 2 usage/config, 3 I/O');
  });

  it.each(subcommands)('%s --help prints its usage and options', async (sub) => {
    const r = await runCli([sub, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: streamnorm ${sub} [options]`);
    expect(r.stdout).toContain('--config <file>');
  });
});

describe('bad input: one clear line and a non-zero exit', () => {
  it('unknown flag -> exit 2', async () => {
    expectOneLine(await runCli(['compare', '--colour', 'red']), 2, /unknown option '--colour'/);
  });

  it('unknown subcommand -> exit 2', async () => {
    expectOneLine(await runCli(['frobnicate']), 2, /unknown command 'frobnicate'/);
  });

  it('bad flag value names the flag -> exit 2', async () => {
    expectOneLine(
      await runCli(['compare', '--dataset', 'sensor', '--seeds', 'three']),
      2,
      /--seeds <n>.*'three' is invalid/,
    );
    expectOneLine(
      await runCli(['compare', '--dataset', 'sensor', '--batch-sizes', '1,0']),
      2,
      /--batch-sizes: .*'0'/,
    );
    expectOneLine(
      await runCli(['compare', '--dataset', 'sensor', '--variants', 'batch,weird']),
      2,
      /normalizers: .*weird/,
    );
    expectOneLine(await runCli(['compare', '--dataset', 'cifar']), 2, /unknown dataset 'cifar'/);
  });

  it('missing required setting names flag, config field and env var -> exit 2', async () => {
    expectOneLine(
      await runCli(['run', '--topic', 't', '--group', 'g']),
      2,
      /missing --brokers \(or 'brokers' in the config file, or KAFKA_BROKERS\)/,
    );
  });

  it('missing file -> exit 3', async () => {
    expectOneLine(
      await runCli(['compare', '--recording', join(dir, 'nope.jsonl')]),
      3,
      /no such file .*nope\.jsonl/,
    );
    expectOneLine(
      await runCli(['replay', '--recording', join(dir, 'nope.jsonl'), '--variants']),
      3,
      /no such file/,
    );
    expectOneLine(
      await runCli(['run', '--config', join(dir, 'missing.yaml')]),
      3,
      /cannot read config file .*missing\.yaml \(ENOENT\)/,
    );
  });

  it('bad config field names the field and the file -> exit 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'brokers: 127.0.0.1:9092\nmetrics:\n  port: lots\n');
    expectOneLine(
      await runCli(['run', '--config', bad]),
      2,
      /config file .*bad\.yaml: bad value for metrics\.port/,
    );
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ topic: 'a', colour: 'red' }));
    expectOneLine(await runCli(['run', '--config', unknown]), 2, /unknown field colour/);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'topic: [unclosed\n');
    expectOneLine(await runCli(['run', '--config', broken]), 2, /not valid YAML/);
  });

  it('bad environment variable names it -> exit 2', async () => {
    const r = await runCli(['main', '--quiet'], { env: cleanEnv({ STREAMNORM_METRICS_PORT: 'abc' }) });
    // the message names the variable the user set, and its value
    expectOneLine(r, 2, /environment: bad value for STREAMNORM_METRICS_PORT = "abc": /);
  });

  it('unreachable broker 127.0.0.1:1 -> exit 4 for every Kafka subcommand', async () => {
    expectOneLine(
      await runCli([
        'produce',
        '--dataset',
        'sensor',
        '--topic',
        't',
        '--brokers',
        '127.0.0.1:1',
        '--max-events',
        '5',
      ]),
      4,
      /cannot reach Kafka broker 127\.0\.0\.1:1/,
    );
    expectOneLine(
      await runCli(['record', '--topic', 't', '--brokers', '127.0.0.1:1', '--out', join(dir, 'r.jsonl')]),
      4,
      /cannot reach Kafka broker/,
    );
    expectOneLine(
      await runCli([
        'run',
        '--topic',
        't',
        '--group',
        'g',
        '--brokers',
        '127.0.0.1:1',
        '--checkpoint-dir',
        join(dir, 'ck'),
      ]),
      4,
      /cannot reach Kafka broker/,
    );
    expectOneLine(
      await runCli([
        'replay',
        '--recording',
        join(root, 'data', 'sensor.jsonl'),
        '--to-topic',
        't',
        '--brokers',
        '127.0.0.1:1',
      ]),
      4,
      /cannot reach Kafka broker/,
    );
    expectOneLine(
      await runCli(['main', '--kafka', '--quiet'], { env: cleanEnv({ KAFKA_BROKERS: '127.0.0.1:1' }) }),
      4,
      /cannot reach Kafka broker/,
    );
  });

  it('metrics port in use -> exit 3', async () => {
    const server: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    try {
      expectOneLine(
        await runCli(['main', '--quiet', '--metrics-port', String(port)]),
        3,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`),
      );
    } finally {
      server.close();
    }
  });
});

describe('compare on a small grid', () => {
  it('writes results.json, results.csv, results.md and chart.svg with the documented fields and prints the table', async () => {
    const out = join(dir, 'cmp');
    const r = await runCli(
      [
        'compare',
        '--dataset',
        'synthetic',
        '--max-events',
        '240',
        '--variants',
        'batch,layer,group:4',
        '--batch-sizes',
        '1,4,poisson:4',
        '--seeds',
        '2',
        '--jobs',
        '2',
        '--hidden',
        '8',
        '--out',
        out,
      ],
      { timeoutMs: 170_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['results.json', 'results.csv', 'results.md', 'chart.svg'])
      expect(existsSync(join(out, f))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      rows: Record<string, unknown>[];
      meta: { events: number };
    };
    expect(json.meta.events).toBe(240);
    expect(json.rows).toHaveLength(9);
    for (const row of json.rows) {
      for (const k of [
        'normalizer',
        'batchSize',
        'seeds',
        'events',
        'loss',
        'error',
        'lossStd',
        'errorStd',
        'eventsPerSecond',
        'trainEvalGap',
        'singleton',
      ])
        expect(row).toHaveProperty(k);
      expect(row.failed).toBeUndefined();
      expect(row.seeds).toBe(2);
      expect(row.events).toBe(240);
      expect(row.error as number).toBeGreaterThanOrEqual(0);
      expect(row.error as number).toBeLessThanOrEqual(1);
      expect(row.eventsPerSecond as number).toBeGreaterThan(0);
      if (row.normalizer !== 'batch') expect(row.trainEvalGap).toBe(0);
    }
    // BatchNorm predicts differently with batch statistics than with running statistics
    expect(
      json.rows.filter((x) => x.normalizer === 'batch').some((x) => (x.trainEvalGap as number) > 0),
    ).toBe(true);
    expect(readFileSync(join(out, 'results.csv'), 'utf8').split('\n').filter(Boolean)).toHaveLength(10);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toContain('| normalizer | batch |');
    expect(md).toContain('## Per normalizer');
    const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
    expect((svg.match(/<g class="series"/g) ?? []).length).toBe(3);
    expect(r.stdout).toMatch(/^normalizer\s+batch\s+error ± sd/m);
    expect(r.stdout.split('\n').filter((l) => /^(batch|layer|group:4)\s/.test(l))).toHaveLength(9);
  });

  it('reads a recording and takes defaults from a config file', async () => {
    const out = join(dir, 'cmp-rec');
    const cfg = join(dir, 'compare.yaml');
    writeFileSync(
      cfg,
      `compare:\n  normalizers: [layer, none]\n  batchSizes: [2, 8]\n  seeds: 1\n  out: ${out}\n  limit: 200\n  jobs: 1\n`,
    );
    const r = await runCli([
      'compare',
      '--recording',
      join(root, 'data', 'sensor.jsonl'),
      '--config',
      cfg,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      rows: { normalizer: string; batchSize: number; events: number }[];
      meta: { source: string };
    };
    expect(json.meta.source).toContain('sensor.jsonl');
    expect(json.rows.map((x) => `${x.normalizer}@${x.batchSize}`)).toEqual([
      'layer@2',
      'layer@8',
      'none@2',
      'none@8',
    ]);
    expect(json.rows.every((x) => x.events === 200)).toBe(true);
    expect(r.stdout).toBe('');
  });
});

describe('replay --variants and main', () => {
  it('replays a recording into variants side by side and prints their scores', async () => {
    const rec = join(dir, 'small.jsonl');
    writeFileSync(
      rec,
      readFileSync(join(root, 'data', 'sensor.jsonl'), 'utf8')
        .split('\n')
        .slice(0, 300)
        .join('\n') + '\n',
    );
    const r = await runCli(['replay', '--recording', rec, '--variants', 'bn=batch,ln=layer', '--batch', '4']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^(bn|ln)\s/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^bn\s+WindowNet\(batch\)\s+300\s/);
    expect(rows[1]).toMatch(/^ln\s+WindowNet\(layer\)\s+300\s/);
  });

  it('main replays the bundled recording with metrics served while it runs, then prints the table', async () => {
    const port = await freePort();
    let scraped = '';
    let polling = true;
    const poll = (async () => {
      while (polling && !scraped.includes('streamnorm_events_total{')) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          const text = await res.text();
          if (text.includes('streamnorm_events_total{')) scraped = text;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const r = await runCli(['main', '--metrics-port', String(port)], { timeoutMs: 170_000 });
    polling = false;
    await poll;
    expect(r.code, r.stderr).toBe(0);
    expect(scraped).toMatch(/streamnorm_events_total\{[^}]*variant="batch"/);
    const rows = r.stdout.split('\n').filter((l) => /^(batch|layer|group:4|none)\s/.test(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/\s9427\s/);
    expect(plainLines(r.stderr).every((l) => l.startsWith('replay:'))).toBe(true);
  });
});
