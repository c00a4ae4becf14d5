/**
 * Hostile input: nothing recurses on the depth of a message, recordings are split in linear time with a
 * maximum line size, and a recording line and a Kafka message with the same bytes decode the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import {
  createEventDecoder,
  decodeEvents,
  isDeadLetter,
  type Decoded,
} from '../../../src/streams/decodeEvents.js';
import type { RawMessage } from '../../../src/streams/event.js';
import { fromRecording, recordingLineOf } from '../../../src/streams/fromRecording.js';
import { boundedStringify, compactJson, memberSpans } from '../../../src/streams/jsonText.js';
import { LineSplitter } from '../../../src/streams/lineSplitter.js';
import { recordingLine } from '../../../src/streams/recordedMessage.js';
import { toRecording } from '../../../src/streams/toRecording.js';
import { raw } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sn-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
const outcome = (d: Decoded): unknown =>
  isDeadLetter(d) ? { reason: d.reason, detail: d.detail, raw: d.raw } : { event: d.event };

describe('no recursion on input depth', () => {
  it('5,000 nested [ in x is a dead letter with a reason, from bytes, from text and as a parsed value', () => {
    const text = `{"id":"a","ts":1,"x":${deep(5000)}}`;
    for (const value of [Buffer.from(text), text, JSON.parse(text) as unknown]) {
      const d = createEventDecoder().decode(raw(value, 0));
      expect(isDeadLetter(d)).toBe(true);
      if (isDeadLetter(d)) {
        expect(d.reason).toBe('bad_shape');
        expect(d.raw.length).toBeGreaterThan(0);
      }
    }
  });

  it('a deep extra field is accepted the same from bytes and as a parsed value; a deep non-object is refused', () => {
    const text = `{"id":"a","ts":1,"x":[1,2],"extra":${deep(100_000)}}`;
    for (const value of [Buffer.from(text), JSON.parse(text) as unknown]) {
      const d = createEventDecoder().decode(raw(value, 0));
      expect(outcome(d)).toEqual({ event: { id: 'a', ts: 1, x: [1, 2] } });
    }
    const arr = createEventDecoder().decode(raw(JSON.parse(deep(100_000)) as unknown, 0));
    expect(isDeadLetter(arr) && arr.reason).toBe('not_object');
    expect(isDeadLetter(arr) && arr.raw.startsWith('[[[[')).toBe(true);
  });

  it('a deep parsed value over maxBytes is oversized, measured only up to the limit', () => {
    const d = createEventDecoder({ maxBytes: 1000 }).decode(raw(JSON.parse(deep(200_000)) as unknown, 0));
    expect(isDeadLetter(d) && d.reason).toBe('oversized');
  });

  it('boundedStringify equals JSON.stringify on ordinary values, and cuts deep ones without a RangeError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(boundedStringify(v)).toBe(JSON.stringify(v));
      }),
    );
    const v = { a: [1, undefined, () => 1, 'x'], b: undefined, d: new Date(0), n: NaN };
    expect(boundedStringify(v)).toBe(JSON.stringify(v));
    expect(boundedStringify(JSON.parse(deep(100_000)))).toBe(deep(100_000));
    expect(boundedStringify(JSON.parse(deep(100_000)), 10)).toBe('[[[[[[[[[[');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(boundedStringify(cyclic)).toBe('{"a":1,"self":"[Circular]"}');
  });

  it('compactJson removes only whitespace between tokens; memberSpans finds top-level members', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const pretty = JSON.stringify(v, null, 2);
        expect(compactJson(pretty)).toBe(JSON.stringify(v));
      }),
    );
    expect(compactJson('{"a": "x y\\" z" ,\n "b" : [ 1 , 2 ] }')).toBe('{"a":"x y\\" z","b":[1,2]}');
    expect(compactJson('{bad')).toBeNull();
    const line = `{"topic":"t","value":{"s":"}],\\"{","deep":${deep(50_000)}} , "key" : null}`;
    const spans = memberSpans(line)!;
    expect([...spans.keys()]).toEqual(['topic', 'value', 'key']);
    const [s, e] = spans.get('value')!;
    expect(line.slice(s, e)).toBe(`{"s":"}],\\"{","deep":${deep(50_000)}}`);
    for (const bad of ['[1]', '{"a":1', '{"a" 1}', '{"a":}', '{"a":1}x', '{"a":1]'])
      expect(memberSpans(bad)).toBeNull();
  });

  it('toRecording writes, and fromRecording reads back, a value nested 100,000 deep', async () => {
    const path = join(dir, 'deep.jsonl');
    const text = `{"id":"a","ts":1,"x":[1,2],"y":1,"extra":${deep(100_000)}}`;
    const deepX = `{"id":"b","ts":1,"x":${deep(5000)}}`;
    await lastValueFrom(from([raw(Buffer.from(text), 0), raw(deepX, 1)]).pipe(toRecording(path), toArray()));
    const back = await firstValueFrom(fromRecording(path).pipe(decodeEvents(), toArray()));
    expect(back.map(outcome)).toEqual([
      { event: { id: 'a', ts: 1, x: [1, 2], y: 1 } },
      outcome(createEventDecoder().decode(raw(deepX, 1))),
    ]);
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(3);
  });
});

describe('one decode path: a recording line and a Kafka message with the same bytes decode the same way', () => {
  const payloads = [
    '{"id":"a","ts":1,"x":[1,2,3],"y":1}',
    '{ "id" : "b", "ts": 2, "x": [[1, 2], [3, 4]], "y": 0, "key": "k" }',
    '{"id":"c","ts":3,"x":{"indices":[0,5],"values":[0.5,-1]}}',
    `{"id":"d","ts":4,"x":[1],"deep":${deep(5000)}}`,
    `{"id":"e","ts":5,"x":${deep(5000)}}`,
    '{"__proto__":{"polluted":true},"constructor":{"prototype":{"p":1}},"id":"f","ts":6,"x":[1]}',
    '{"id":"g","ts":7,"x":[1e308,-1e308,5e-324],"y":1}',
    '{"id":"h","ts":8,"x":[1,"2"]}',
    '{"id":"i","ts":9,"x":[1],"y":1e400}',
    '{"id":"j\\u0000\\ud83d\\ude00","ts":10,"x":[1]}',
    '{"id":"k","ts":11,"x":[]}',
    '[1,2,3]',
    '{"id":"l","ts":12}',
    '{"id":"m","ts":13,"x":[1], "x":[1,2]}',
  ];

  it('each payload, as Kafka bytes and as the value of a recording line (written by hand and by toRecording)', async () => {
    const byHand = join(dir, 'hand.jsonl');
    writeFileSync(
      byHand,
      payloads
        .map((p, i) => `{"topic":"t","partition":0,"offset":"${i}","timestamp":${i},"key":null,"value":${p}}`)
        .join('\n'),
    );
    const written = join(dir, 'written.jsonl');
    const kafka = payloads.map((p, i) => raw(Buffer.from(p), i));
    await lastValueFrom(from(kafka).pipe(toRecording(written), toArray()));
    // A fresh decoder per message (shape inference would tie the messages to the first one's shape).
    const decodeEach = (ms: RawMessage[]) => ms.map((m) => outcome(createEventDecoder().decode(m)));
    const fromKafka = decodeEach(kafka);
    const hand = await firstValueFrom(fromRecording(byHand).pipe(toArray()));
    const rec = await firstValueFrom(fromRecording(written).pipe(toArray()));
    // The raw text of a dead letter is the value's text: compact when written by toRecording.
    const noRaw = (o: unknown) => ({ ...(o as object), raw: undefined });
    expect(decodeEach(hand)).toEqual(fromKafka);
    expect(decodeEach(rec).map(noRaw)).toEqual(fromKafka.map(noRaw));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(fromKafka.filter((o) => 'event' in (o as object))).toHaveLength(8);
  });

  it('a recording line built by recordingLine is valid JSON Lines for any message', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), fc.option(fc.string(), { nil: null }), (v, s, key) => {
        for (const value of [JSON.stringify(v), s, Buffer.from(s), v]) {
          const line = recordingLine({ ...raw(value, 7), key });
          expect(line).not.toContain('\n');
          expect(JSON.parse(line)).toMatchObject({ topic: 't', partition: 0, offset: '7', key });
        }
      }),
    );
  });
});

describe('recordings: linear line splitting with a maximum line size', () => {
  it('a 40 MB line in 64 KiB chunks is scanned once and joined once (the old splitter re-scanned it per chunk)', () => {
    const total = 40 << 20;
    const chunk = 1 << 16;
    const piece = 'x'.repeat(chunk);
    const s = new LineSplitter({ maxChars: 64 << 20 });
    const lines = [];
    for (let off = 0; off < total; off += chunk) lines.push(...s.push(piece));
    lines.push(...s.push('\nnext\n'));
    expect(lines.map((l) => ('text' in l ? l.text.length : -1))).toEqual([total, 4]);
    expect(s.scanned).toBe(total + 6);
    expect(s.joined).toBe(total);
    // What re-splitting the accumulated text on every chunk scans: quadratic, 640 chunks × 20 MB on average.
    const chunks = total / chunk;
    const quadratic = (chunk * chunks * (chunks + 1)) / 2;
    expect(s.scanned * 100).toBeLessThan(quadratic);
  });

  it('a line over maxChars is skipped as it streams by and reported with its line number, length and head', () => {
    const s = new LineSplitter({ maxChars: 10, headChars: 4 });
    const out = [...s.push('ok\r\nabcdefgh'), ...s.push('ijklmn'), ...s.push('opq\nlast')];
    const end = s.end();
    expect(out).toEqual([
      { lineNo: 1, text: 'ok' },
      { lineNo: 2, tooLong: true, chars: 17, head: 'abcd' },
    ]);
    expect(end).toEqual({ lineNo: 3, text: 'last' });
    expect(s.end()).toBeNull();
  });

  it('fromRecording: a 40 MB line is an oversized dead letter with its line number; the lines around it decode', async () => {
    const path = join(dir, 'long.jsonl');
    const good = (i: number) =>
      JSON.stringify({
        topic: 't',
        partition: 0,
        offset: String(i),
        timestamp: i,
        key: null,
        value: { id: `e${i}`, ts: i, x: [i] },
      });
    const long = JSON.stringify({
      topic: 't',
      partition: 0,
      offset: '1',
      timestamp: 1,
      key: null,
      value: { id: 'big', ts: 1, x: [1], pad: 'y'.repeat(40 << 20) },
    });
    writeFileSync(path, [good(0), long, good(2)].join('\n') + '\n');
    let stats = { scanned: 0, joined: 0, lines: 0 };
    const out = await firstValueFrom(
      fromRecording(path, { onStats: (s) => (stats = s) }).pipe(decodeEvents(), toArray()),
    );
    expect(out.map((d) => (isDeadLetter(d) ? `dead:${d.reason}` : `event:${d.event.id}`))).toEqual([
      'event:e0',
      'dead:oversized',
      'event:e2',
    ]);
    const dl = out[1];
    if (!isDeadLetter(dl)) throw new Error('expected a dead letter');
    expect(dl.detail).toBe(`recording line 2 is ${long.length} characters > maxLineChars ${8 << 20}`);
    expect(dl.raw).toBe(long.slice(0, 256));
    expect(recordingLineOf(dl.origin)).toBe(2);
    expect(recordingLineOf(out[2].origin)).toBe(3);
    const size = long.length + 2 * good(0).length + 3;
    expect(stats.scanned).toBe(size);
    expect(stats.joined).toBeLessThanOrEqual(2 * good(0).length);

    // With room for it, the line is read (joined once) and decoded.
    const read = await firstValueFrom(
      fromRecording(path, { maxLineChars: 64 << 20, onStats: (s) => (stats = s) }).pipe(
        decodeEvents({ maxBytes: 64 << 20 }),
        toArray(),
      ),
    );
    expect(read.map((d) => (isDeadLetter(d) ? d.reason : d.event.id))).toEqual(['e0', 'big', 'e2']);
    expect(stats.scanned).toBe(size);
    expect(stats.joined).toBeLessThanOrEqual(long.length + 2 * good(0).length);
  }, 60_000);
});
