import { describe, expect, it } from 'vitest';
import { firstValueFrom, from, toArray } from 'rxjs';
import { ConfigError } from '../../../src/errors.js';
import { MemoryDeadLetterSink } from '../../../src/streams/deadLetters.js';
import {
  createEventDecoder,
  decodeEvents,
  isDeadLetter,
  type Decoded,
} from '../../../src/streams/decodeEvents.js';
import type { DeadLetter, Envelope } from '../../../src/streams/event.js';
import { raw } from './helpers.js';

const vec = (x: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'a', ts: 1, x, y: 1, ...extra });

function reasonOf(d: Decoded): string {
  return isDeadLetter(d) ? d.reason : 'ok';
}

describe('decodeEvents', () => {
  const schema = { x: { kind: 'vector', dim: 2 } as const, label: { classes: 2 }, maxBytes: 200 };

  it.each([
    ['valid string', vec([1, 2]), 'ok'],
    ['valid bytes', Buffer.from(vec([1, 2])), 'ok'],
    ['valid parsed object', { id: 'a', ts: 1, x: [1, 2] }, 'ok'],
    ['bad json', '{"id":', 'bad_json'],
    ['NaN literal is bad json', '{"id":"a","ts":1,"x":[NaN,1]}', 'bad_json'],
    ['a number', '42', 'not_object'],
    ['an array', '[1,2]', 'not_object'],
    ['tombstone', null, 'not_object'],
    ['missing id', JSON.stringify({ ts: 1, x: [1, 2] }), 'missing_field'],
    ['missing ts', JSON.stringify({ id: 'a', x: [1, 2] }), 'missing_field'],
    ['missing x', JSON.stringify({ id: 'a', ts: 1 }), 'missing_field'],
    ['numeric id', JSON.stringify({ id: 3, ts: 1, x: [1, 2] }), 'bad_shape'],
    ['wrong dim', vec([1, 2, 3]), 'bad_shape'],
    ['window instead of vector', vec([[1], [2]]), 'bad_shape'],
    ['string element', vec([1, 'a']), 'bad_shape'],
    ['empty x', vec([]), 'bad_shape'],
    ['overflow to Infinity', '{"id":"a","ts":1,"x":[1e999,1]}', 'non_finite'],
    ['null element (serialized NaN)', vec([null, 1]), 'non_finite'],
    ['NaN in parsed value', { id: 'a', ts: 1, x: [NaN, 1] }, 'non_finite'],
    ['label out of range', vec([1, 2], { y: 2 }), 'bad_label'],
    ['fractional label', vec([1, 2], { y: 0.5 }), 'bad_label'],
    ['string label', vec([1, 2], { y: '1' }), 'bad_label'],
    ['oversized string', vec([1, 2], { pad: 'x'.repeat(300) }), 'oversized'],
    ['oversized bytes', Buffer.from(vec([1, 2], { pad: 'x'.repeat(300) })), 'oversized'],
    ['oversized parsed', { id: 'a', ts: 1, x: [1, 2], pad: 'x'.repeat(300) }, 'oversized'],
    ['binary garbage', Buffer.from([0xff, 0xfe, 0x00, 0x81, 0xc3]), 'binary'],
  ])('%s -> %s', (_name, value, reason) => {
    const d = createEventDecoder(schema).decode(raw(value, 7));
    expect(reasonOf(d)).toBe(reason);
    if (isDeadLetter(d)) {
      expect(d.origin.offset).toBe('7');
      expect(d.detail.length).toBeGreaterThan(0);
      expect(typeof d.raw).toBe('string');
    }
  });

  it('keeps only the known fields of an event and its origin', () => {
    const d = createEventDecoder(schema).decode(raw(vec([1, 2], { key: 'k', extra: 1 }), 3)) as Envelope;
    expect(d.event).toEqual({ id: 'a', ts: 1, x: [1, 2], y: 1, key: 'k' });
    expect(d.origin).toEqual({ topic: 't', partition: 0, offset: '3', timestamp: 1003 });
  });

  it('shows binary raw values as base64 in the dead letter', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x10]);
    const d = createEventDecoder().decode(raw(bytes, 0)) as DeadLetter;
    expect(d.raw).toBe('base64:' + bytes.toString('base64'));
  });

  it('validates windows and sparse vectors', () => {
    const w = createEventDecoder({ x: { kind: 'window', shape: [2, 3] } });
    expect(
      reasonOf(
        w.decode(
          raw(
            vec([
              [1, 2, 3],
              [4, 5, 6],
            ]),
            0,
          ),
        ),
      ),
    ).toBe('ok');
    expect(
      reasonOf(
        w.decode(
          raw(
            vec([
              [1, 2, 3],
              [4, 5],
            ]),
            1,
          ),
        ),
      ),
    ).toBe('bad_shape');
    expect(
      reasonOf(
        w.decode(
          raw(
            vec([
              [1, 2],
              [4, 5],
            ]),
            2,
          ),
        ),
      ),
    ).toBe('bad_shape');
    const s = createEventDecoder({ x: { kind: 'sparse', dim: 10 } });
    expect(reasonOf(s.decode(raw(vec({ indices: [1, 9], values: [0.5, 2] }), 0)))).toBe('ok');
    expect(reasonOf(s.decode(raw(vec({ indices: [10], values: [1] }), 1)))).toBe('bad_shape');
    expect(reasonOf(s.decode(raw(vec({ indices: [1.5], values: [1] }), 2)))).toBe('bad_shape');
    expect(reasonOf(s.decode(raw(vec({ indices: [1, 2], values: [1] }), 3)))).toBe('bad_shape');
    expect(reasonOf(s.decode(raw(vec({ indices: [1], values: [null] }), 4)))).toBe('non_finite');
  });

  it('infers the shape from the first valid event and holds later events to it', () => {
    const d = createEventDecoder({ x: 'infer' });
    expect(d.shape).toBeNull();
    expect(reasonOf(d.decode(raw('garbage', 0)))).toBe('bad_json');
    expect(d.shape).toBeNull();
    expect(
      reasonOf(
        d.decode(
          raw(
            vec([
              [1, 2],
              [3, 4],
            ]),
            1,
          ),
        ),
      ),
    ).toBe('ok');
    expect(d.shape).toEqual({ kind: 'window', shape: [2, 2] });
    expect(reasonOf(d.decode(raw(vec([1, 2]), 2)))).toBe('bad_shape');
    expect(
      reasonOf(
        d.decode(
          raw(
            vec([
              [5, 6],
              [7, 8],
            ]),
            3,
          ),
        ),
      ),
    ).toBe('ok');
  });

  it('requires labels when told to, and checks regression ranges', () => {
    const d = createEventDecoder({ label: { required: true, min: -1, max: 1 } });
    expect(reasonOf(d.decode(raw(JSON.stringify({ id: 'a', ts: 1, x: [1] }), 0)))).toBe('missing_field');
    expect(reasonOf(d.decode(raw(vec([1], { y: 0.25 }), 1)))).toBe('ok');
    expect(reasonOf(d.decode(raw(vec([1], { y: 1.5 }), 2)))).toBe('bad_label');
    const optional = createEventDecoder();
    const e = optional.decode(raw(JSON.stringify({ id: 'a', ts: 1, x: [1] }), 0)) as Envelope;
    expect(e.event.y).toBeUndefined();
  });

  it('rejects a bad schema at construction, naming the value', () => {
    expect(() => decodeEvents({ x: { kind: 'vector', dim: 0 } })).toThrow(
      /dim must be a positive integer, got 0/,
    );
    expect(() => decodeEvents({ label: { classes: 1 } })).toThrow(ConfigError);
    expect(() => decodeEvents({ maxBytes: NaN })).toThrow(/maxBytes.*NaN/);
  });

  it('emits one outcome per message, keeps arrival batches as arrays, and feeds the dead-letter sink', async () => {
    const sink = new MemoryDeadLetterSink();
    const single = await firstValueFrom(
      from([raw(vec([1, 2]), 0), raw('bad', 1), raw(vec([3, 4]), 2)]).pipe(
        decodeEvents(schema, { deadLetters: sink }),
        toArray(),
      ),
    );
    expect(single.map(reasonOf)).toEqual(['ok', 'bad_json', 'ok']);
    expect(sink.letters.map((l) => l.origin.offset)).toEqual(['1']);
    const batches = await firstValueFrom(
      from([[raw(vec([1, 2]), 0), raw('{', 1)], [raw(vec([1, 2, 3]), 2)]]).pipe(
        decodeEvents(schema),
        toArray(),
      ),
    );
    expect(batches.map((b) => b.map(reasonOf))).toEqual([['ok', 'bad_json'], ['bad_shape']]);
  });
});
