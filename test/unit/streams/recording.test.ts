import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Subject, firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors.js';
import { decodeEvents, isDeadLetter, type Decoded } from '../../../src/streams/decodeEvents.js';
import type { RawMessage } from '../../../src/streams/event.js';
import { fromRecording } from '../../../src/streams/fromRecording.js';
import { toRecording } from '../../../src/streams/toRecording.js';
import { raw } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sn-rec-'));
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

const strip = (m: RawMessage) => ({ origin: m.origin, key: m.key, value: m.value });
const outcome = (d: Decoded) => (isDeadLetter(d) ? `dead:${d.reason}` : `event:${d.event.id}`);
const line = (offset: number, timestamp: number, value: unknown) =>
  JSON.stringify({ topic: 'r', partition: 0, offset: String(offset), timestamp, key: null, value });

/** Let real I/O run (setImmediate and Date are not faked) until `cond` holds, for at most 5 s of wall time. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); // and a few more turns
  expect(cond()).toBe(true);
}

describe('toRecording / fromRecording', () => {
  const messages: RawMessage[] = [
    { ...raw(JSON.stringify({ id: 'a', ts: 5, x: [1, 2], y: 1 }), 0), key: 'k1' },
    raw(Buffer.from(JSON.stringify({ id: 'b', ts: 6, x: [[1], [2]] })), 1),
    raw({ id: 'c', ts: 7, x: { indices: [3], values: [0.25] } }, 2),
    raw('{"id":"d","ts":', 3),
    raw(Buffer.from([0xff, 0xfe, 0x00, 0x9f]), 4),
    raw('42', 5),
    raw(Buffer.from('"just a string"'), 6),
    raw(null, 7),
    raw({ id: 'e', ts: 1, x: [1e308, -0.1, 5e-324] }, 8, 3, 'other'),
  ];

  it('round trips: replayed messages decode exactly like the originals, and re-recording is byte-identical', async () => {
    const path = join(dir, 'sub', 'rec.jsonl');
    const passed = await lastValueFrom(
      from([messages.slice(0, 4), messages.slice(4)]).pipe(toRecording(path), toArray()),
    );
    expect(passed.flat()).toEqual(messages); // passes input through unchanged
    const replayed = await firstValueFrom(fromRecording(path).pipe(toArray()));
    expect(replayed.map((m) => m.origin)).toEqual(messages.map((m) => m.origin));
    expect(replayed.map((m) => m.key)).toEqual(messages.map((m) => m.key));
    expect(replayed[4].value).toEqual(messages[4].value); // binary stays binary
    // JSON text is stored as JSON in the line, and replayed as that text: the decoder parses it as it parses Kafka bytes.
    expect(JSON.parse((await readFile(path, 'utf8')).split('\n')[0]).value).toEqual({
      id: 'a',
      ts: 5,
      x: [1, 2],
      y: 1,
    });
    expect(replayed[0].value).toBe('{"id":"a","ts":5,"x":[1,2],"y":1}');
    // A fresh decoder per message: shape inference would otherwise tie later messages to the first one's shape.
    const decode = async (ms: RawMessage[]) =>
      (await Promise.all(ms.map((m) => firstValueFrom(from([m]).pipe(decodeEvents()))))).map(outcome);
    expect(await decode(replayed)).toEqual(await decode(messages));
    expect(await decode(messages)).toEqual([
      'event:a',
      'event:b',
      'event:c',
      'dead:bad_json',
      'dead:binary',
      'dead:not_object',
      'dead:not_object',
      'dead:not_object',
      'event:e',
    ]);
    const again = join(dir, 'again.jsonl');
    await lastValueFrom(fromRecording(path).pipe(toRecording(again), toArray()));
    expect(await readFile(again, 'utf8')).toBe(await readFile(path, 'utf8'));
    expect((await readFile(path, 'utf8')).split('\n').length).toBe(messages.length + 1);
    expect(replayed.map(strip)).toEqual(
      (await firstValueFrom(fromRecording(again).pipe(toArray()))).map(strip),
    );
  });

  it('turns damaged lines into messages that decode to dead letters, and skips blank lines', async () => {
    const path = join(dir, 'bad.jsonl');
    const good = line(0, 10, { id: 'ok', ts: 1, x: [1] });
    await writeFile(
      path,
      [good, 'not json', '', '{"topic":"r"}', '   ', line(1, 11, { id: 'ok2', ts: 1, x: [2] })].join('\r\n'),
    );
    const out = await firstValueFrom(fromRecording(path).pipe(decodeEvents(), toArray()));
    expect(out.map(outcome)).toEqual(['event:ok', 'dead:bad_json', 'dead:missing_field', 'event:ok2']);
    const bad = out[1];
    expect(bad.origin).toEqual({ topic: '_recording', partition: 0, offset: '1', timestamp: 10 });
  });

  it('starts after the given offsets', async () => {
    const path = join(dir, 'off.jsonl');
    await writeFile(
      path,
      [0, 1, 2, 3].map((o) => line(o, o, { id: `e${o}`, ts: o, x: [o] })).join('\n') + '\n',
    );
    const out = await firstValueFrom(fromRecording(path, { startOffsets: { 'r:0': '2' } }).pipe(toArray()));
    expect(out.map((m) => m.origin.offset)).toEqual(['2', '3']);
  });

  it('replays at the original timing divided by speed, never early', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const path = join(dir, 'timed.jsonl');
    await writeFile(
      path,
      [line(0, 1000, {}), line(1, 2000, {}), line(2, 1500, {}), line(3, 4000, {})].join('\n'),
    );
    const got: string[] = [];
    let done = false;
    fromRecording(path, { speed: 2 }).subscribe({
      next: (m) => got.push(m.origin.offset),
      complete: () => (done = true),
    });
    await until(() => got.length === 1);
    vi.advanceTimersByTime(499);
    await until(() => true);
    expect(got).toEqual(['0']);
    vi.advanceTimersByTime(1);
    await until(() => got.length === 3); // offset 2 went back in time: emitted at once
    vi.advanceTimersByTime(999);
    await until(() => true);
    expect(got).toEqual(['0', '1', '2']);
    vi.advanceTimersByTime(1);
    await until(() => done);
    expect(got).toEqual(['0', '1', '2', '3']);
  });

  it('damaged lines do not take part in the timing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const path = join(dir, 'damaged-first.jsonl');
    await writeFile(
      path,
      ['garbage first', line(0, 1_700_000_000_000, {}), 'more garbage', line(1, 1_700_000_000_100, {})].join(
        '\n',
      ),
    );
    const got: string[] = [];
    let done = false;
    fromRecording(path, { speed: 1 }).subscribe({
      next: (m) => got.push(m.origin.offset),
      complete: () => (done = true),
    });
    await until(() => got.length === 3);
    expect(got).toEqual(['0', '0', '2']); // line 0 (damaged), offset 0, line 2 (damaged): no waiting
    vi.advanceTimersByTime(100);
    await until(() => done);
    expect(got).toEqual(['0', '0', '2', '1']);
  });

  it('unsubscribing while waiting cancels the timer and stops reading', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const path = join(dir, 'slow.jsonl');
    await writeFile(path, [line(0, 0, {}), line(1, 60_000, {}), line(2, 120_000, {})].join('\n'));
    const got: string[] = [];
    const sub = fromRecording(path, { speed: 1 }).subscribe((m) => got.push(m.origin.offset));
    await until(() => got.length === 1 && vi.getTimerCount() === 1);
    sub.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(200_000);
    await until(() => true);
    expect(got).toEqual(['0']);
  });

  it('a missing file errors the stream; a bad speed is refused at construction', async () => {
    await expect(firstValueFrom(fromRecording(join(dir, 'nope.jsonl')))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(() => fromRecording('x', { speed: 0 })).toThrow(ConfigError);
    expect(() => fromRecording('x', { speed: NaN })).toThrow(
      /speed must be 'max' or a positive number, got NaN/,
    );
  });

  it('toRecording flushes on unsubscribe and completes only after the file is complete', async () => {
    const path = join(dir, 'partial.jsonl');
    const src = new Subject<RawMessage>();
    let completed = false;
    const sub = src.pipe(toRecording(path)).subscribe({ complete: () => (completed = true) });
    src.next(raw({ id: 'a', ts: 1, x: [1] }, 0));
    sub.unsubscribe();
    await vi.waitFor(async () => expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(1), {
      timeout: 20_000, // the flush is an fsynced write: slow on a loaded machine
    });
    expect(completed).toBe(false);
    const path2 = join(dir, 'full.jsonl');
    const many = Array.from({ length: 2000 }, (_, i) => raw({ id: `e${i}`, ts: i, x: [i] }, i));
    await lastValueFrom(from(many).pipe(toRecording(path2)));
    expect((await readFile(path2, 'utf8')).trim().split('\n')).toHaveLength(2000);
  });
});
