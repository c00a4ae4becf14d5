/**
 * `streamnorm run --state kafka --sync-bn` on the real broker: two replicas of an Mlp with BatchNorm at batch 2 on
 * a 2-partition topic whose partitions have different input distributions (means +3 and −3). Checked: every event
 * is learned exactly once (the replicas' audit logs); both replicas pooled steps with a roster of two (their
 * metrics); and when one leaves with SIGTERM mid-stream, the other does not stall: it learns the rest within a
 * bounded time, its roster back to one.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../src/streams/event.js';
import { createTopic, makeEvents, produce, testKafka, uniqueName, type RawRecord } from './helpers/kafka.js';
import { killAll, learnedIds, startRun, until, type Proc } from './helpers/replicas.js';
import { haveTool, PROMTOOL, promtool } from '../unit/metrics/tools.js';

const kafka = testKafka();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function scrape(port: number): Promise<string> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
    return await r.text();
  } catch {
    return '';
  }
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Events of partition p: inputs shifted by +3 (p = 0) or −3 (p = 1), labels of the shifted inputs' linear rule. */
function skewed(n: number, seed: number, prefix: string): RawRecord[] {
  const out: RawRecord[] = [];
  makeEvents(n, seed, 4, prefix).forEach((e: StreamEvent, i) => {
    const partition = i % 2;
    const shift = partition === 0 ? 3 : -3;
    const x = (e.x as number[]).map((v) => v + shift);
    out.push({ key: e.id, value: JSON.stringify({ ...e, x }), partition });
  });
  return out;
}

describe('run --sync-bn on the real broker', () => {
  it('refuses (exit 2) when no variant has a BatchNorm layer', async () => {
    const topic = uniqueName('syncbn-none');
    await createTopic(kafka, topic, 1);
    await produce(kafka, topic, skewed(2, 1, 'n'));
    const p = startRun([
      '--topic',
      topic,
      '--group',
      uniqueName('syncbn-none-g'),
      '--state',
      'kafka',
      '--model',
      'mlp',
      '--normalizer',
      'layer',
      '--sync-bn',
    ]);
    try {
      const exit = await p.exited;
      expect(exit.code, p.stderr()).toBe(2);
      expect(p.stderr()).toMatch(/--sync-bn: no variant has a BatchNorm layer/);
    } finally {
      killAll([p]);
    }
  }, 120_000);

  it('exits (does not hang) when the models cannot be built for the stream', async () => {
    const topic = uniqueName('syncbn-window');
    await createTopic(kafka, topic, 1);
    const window = {
      id: 'w0',
      ts: 1,
      x: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      y: 1,
    };
    await produce(kafka, topic, [{ key: 'w0', value: JSON.stringify(window) }]);
    const p = startRun([
      '--topic',
      topic,
      '--group',
      uniqueName('syncbn-window-g'),
      '--state',
      'kafka',
      '--model',
      'mlp',
      '--normalizer',
      'batch',
      '--sync-bn',
    ]);
    try {
      const exit = await Promise.race([
        p.exited,
        new Promise<null>((r) => setTimeout(() => r(null), 60_000)),
      ]);
      expect(exit, `still running after 60 s: ${p.stderr()}`).not.toBeNull();
      expect(exit!.code, p.stderr()).toBe(2);
      expect(p.stderr()).toMatch(/Mlp needs dense vector events/);
    } finally {
      killAll([p]);
    }
  }, 120_000);

  it('two replicas pool BatchNorm statistics, learn every event once, and survive a SIGTERM of one', async () => {
    const topic = uniqueName('syncbn');
    const group = uniqueName('syncbn-g');
    await createTopic(kafka, topic, 2);
    const dir = mkdtempSync(join(tmpdir(), 'sn-syncbn-'));
    const idsFile = (id: string): string => join(dir, `learned-${id}.jsonl`);
    const ports = { a: await freePort(), b: await freePort() };
    const replica = (id: 'a' | 'b'): Proc =>
      startRun([
        '--topic',
        topic,
        '--group',
        group,
        '--state',
        'kafka',
        '--replica-id',
        id,
        '--learned-ids',
        idsFile(id),
        '--model',
        'mlp',
        '--normalizer',
        'batch',
        '--batch',
        '2',
        '--classes',
        '2',
        '--sync-bn',
        '--sync-bn-timeout-ms',
        '2000',
        '--metrics-port',
        String(ports[id]),
      ]);
    const learned = (): string[] => ['a', 'b'].flatMap((id) => learnedIds(idsFile(id)));
    const procs: Proc[] = [];
    try {
      // The shape comes from the first event: one event first, then both replicas.
      const first = skewed(400, 5, 'p');
      await produce(kafka, topic, first.slice(0, 2));
      const a = replica('a');
      const b = replica('b');
      procs.push(a, b);
      await until('both replicas to see a roster of two', 90, async () => {
        const [ta, tb] = await Promise.all([scrape(ports.a), scrape(ports.b)]);
        return (
          sample(ta, 'streamnorm_syncbn_roster_size') === 2 &&
          sample(tb, 'streamnorm_syncbn_roster_size') === 2
        );
      });
      await produce(kafka, topic, first.slice(2));
      await until('the first 400 events to be learned', 120, async () => learned().length >= first.length);

      const [ta, tb] = await Promise.all([scrape(ports.a), scrape(ports.b)]);
      for (const [who, text] of [
        ['a', ta],
        ['b', tb],
      ] as const) {
        const pooled = sample(text, 'streamnorm_syncbn_steps_total{outcome="pooled"}') ?? 0;
        const waitSum = sample(text, 'streamnorm_syncbn_wait_seconds_sum') ?? 0;
        const waitCount = sample(text, 'streamnorm_syncbn_wait_seconds_count') ?? 0;
        expect(pooled, `${who}: pooled steps`).toBeGreaterThan(0);
        // A replica's whole exposition, the sync-bn metrics in it, lints clean (CI: promtool required).
        if (haveTool(PROMTOOL)) {
          const lint = promtool(['check', 'metrics'], text);
          expect(lint.stdout + lint.stderr, `${who}: promtool`).toBe('');
          expect(lint.status).toBe(0);
        }
        expect(waitCount, `${who}: exchanges waited for`).toBeGreaterThan(0);
        // The per-exchange latency of this run, for docs/scale-out.md.
        console.log(
          `sync-bn ${who}: ${pooled} pooled steps, ` +
            `${sample(text, 'streamnorm_syncbn_steps_total{outcome="local_fallback"}')} fallbacks, ` +
            `${sample(text, 'streamnorm_syncbn_steps_total{outcome="shadow"}')} shadow; ` +
            `mean wait ${((1000 * waitSum) / waitCount).toFixed(2)} ms over ${waitCount} exchanges`,
        );
      }

      // a leaves mid-stream; b must not stall: it learns the rest, its roster back to one.
      const second = skewed(600, 6, 'q');
      await produce(kafka, topic, second.slice(0, 300));
      a.child.kill('SIGTERM');
      await produce(kafka, topic, second.slice(300));
      const t0 = Date.now();
      expect((await a.exited).code, a.stderr()).toBe(0);
      await until(
        'b to learn every event after a left',
        90,
        async () => learned().length >= first.length + second.length,
      );
      const afterLeave = (Date.now() - t0) / 1000;
      await until('b to see a roster of one', 30, async () => {
        return sample(await scrape(ports.b), 'streamnorm_syncbn_roster_size') === 1;
      });
      console.log(`sync-bn: b learned the rest ${afterLeave.toFixed(1)} s after a's SIGTERM`);
      b.child.kill('SIGTERM');
      expect((await b.exited).code, b.stderr()).toBe(0);

      const ids = learned();
      const all = [...first, ...second].map((r) => (JSON.parse(String(r.value)) as StreamEvent).id);
      expect(ids.length).toBe(all.length);
      expect(new Set(ids)).toEqual(new Set(all));
    } finally {
      killAll(procs);
    }
  }, 420_000);
});
