/**
 * parseFlatJson: the decoder's fast path for flat message values. Whatever it returns must be exactly what
 * JSON.parse gives for the same text (member order, and every number to the bit, -0 included); whatever it
 * cannot read exactly it must decline (undefined), valid JSON or not. And it must take the values a live
 * stream carries, or it saves nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFlatJson } from '../../../src/streams/flatJson.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Same JSON value: same member order, numbers equal by Object.is (so 0 ≠ -0 and NaN never appears). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i]));
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every(
        (k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return a === b;
}

/** parseFlatJson agrees with JSON.parse on `text` or declines it. Returns whether it took it. */
function agrees(text: string): boolean {
  const fast = parseFlatJson(bytes(text));
  if (fast === undefined) return false;
  let slow: unknown;
  expect(() => (slow = JSON.parse(text)), `fast path accepted invalid JSON ${text}`).not.toThrow();
  expect(same(fast, slow), `${text}: ${JSON.stringify(fast)} vs ${JSON.stringify(slow)}`).toBe(true);
  return true;
}

/** Valid JSON number texts in every form the grammar allows. */
const numberText = fc
  .record({
    negative: fc.boolean(),
    int: fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,24}$/)),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,24}$/), { nil: undefined }),
    exponent: fc.option(
      fc.record({
        e: fc.constantFrom('e', 'E'),
        sign: fc.constantFrom('', '+', '-'),
        digits: fc.oneof(fc.stringMatching(/^[0-9]{1,2}$/), fc.stringMatching(/^[0-9]{1,5}$/)),
      }),
      { nil: undefined },
    ),
  })
  .map(
    ({ negative, int, fraction, exponent }) =>
      `${negative ? '-' : ''}${int}${fraction === undefined ? '' : '.' + fraction}` +
      (exponent === undefined ? '' : exponent.e + exponent.sign + exponent.digits),
  );

/** Doubles as JavaScript and other writers print them: shortest round trip, fixed and exponential forms. */
const doubleText = fc
  .tuple(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: 0, max: 20 }),
    fc.constantFrom('string', 'fixed', 'exponential', 'precision'),
  )
  .map(([d, k, form]) => {
    const text =
      form === 'fixed' && Math.abs(d) < 1e21
        ? d.toFixed(k)
        : form === 'exponential'
          ? d.toExponential(k)
          : form === 'precision'
            ? d.toPrecision(k + 1)
            : String(d);
    return text.replace('e+', 'e');
  });

describe('parseFlatJson', () => {
  it('takes the dense events a live stream carries', () => {
    for (const text of [
      '{"id":"e1","ts":1700000000001,"x":[0.3616,0.6743,0.8957,0.9959,0.9613,0.7966,0.524,0.1806],"y":1}',
      '{"id":"e0","ts":1700000000000,"x":[0,0,0,0,0,0,0,0],"y":0}',
      '{ "id" : "sensor-3:41", "ts" : 1.7e12, "x" : [ -1.5e-7 , 2E+3, -0, 0.1 ] , "y" : -2.25, "key": "m3" }\n',
      '{"x":[],"id":"a","ts":0}',
      '{}',
      // An image's 784 pixels, past the scratch buffer's first size, then a short array again.
      `{"id":"m","x":[${Array.from({ length: 784 }, (_, i) => (i * 0.37) % 1).join(',')}],"y":7}`,
      '{"id":"n","x":[1.25,-3],"y":1}',
    ])
      expect(agrees(text), text).toBe(true);
  });

  it('reads every JSON number exactly as JSON.parse does, to the bit', () => {
    fc.assert(
      fc.property(fc.oneof(numberText, doubleText), (n) => {
        expect(agrees(`{"v":${n},"x":[${n},1,${n}]}`), n).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('whatever JSON.stringify writes is read exactly, or declined', () => {
    const leaf = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(fc.double({ noNaN: true })),
      fc.array(leaf),
      fc.dictionary(fc.string(), leaf),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'id', 'x')), value),
        (o) => {
          agrees(JSON.stringify(o));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('never accepts text JSON.parse rejects, and agrees on whatever it accepts', () => {
    const alphabet = [...'{}[]":,-+.eE0123456789 \n\tab\\/u'].map((c) => fc.constant(c));
    const piece = fc.oneof(
      fc.oneof(...alphabet),
      fc.constantFrom(
        '"id":',
        '"x":[',
        '1.5',
        '-0',
        '1e5',
        '"a"',
        '"x"',
        'true',
        'null',
        '{"',
        '\u00e9',
        '\u0001',
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        agrees(parts.join(''));
        agrees(`{${parts.join('')}}`);
        agrees(`{"x":[${parts.join('')}]}`);
      }),
      { numRuns: 20_000 },
    );
  });

  it('declines what it cannot read exactly, whether JSON.parse takes it or not', () => {
    for (const text of [
      '{"a":{"b":1}}', // nested object
      '{"a":[[1]]}', // nested array
      '{"a":"\\u0041"}', // escape
      '{"a":"\u00e9"}', // non-ASCII
      '{"a":true}',
      '{"a":null}',
      '{"a":1,"a":2}', // duplicate member: JSON.parse keeps the last
      '{"__proto__":1}',
      '[1,2]',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":1e}',
      '{"a":-}',
      '{"a":1,}',
      '{"a":[1,]}',
      '{"a" 1}',
      '{"a":1}x',
      '{"a":1',
      '',
    ])
      expect(parseFlatJson(bytes(text)), text).toBeUndefined();
  });
});
