import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { isRecordedHeaders, messageHeaders, recordedHeaders } from '../../../src/streams/recordedHeaders.js';
import {
  asRecordedMessage,
  fromRecordedMessage,
  parseRecordingLine,
  recordingLine,
  toRecordedMessage,
} from '../../../src/streams/recordedMessage.js';
import type { RawMessage } from '../../../src/streams/event.js';

const origin = { topic: 't', partition: 1, offset: '7', timestamp: 1000 };
const value = JSON.stringify({ id: 'a', ts: 1, x: [1, 2], y: 1 });

const validRecordingLine = new Ajv2020({ strict: true, allErrors: true }).compile(
  JSON.parse(
    readFileSync(new URL('../../../docs/schemas/recording.schema.json', import.meta.url), 'utf8'),
  ) as object,
);

describe('recorded headers', () => {
  it('keep UTF-8 values as text, other bytes as $binary, and repeated keys as arrays', () => {
    const h = recordedHeaders({
      trace: Buffer.from('abc-ü'),
      raw: Buffer.from([0xff, 0x00, 0xfe]),
      many: [Buffer.from('1'), Buffer.from([0xc3])],
      gone: undefined,
    });
    expect(h).toEqual({
      trace: 'abc-ü',
      raw: { $binary: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') },
      many: ['1', { $binary: Buffer.from([0xc3]).toString('base64') }],
    });
    const back = messageHeaders(h!);
    expect(back.trace).toBe('abc-ü');
    expect(Buffer.from(back.raw as Buffer).equals(Buffer.from([0xff, 0x00, 0xfe]))).toBe(true);
    expect((back.many as (string | Buffer)[])[0]).toBe('1');
    expect(Buffer.from((back.many as Buffer[])[1]).equals(Buffer.from([0xc3]))).toBe(true);
  });

  it('no headers (or only undefined ones) record as no `headers` member', () => {
    expect(recordedHeaders(undefined)).toBeUndefined();
    expect(recordedHeaders({})).toBeUndefined();
    expect(recordedHeaders({ a: undefined })).toBeUndefined();
    const line = recordingLine({ origin, key: 'k', value: Buffer.from(value), receivedAt: 0 });
    expect(line).not.toContain('headers');
    expect(parseRecordingLine(line, 0)?.headers).toBeUndefined();
  });

  it('a recording line keeps the headers and reads them back as the bytes they were', () => {
    const m: RawMessage = {
      origin,
      key: 'k',
      value: Buffer.from(value),
      headers: { trace: Buffer.from('x'), bin: Buffer.from([0x80]) },
      receivedAt: 0,
    };
    const line = recordingLine(m);
    const json = JSON.parse(line) as Record<string, unknown>;
    expect(json.headers).toEqual({ trace: 'x', bin: { $binary: 'gA==' } });
    expect(validRecordingLine(json)).toBe(true);
    const back = parseRecordingLine(line, 0)!;
    expect(back.headers?.trace).toBe('x');
    expect(Buffer.from(back.headers?.bin as Buffer).equals(Buffer.from([0x80]))).toBe(true);
    expect(back.value).toBe(value);
    // the object form agrees with the line form
    const rec = toRecordedMessage(m);
    expect(rec.headers).toEqual(json.headers);
    expect(fromRecordedMessage(rec, 0).headers?.trace).toBe('x');
  });

  it('the reader and recording.schema.json agree on which headers are valid', () => {
    const cases: unknown[] = [
      { a: 'x' },
      { a: ['x', 'y'] },
      { a: { $binary: 'AAE=' } },
      { a: [{ $binary: 'AAE=' }, 'z'] },
      {},
      { a: 1 },
      { a: null },
      { a: { $binary: 'not base64!' } },
      { a: { $binary: 'AA==', extra: 1 } },
      { a: [['nested']] },
      'text',
      ['x'],
    ];
    for (const headers of cases) {
      const line = { ...origin, key: null, headers, value: JSON.parse(value) as unknown };
      const readable = asRecordedMessage(line) !== null;
      expect(readable, JSON.stringify(headers)).toBe(isRecordedHeaders(headers));
      expect(validRecordingLine(line), JSON.stringify(headers)).toBe(readable);
      expect(parseRecordingLine(JSON.stringify(line), 0) !== null, JSON.stringify(headers)).toBe(readable);
    }
  });
});
