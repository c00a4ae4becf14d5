/**
 * One name per concept across the subcommands, as a user types them: the canonical flags, every deprecated
 * alias (still working, with a warning naming the replacement), `--bootstrap-server`, Kafka's default port,
 * did-you-mean, `main` staying off Kafka unless told, Ctrl-C printing the partial table, and the log format.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliEntry, freePort, root, runCli } from './cliHelpers.js';

let dir: string;
let small: string;
const brokers = process.env.KAFKA_BROKERS as string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'streamnorm-consistency-'));
  small = join(dir, 'small.jsonl');
  writeFileSync(
    small,
    readFileSync(join(root, 'data', 'sensor.jsonl'), 'utf8')
      .split('\n')
      .slice(0, 120)
      .join('\n') + '\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const warning = (old: string, canonical: string): string =>
  `streamnorm: warning: ${old} is deprecated, use ${canonical}\n`;

describe('renamed flags and their deprecated aliases', () => {
  it('replay: --variants (canonical) and --into-models (deprecated) give the same table', async () => {
    const args = ['replay', '--input', small, '--log-level', 'silent'];
    const a = await runCli([...args, '--variants', 'ln=layer']);
    const b = await runCli([...args, '--into-models', 'ln=layer']);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stderr).not.toContain('deprecated');
    expect(b.stderr).toContain(warning('--into-models', '--variants'));
    const row = (s: string): string =>
      s
        .split('\n')
        .find((l) => l.startsWith('ln '))!
        .split(/\s+/)
        .slice(0, 5)
        .join(' ');
    expect(row(b.stdout)).toBe(row(a.stdout));
  });

  it('replay: --recording is the same as --input', async () => {
    const r = await runCli([
      'replay',
      '--recording',
      small,
      '--variants',
      'ln=layer',
      '--log-level',
      'silent',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ln\s+WindowNet\(layer\)\s+120\s/m);
  });

  it('compare: --variants and --max-events; --normalizers and --limit still work with a warning each', async () => {
    const base = ['compare', '--input', small, '--batch-sizes', '4', '--seeds', '1', '--jobs', '1'];
    const a = await runCli([
      ...base,
      '--variants',
      'layer',
      '--max-events',
      '60',
      '--out',
      join(dir, 'a'),
      '--quiet',
    ]);
    const b = await runCli([
      ...base,
      '--normalizers',
      'layer',
      '--limit',
      '60',
      '--out',
      join(dir, 'b'),
      '--quiet',
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stderr).not.toContain('deprecated');
    expect(b.stderr).toContain(warning('--normalizers', '--variants'));
    expect(b.stderr).toContain(warning('--limit', '--max-events'));
    for (const d of ['a', 'b']) {
      const rows = (
        JSON.parse(readFileSync(join(dir, d, 'results.json'), 'utf8')) as {
          rows: { normalizer: string; events: number }[];
        }
      ).rows;
      expect(rows.map((r) => [r.normalizer, r.events])).toEqual([['layer', 60]]);
    }
  });

  it('compare: --variants and --normalizers with different values is a usage error', async () => {
    const r = await runCli([
      'compare',
      '--dataset',
      'sensor',
      '--variants',
      'layer',
      '--normalizers',
      'batch',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--normalizers and --variants name the same setting/);
  });

  it('main: --variants names both the compared normalizers and the --kafka variants; --normalizers is its deprecated alias', async () => {
    const both = await runCli(['main', '--variants', 'layer', '--normalizers', 'batch']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--normalizers and --variants name the same setting/);
    // the old name still reaches the comparison, with a warning naming the new one (refused at the bad --out)
    const old = await runCli(['main', '--normalizers', 'layer', '--out', '/dev/null/x']);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain(warning('--normalizers', '--variants'));
    // with --kafka the same flag is parsed as the variant list, before any connection
    const live = await runCli(['main', '--kafka', '--variants', 'a=nope'], {
      env: cleanEnv({ KAFKA_BROKERS: '127.0.0.1:1' }),
    });
    expect(live.code).toBe(2);
    expect(live.stderr).toMatch(/--variants/);
  });

  it('run: --variant is a deprecated alias of --variants (the variants are parsed before connecting)', async () => {
    const common = [
      'run',
      '--topic',
      't',
      '--group',
      'g',
      '--brokers',
      '127.0.0.1:1',
      '--checkpoint-dir',
      join(dir, 'ck'),
    ];
    const a = await runCli([...common, '--variant', 'lyer']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain(warning('--variant', '--variants'));
    expect(a.stderr).toMatch(/'lyer' is not a normalizer or a model \(did you mean 'layer'\?\)/);
    const b = await runCli([...common, '--variants', 'lyer']);
    expect(b.code).toBe(2);
    expect(b.stderr).not.toContain('deprecated');
    expect(b.stderr).toMatch(/did you mean 'layer'/);
  });

  it('produce: --max-events, and --limit with a warning, on the real broker', async () => {
    const topic = `consistency-${Date.now()}`;
    const a = await runCli([
      'produce',
      '--synthetic',
      '--max-events',
      '7',
      '--topic',
      topic,
      '--brokers',
      brokers,
      '--quiet',
    ]);
    const b = await runCli([
      'produce',
      '--synthetic',
      '--limit',
      '5',
      '--topic',
      topic,
      '--brokers',
      brokers,
      '--quiet',
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stderr).not.toContain('deprecated');
    expect(b.stderr).toContain(warning('--limit', '--max-events'));
    const events = (s: string): number =>
      JSON.parse(s.split('\n').find((l) => l.includes('produce finished'))!).events;
    expect([events(a.stderr), events(b.stderr)]).toEqual([7, 5]);
  });
});

describe('brokers as Kafka tools take them', () => {
  it.each(['produce', 'record', 'run', 'replay'])('%s --bootstrap-server is --brokers', async (sub) => {
    const extra: Record<string, string[]> = {
      produce: ['--synthetic', '--topic', 't'],
      record: ['--topic', 't', '--out', join(dir, 'r.jsonl')],
      run: ['--topic', 't', '--group', 'g', '--checkpoint-dir', join(dir, 'ck2')],
      replay: ['--input', small, '--to-topic', 't'],
    };
    const r = await runCli([sub, ...extra[sub], '--bootstrap-server', '127.0.0.1:1']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/cannot reach Kafka broker 127\.0\.0\.1:1\b/);
  });

  it('produce with --bootstrap-server reaches the real broker', async () => {
    const r = await runCli([
      'produce',
      '--synthetic',
      '--max-events',
      '3',
      '--topic',
      `bs-${Date.now()}`,
      '--bootstrap-server',
      brokers,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a host without a port means port 9092', async () => {
    const r = await runCli([
      'record',
      '--topic',
      't',
      '--brokers',
      'nosuchhost.invalid',
      '--out',
      join(dir, 'r2.jsonl'),
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/cannot reach Kafka broker nosuchhost\.invalid:9092/);
  });
});

describe('did-you-mean', () => {
  it('for a config field', async () => {
    const cfg = join(dir, 'typo.yaml');
    writeFileSync(cfg, 'brokrs: 127.0.0.1:9092\n');
    const r = await runCli(['replay', '--input', small, '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `streamnorm: config file ${cfg}: unknown field brokrs (did you mean 'brokers'?)`,
    );
  });

  it('for a model family', async () => {
    const r = await runCli(['replay', '--input', small, '--variants', 'linaer']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'linaer' is not a normalizer or a model \(did you mean 'linear'\?\)/);
  });
});

describe('main stays off Kafka unless told', () => {
  it('KAFKA_BROKERS exported does not turn main into a consumer', async () => {
    // an unreachable broker exported: a consumer would exit 4; main runs its comparison on the recording instead
    const r = await runCli(
      [
        'main',
        '--recording',
        small,
        '--variants',
        'layer',
        '--batch-sizes',
        '4',
        '--arrival',
        'iid',
        '--seeds',
        '1',
        '--events',
        '120',
        '--out',
        join(dir, 'main-off-kafka'),
        '--metrics-port',
        '0',
        '--log-level',
        'silent',
      ],
      { env: cleanEnv({ KAFKA_BROKERS: '127.0.0.1:1' }) },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^iid\s+layer\s+4\s/m);
  });

  it('--kafka without brokers says where they come from', async () => {
    const r = await runCli(['main', '--kafka']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "streamnorm: missing --kafka (or 'brokers' in the config file, or KAFKA_BROKERS)",
    );
  });
});

describe('Ctrl-C during replay', () => {
  it('prints the table of what was learned so far, then exits 130', async () => {
    // a recording of 600 events one second apart, replayed at 20x its pace: about 30 s if not interrupted
    const slow = join(dir, 'slow.jsonl');
    writeFileSync(
      slow,
      Array.from({ length: 600 }, (_, i) =>
        JSON.stringify({
          topic: 'slow',
          partition: 0,
          offset: String(i),
          timestamp: 1_700_000_000_000 + 1000 * i,
          key: null,
          value: { id: `e${i}`, ts: 1_700_000_000_000 + 1000 * i, x: [i % 7, (i * 3) % 5], y: i % 2 },
        }),
      ).join('\n') + '\n',
    );
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        cliEntry,
        'replay',
        '--input',
        slow,
        '--variants',
        'linear',
        '--speed',
        '20',
        '--batch',
        '1',
        '--metrics-port',
        String(port),
        '--log-level',
        'silent',
      ],
      { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // wait (bounded) until some events were learned, then interrupt
    let learned = false;
    for (let i = 0; i < 300 && !learned; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        learned = /streamnorm_events_total\{[^}]*outcome="learned"[^}]*\} ([1-9]\d*)/.test(text);
      } catch {
        // not listening yet
      }
    }
    expect(learned, stderr).toBe(true);
    child.kill('SIGINT');
    const code = await closed;
    expect(code, stderr).toBe(130);
    const m = /^interrupted: scores of the first (\d+) events$/m.exec(stdout);
    expect(m, stdout).not.toBeNull();
    const n = Number(m![1]);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(600);
    expect(stdout).toMatch(new RegExp(`^linear\\s+LinearModel\\s+${n}\\s`, 'm'));
  });
});

describe('log format', () => {
  it('JSON lines when stderr is not a terminal; pretty with STREAMNORM_LOG_FORMAT=pretty', async () => {
    const args = ['replay', '--input', small, '--variants', 'layer', '--quiet'];
    const json = await runCli(args);
    const pretty = await runCli(args, { env: cleanEnv({ STREAMNORM_LOG_FORMAT: 'pretty' }) });
    expect(json.code, json.stderr).toBe(0);
    expect(pretty.code, pretty.stderr).toBe(0);
    const line = json.stderr.split('\n').find((l) => l.includes('replay finished'))!;
    expect(JSON.parse(line)).toMatchObject({ msg: 'replay finished', events: 120 });
    expect(pretty.stderr).toMatch(/INFO \(streamnorm\): replay finished\n\s+events: 120\n/);
    const bad = await runCli(args, { env: cleanEnv({ STREAMNORM_LOG_FORMAT: 'xml' }) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/STREAMNORM_LOG_FORMAT/);
  });
});
