/**
 * `streamnorm record` against the real broker, as a user runs it: --from an offset and a time, --partitions,
 * headers kept (text, bytes, repeated keys) and sent again by `replay --to-topic`, --group resuming where it
 * stopped, and no consumer group left behind without --group.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createProducer, type KafkaClient } from '../../src/streams/kafka/client.js';
import { createTopic, testKafka, uniqueName } from '../integration/helpers/kafka.js';
import { runCli } from './cliHelpers.js';

interface Line {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  headers?: Record<string, unknown>;
  value: { id: string };
}

const readLines = (path: string): Line[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);

const PARTITIONS = 3;
const PER_PARTITION = 10;
/** Message i of every partition has this time (a day ago, one second apart). */
const base = Math.floor(Date.now() / 1000) * 1000 - 86_400_000;
const timeOf = (i: number): number => base + i * 1000;
const bin = (p: number, i: number): Buffer => Buffer.from([0xff, p, i, 0xfe]);

/** The headers of message i of partition p, as a recording keeps them. */
function recordedHeadersOf(p: number, i: number): Record<string, unknown> {
  return { trace: `t-${p}-${i}`, bin: { $binary: bin(p, i).toString('base64') }, hop: ['a', 'ü'] };
}

async function groups(kafka: KafkaClient): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId);
  } finally {
    await admin.disconnect();
  }
}

describe('streamnorm record', () => {
  const brokers = inject('kafkaBrokers');
  const topic = uniqueName('e2e-record');
  const copy = uniqueName('e2e-record-copy');
  let kafka: KafkaClient;
  let dir: string;
  let groupsBefore: string[];

  const record = (out: string, ...args: string[]) =>
    runCli([
      'record',
      '--brokers',
      brokers,
      '--topic',
      topic,
      '--out',
      join(dir, out),
      '--idle-ms',
      '30000',
      ...args,
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'streamnorm-record-'));
    kafka = testKafka(brokers);
    await createTopic(kafka, topic, PARTITIONS);
    const producer = createProducer(kafka, { allowAutoTopicCreation: false, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (let p = 0; p < PARTITIONS; p++)
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: PER_PARTITION }, (_, i) => ({
            partition: p,
            key: `k${p}`,
            timestamp: String(timeOf(i)),
            value: JSON.stringify({ id: `p${p}-${i}`, ts: timeOf(i), x: [p, i], y: i % 2 }),
            headers: { trace: `t-${p}-${i}`, bin: bin(p, i), hop: ['a', 'ü'] },
          })),
        });
    } finally {
      await producer.disconnect();
    }
    groupsBefore = await groups(kafka);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--from OFFSET --partitions records those partitions from that offset, headers kept', async () => {
    const r = await record('offset.jsonl', '--from', '4', '--partitions', '0,2', '--max-events', '12');
    expect(r.code, r.stderr).toBe(0);
    const lines = readLines(join(dir, 'offset.jsonl'));
    const got = lines.map((l) => `${l.partition}:${l.offset}`).sort();
    const want = [0, 2].flatMap((p) => [4, 5, 6, 7, 8, 9].map((i) => `${p}:${i}`)).sort();
    expect(got).toEqual(want);
    for (const l of lines) {
      const i = Number(l.offset);
      expect(l.value.id).toBe(`p${l.partition}-${i}`);
      expect(l.timestamp).toBe(timeOf(i));
      expect(l.headers).toEqual(recordedHeadersOf(l.partition, i));
    }
    // within a partition, in offset order
    for (const p of [0, 2]) {
      const offs = lines.filter((l) => l.partition === p).map((l) => Number(l.offset));
      expect(offs).toEqual([...offs].sort((a, b) => a - b));
    }
  });

  it('--from TIME (ISO-8601 and epoch ms) starts each partition at the first message at or after it', async () => {
    for (const [file, from] of [
      ['iso.jsonl', new Date(timeOf(7)).toISOString()],
      ['ms.jsonl', String(timeOf(7) - 500)],
    ]) {
      const r = await record(file, '--from', from, '--max-events', String(3 * PARTITIONS));
      expect(r.code, r.stderr).toBe(0);
      const got = readLines(join(dir, file))
        .map((l) => `${l.partition}:${l.offset}`)
        .sort();
      const want = [0, 1, 2].flatMap((p) => [7, 8, 9].map((i) => `${p}:${i}`)).sort();
      expect(got, from).toEqual(want);
    }
  });

  it('--from end records only what arrives after it started', async () => {
    const running = record('end.jsonl', '--from', 'end', '--partitions', '1', '--max-events', '2');
    let exited = false;
    void running.then(() => (exited = true));
    // one new message a second into partition 1 until the recorder has two (bounded: 90 at most)
    const producer = createProducer(kafka, { allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < 90 && !exited; i++) {
        await producer.send({
          topic,
          acks: -1,
          messages: [
            { partition: 1, value: JSON.stringify({ id: `late-${i}`, ts: Date.now(), x: [1, i], y: 1 }) },
          ],
        });
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await producer.disconnect();
    }
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    const lines = readLines(join(dir, 'end.jsonl'));
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.partition === 1 && l.value.id.startsWith('late-'))).toBe(true);
    expect(Number(lines[0].offset)).toBeGreaterThanOrEqual(PER_PARTITION);
    expect(Number(lines[1].offset)).toBe(Number(lines[0].offset) + 1);
    expect(lines[0].headers).toBeUndefined();
  });

  it('without --group, no consumer group is left on the broker', async () => {
    const after = await groups(kafka);
    const left = after.filter((g) => !groupsBefore.includes(g));
    expect(left).toEqual([]);
  });

  it('--group resumes where the last record with that group stopped and commits where it stopped', async () => {
    const group = uniqueName('e2e-recorder');
    const first = await record('g1.jsonl', '--group', group, '--partitions', '1', '--max-events', '4');
    expect(first.code, first.stderr).toBe(0);
    expect(readLines(join(dir, 'g1.jsonl')).map((l) => l.offset)).toEqual(['0', '1', '2', '3']);
    const second = await record('g2.jsonl', '--group', group, '--partitions', '1', '--max-events', '6');
    expect(second.code, second.stderr).toBe(0);
    expect(readLines(join(dir, 'g2.jsonl')).map((l) => l.offset)).toEqual(['4', '5', '6', '7', '8', '9']);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [res] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      expect(res.partitions.find((p) => p.partition === 1)?.offset).toBe('10');
    } finally {
      await admin.disconnect();
    }
    expect(await groups(kafka)).toContain(group);
  });

  it('replay --to-topic sends the recorded headers again', async () => {
    const r = await runCli([
      'replay',
      '--input',
      join(dir, 'offset.jsonl'),
      '--to-topic',
      copy,
      '--brokers',
      brokers,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const back = await runCli([
      'record',
      '--brokers',
      brokers,
      '--topic',
      copy,
      '--out',
      join(dir, 'copy.jsonl'),
      '--idle-ms',
      '30000',
      '--max-events',
      '12',
    ]);
    expect(back.code, back.stderr).toBe(0);
    const lines = readLines(join(dir, 'copy.jsonl'));
    expect(lines).toHaveLength(12);
    for (const l of lines) {
      const [p, i] = l.value.id.slice(1).split('-').map(Number);
      expect(l.headers, l.value.id).toEqual(recordedHeadersOf(p, i));
    }
  });

  it('refuses a partition the topic does not have, naming the ones it has', async () => {
    const r = await record('none.jsonl', '--partitions', '7');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no partition 7 \(it has 0, 1, 2\)/);
  });
});
