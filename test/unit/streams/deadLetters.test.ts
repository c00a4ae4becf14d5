import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, from, toArray } from 'rxjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeadLetterCounter,
  DETAIL_LOG_CHARS,
  FileDeadLetterSink,
  LoggingDeadLetterSink,
  MemoryDeadLetterSink,
  TeeDeadLetterSink,
  type DeadLetterRecord,
} from '../../../src/streams/deadLetters.js';
import { decodeEvents } from '../../../src/streams/decodeEvents.js';
import { raw } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sn-dl-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dead-letter sinks', () => {
  const poison = [
    raw('{', 0),
    raw(Buffer.from([0xc3, 0x28]), 1),
    raw(JSON.stringify({ id: 'a', ts: 1, x: [1], y: 7 }), 2),
    raw('{}', 3),
  ];

  it('the file sink writes one JSON line per dead letter with its reason, origin and raw value, appending', async () => {
    const path = join(dir, 'sub', 'dead.jsonl');
    const file = await FileDeadLetterSink.create(path);
    const counter = new DeadLetterCounter();
    const memory = new MemoryDeadLetterSink();
    const tee = new TeeDeadLetterSink(file, counter, memory);
    const out = await firstValueFrom(
      from([...poison, raw(JSON.stringify({ id: 'ok', ts: 1, x: [1], y: 1 }), 4)]).pipe(
        decodeEvents({ label: { classes: 2 } }, { deadLetters: tee }),
        toArray(),
      ),
    );
    expect(out).toHaveLength(5);
    await tee.close();
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DeadLetterRecord);
    expect(lines.map((l) => [l.reason, l.offset])).toEqual([
      ['bad_json', '0'],
      ['binary', '1'],
      ['bad_label', '2'],
      ['missing_field', '3'],
    ]);
    expect(lines[0]).toMatchObject({ topic: 't', partition: 0, timestamp: 1000, key: null, raw: '{' });
    expect(lines[1].raw).toBe('base64:' + Buffer.from([0xc3, 0x28]).toString('base64'));
    expect(counter.total).toBe(4);
    expect(counter.counts()).toEqual({ bad_json: 1, bad_label: 1, binary: 1, missing_field: 1 });
    expect(memory.letters.map((l) => l.reason)).toEqual(lines.map((l) => l.reason));

    const again = new FileDeadLetterSink(path);
    again.write(memory.letters[0]);
    await again.close();
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(5);
  });

  it('close reports a write failure instead of throwing from write', async () => {
    const sink = new FileDeadLetterSink(join(dir, 'missing-dir', 'x.jsonl'));
    expect(() =>
      sink.write({
        origin: { topic: 't', partition: 0, offset: '0', timestamp: 0 },
        key: null,
        reason: 'bad_json',
        detail: '',
        raw: '',
      }),
    ).not.toThrow();
    await expect(sink.close()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('the logging sink logs each dead letter with its origin, at most burst per window, then says how many it held back', async () => {
    const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
    let t = 0;
    const sink = new LoggingDeadLetterSink(
      { warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) },
      { burst: 2, windowMs: 1000, now: () => t },
    );
    const letter = (offset: number, detail = 'Unexpected token') => ({
      origin: { topic: 't', partition: 3, offset: String(offset), timestamp: 0 },
      key: null,
      reason: 'bad_json' as const,
      detail,
      raw: 'secret-looking payload',
    });
    for (let i = 0; i < 5; i++) sink.write(letter(i));
    expect(lines.map((l) => l.obj.offset)).toEqual(['0', '1']);
    expect(lines[0].obj).toEqual({
      reason: 'bad_json',
      detail: 'Unexpected token',
      topic: 't',
      partition: 3,
      offset: '0',
    });
    expect(JSON.stringify(lines)).not.toContain('secret-looking payload');
    // the next window first reports the 3 held back, then logs again
    t = 1000;
    sink.write(letter(5, 'x'.repeat(DETAIL_LOG_CHARS + 50)));
    expect(lines[2].obj).toEqual({ suppressed: 3, windowMs: 1000 });
    expect(lines[3].obj.offset).toBe('5');
    expect(lines[3].obj.detail).toBe(`${'x'.repeat(DETAIL_LOG_CHARS)}…`);
    sink.write(letter(6));
    sink.write(letter(7));
    expect(lines).toHaveLength(5);
    await sink.close();
    expect(lines[5].obj).toEqual({ suppressed: 1, windowMs: 1000 });
    await sink.close();
    expect(lines).toHaveLength(6);
  });
});
