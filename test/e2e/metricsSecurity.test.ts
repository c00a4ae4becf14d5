/**
 * `streamnorm run` serving its metrics over HTTPS behind basic auth, as a user starts it (flags, a password
 * file, certificates made with openssl), on the real broker; and `/readyz` on an idle topic: with a 1 s
 * readiness window the consumer stays ready for many windows after its last event (the old rule turned it
 * unready once no checkpoint had been written for 300 s; checkpoints stop on an idle topic).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createTopic,
  eventRecords,
  makeEvents,
  produce,
  testKafka,
  uniqueName,
  waitFor,
} from '../integration/helpers/kafka.js';
import { httpGet, spawnRun, type Answer } from '../integration/helpers/runProcess.js';
import { hasOpenssl, makeTlsFixtures } from '../unit/metrics/tlsFixtures.js';
import { freePort } from './cliHelpers.js';

const PASSWORD = 'metrics-pw-7f3a9c';

function eventsCounted(page: string): number {
  let n = 0;
  for (const l of page.split('\n'))
    if (l.startsWith('streamnorm_events_total{') && /outcome="(learned|predicted)"/.test(l))
      n += Number(l.split(' ').pop());
  return n;
}

describe.skipIf(!hasOpenssl())('run: metrics over TLS with basic auth, and /readyz on an idle topic', () => {
  const brokers = inject('kafkaBrokers');
  const dir = mkdtempSync(join(tmpdir(), 'streamnorm-metrics-sec-'));
  const tls = makeTlsFixtures();
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    tls.remove();
  });

  it('serves https with the CA and the password file, refuses the rest, and stays ready while idle', async () => {
    const kafka = testKafka(brokers);
    const topic = uniqueName('msec-in');
    await createTopic(kafka, topic);
    const events = makeEvents(200, 21, 4, 'ms');
    await produce(kafka, topic, eventRecords(events));
    const passwordFile = join(dir, 'metrics-password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const port = await freePort();
    const run = spawnRun(
      [
        '--topic',
        topic,
        '--group',
        uniqueName('msec-group'),
        '--variant',
        'linear',
        '--metrics-port',
        String(port),
        '--metrics-username',
        'prometheus',
        '--metrics-password-file',
        passwordFile,
        '--metrics-tls-cert',
        tls.paths.cert,
        '--metrics-tls-key',
        tls.paths.key,
        '--ready-window-ms',
        '1000',
        '--checkpoint-dir',
        join(dir, 'ck'),
        '--log-level',
        'debug',
      ],
      { KAFKA_BROKERS: brokers },
    );
    const url = `https://127.0.0.1:${port}`;
    const auth = { ca: tls.caPem, user: 'prometheus', password: PASSWORD };
    try {
      let page = '';
      await waitFor(
        async () => {
          if (run.child.exitCode !== null) throw new Error(`run exited: ${run.stderr()}`);
          page = await httpGet(`${url}/metrics`, auth).then(
            (r) => (r.status === 200 ? r.body : ''),
            () => '',
          );
          return eventsCounted(page) >= events.length;
        },
        120_000,
        'all 200 events counted on the HTTPS /metrics',
      );
      expect(eventsCounted(page)).toBe(events.length);

      // Wrong, missing credentials: 401 with the challenge; /healthz open; plain HTTP gets no HTTP answer.
      for (const bad of [{ ca: tls.caPem }, { ...auth, password: 'wrong' }]) {
        const r = await httpGet(`${url}/metrics`, bad);
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Basic realm="streamnorm"');
      }
      expect((await httpGet(`${url}/healthz`, { ca: tls.caPem })).status).toBe(200);
      await expect(httpGet(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();

      // Idle now: ready for 6 s = 6 windows of 1 s, every poll, with the reason.
      const polls: Answer[] = [];
      const until = Date.now() + 6000;
      for (let i = 0; i < 100 && Date.now() < until; i++) {
        polls.push(await httpGet(`${url}/readyz`, auth));
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(polls.length).toBeGreaterThan(10);
      for (const r of polls) {
        expect(r.status, r.body).toBe(200);
        const body = JSON.parse(r.body) as { ready: boolean; mode: string; reason: string };
        expect(body).toMatchObject({ ready: true, mode: 'live' });
        expect(body.reason).toMatch(/caught up on 1 partition\(s\) \(lag 0\)/);
      }
    } finally {
      const exit = await run.stop();
      expect(exit.code, run.stderr()).toBe(0);
    }
    // The password never reaches a log line (debug level), stdout or stderr.
    expect(run.stderr()).not.toContain(PASSWORD);
    expect(run.stdout()).not.toContain(PASSWORD);
  });
});
