/**
 * The `streamnorm` command end to end, without a broker: help, bad input (one clear line, a meaningful
 * exit code), compare on a small grid, replay into models, and the main job with its metrics server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliEntry, freePort, plainLines, root, runCli } from './cliHelpers.js';

const subcommands = [
  'run',
  'record',
  'replay',
  'produce',
  'compare',
  'main',
  'status',
  'savepoint',
  'export',
  'predict',
];
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
      /--variants: .*'weird'/,
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

// compare end to end: test/e2e/compare.test.ts

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

  it('main compares through the live pipeline with metrics served while it runs, then prints the table, the columns and a reading', async () => {
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
    const out = join(dir, 'main');
    const r = await runCli(
      [
        'main',
        '--metrics-port',
        String(port),
        '--events',
        '300',
        '--seeds',
        '2',
        '--variants',
        'batch,layer',
        '--batch-sizes',
        '4',
        '--out',
        out,
      ],
      { timeoutMs: 170_000 },
    );
    polling = false;
    await poll;
    expect(r.code, r.stderr).toBe(0);
    expect(scraped).toMatch(/streamnorm_events_total\{[^}]*variant="batch"/);
    const rows = r.stdout.split('\n').filter((l) => /^(iid|bursty:8)\s+(batch|layer)\s+4\s/.test(l));
    expect(rows).toHaveLength(4);
    expect(r.stdout).toMatch(/majority-class baseline error \d+\.\d\d%; ± = 95 % t-interval over seeds/);
    expect(r.stdout).toContain('Columns:');
    expect(r.stdout).toMatch(
      /Reading \(a difference counts only when its 95 % interval excludes 0\):\n {2}iid: /,
    );
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      rows: { status: string; events: number; steps: number }[];
    };
    expect(json.rows.every((x) => x.status === 'ok' && x.events === 300 && x.steps === 75)).toBe(true);
    expect(plainLines(r.stderr).every((l) => l.startsWith('main:'))).toBe(true);
  });

  it('main --serve keeps the metrics endpoint up after the comparison until SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        cliEntry,
        'main',
        '--serve',
        '--metrics-port',
        String(port),
        '--events',
        '200',
        '--seeds',
        '1',
        '--variants',
        'batch,layer',
        '--batch-sizes',
        '4',
        '--arrival',
        'iid',
        '--out',
        join(dir, 'main-serve'),
      ],
      { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // the table is printed once the comparison is over; the endpoint must still answer after it
      for (let i = 0; i < 1200 && !stdout.includes('Charts:'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toContain('Charts:');
      await new Promise((r) => setTimeout(r, 300));
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/streamnorm_events_total\{[^}]*variant="layer"/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

describe('run --state', () => {
  const base = ['run', '--topic', 't', '--group', 'g', '--brokers', '127.0.0.1:1', '--metrics-port', '0'];

  it('a replica (--replica-id) keeps its state in Kafka by default: no usage error, it goes on to the broker', async () => {
    const r = await runCli([...base, '--replica-id', 'r1', '--checkpoint-dir', join(dir, 'ck-state')]);
    expectOneLine(r, 4, /cannot reach Kafka broker 127\.0\.0\.1:1\b/);
  });

  it('--state file (flag or STREAMNORM_STATE) with --replica-id is a usage error', async () => {
    expectOneLine(
      await runCli([...base, '--replica-id', 'r1', '--state', 'file']),
      2,
      /--replica-id and --learned-ids need --state kafka/,
    );
    expectOneLine(
      await runCli([...base, '--replica-id', 'r1'], { env: cleanEnv({ STREAMNORM_STATE: 'file' }) }),
      2,
      /--replica-id and --learned-ids need --state kafka/,
    );
  });

  it('--sync-bn without --state kafka, or its options without --sync-bn, is a usage error', async () => {
    expectOneLine(await runCli([...base, '--sync-bn']), 2, /--sync-bn needs --state kafka/);
    expectOneLine(
      await runCli([...base, '--state', 'kafka', '--sync-bn-timeout-ms', '500']),
      2,
      /--sync-bn-timeout-ms and --sync-bn-idle-ms need --sync-bn/,
    );
  });

  it('--checkpoint-keep below 2 is a usage error naming the flag', async () => {
    expectOneLine(await runCli([...base, '--checkpoint-keep', '1']), 2, /--checkpoint-keep/);
  });
});
