/**
 * A load test of the metrics server during a live run (issue 10): `streamnorm run` consumes from the real broker
 * while events keep arriving and 2,000 concurrent `/metrics` scrapes hit it on loopback. Every request gets an
 * HTTP answer (200, or the connection cap's 503), the server stays up, and every event is still predicted.
 * The pipeline's event-loop delay during the flood (its own `streamnorm_event_loop_delay_seconds` histogram,
 * the difference of a scrape before and after) is printed, not asserted: speed lives in `npm run bench
 * metricsLoad`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../e2e/cliHelpers.js';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  readTopic,
  testKafka,
  uniqueName,
  waitFor,
} from './helpers/kafka.js';
import { delayBetween, floodScrapes } from './helpers/metricsFlood.js';
import { httpGet, spawnRun } from './helpers/runProcess.js';

const SCRAPES = 2000;
const FIRST = 2000;
const DURING = 6000;

function eventsCounted(page: string): number {
  let n = 0;
  for (const l of page.split('\n'))
    if (l.startsWith('streamnorm_events_total{') && /outcome="(learned|predicted)"/.test(l))
      n += Number(l.split(' ').pop());
  return n;
}

describe('metrics server under a scrape flood during a run', () => {
  const brokers = inject('kafkaBrokers');
  const dir = mkdtempSync(join(tmpdir(), 'streamnorm-metrics-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers 2,000 concurrent scrapes (200 or 503), stays up, and every event is predicted', async () => {
    const kafka = testKafka(brokers);
    const topic = uniqueName('mload-in');
    const predictions = uniqueName('mload-pred');
    await createTopic(kafka, topic);
    await createTopic(kafka, predictions);
    const first = makeEvents(FIRST, 31, 4, 'first');
    const during = makeEvents(DURING, 32, 4, 'during');
    await produce(kafka, topic, eventRecords(first));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const run = spawnRun(
      [
        '--topic',
        topic,
        '--group',
        uniqueName('mload-group'),
        '--output-topic',
        predictions,
        '--variant',
        'linear',
        '--metrics-port',
        String(port),
        '--checkpoint-dir',
        join(dir, 'ck'),
        '--log-level',
        'warn',
      ],
      { KAFKA_BROKERS: brokers },
    );
    const scrape = async (): Promise<string> => {
      const r = await httpGet(`${url}/metrics`);
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      return r.body;
    };
    try {
      await waitFor(
        async () => {
          if (run.child.exitCode !== null) throw new Error(`run exited: ${run.stderr()}`);
          return eventsCounted(await scrape().catch(() => '')) >= FIRST;
        },
        120_000,
        'the first events learned',
      );
      const before = await scrape();

      // Events keep arriving while the flood runs.
      const producing = (async () => {
        for (let i = 0; i < DURING; i += 500)
          await produce(kafka, topic, eventRecords(during.slice(i, i + 500)));
      })();
      const flood = await floodScrapes(`${url}/metrics`, SCRAPES);
      await producing;
      await new Promise((r) => setTimeout(r, 1100)); // past the snapshot interval: a fresh collection
      const after = await scrape();

      const delay = delayBetween(before, after);
      console.log(
        `metrics flood: ${SCRAPES} concurrent scrapes in ${flood.wallMs} ms, answers ${JSON.stringify(flood.statuses)}, ` +
          `no answer ${flood.failures}${flood.failureSamples.length > 0 ? ` (${flood.failureSamples.join('; ')})` : ''}; ` +
          `run's event-loop delay over the flood: p50 ${(delay.p50 * 1000).toFixed(1)} ms, p99 ${(delay.p99 * 1000).toFixed(1)} ms, ` +
          `max <= ${(delay.maxAtMost * 1000).toFixed(0)} ms (${delay.samples} ticks)`,
      );
      expect(flood.failures, flood.failureSamples.join('\n')).toBe(0);
      expect(Object.keys(flood.statuses).every((s) => s === '200' || s === '503')).toBe(true);
      expect(flood.statuses['200']).toBeGreaterThan(0);
      expect(delay.samples).toBeGreaterThan(0);
      expect((await httpGet(`${url}/healthz`)).status).toBe(200);
      expect(run.child.exitCode).toBeNull();

      await waitFor(
        async () => eventsCounted(await scrape()) >= FIRST + DURING,
        120_000,
        'every event learned after the flood',
      );
      const published = await readTopic(kafka, predictions);
      const ids = new Set(published.map((m) => m.key));
      for (const e of [...first, ...during]) expect(ids.has(e.id), e.id).toBe(true);
    } finally {
      const exit = await run.stop();
      expect(exit.code, run.stderr()).toBe(0);
    }
  });
});
