/**
 * A fast path for the message values a live stream carries most: one flat JSON object whose members are
 * numbers, plain ASCII strings or arrays of numbers, e.g. `{"id":"e1","ts":1700000000001,"x":[0.36,-0.5],"y":1}`.
 *
 * {@link parseFlatJson} reads such a value straight from the message bytes: no UTF-8 check, no string of the
 * whole value, one pass. Anything outside that subset (nested objects, escapes, non-ASCII bytes, `true`,
 * `null`, a duplicate member, malformed text) returns `undefined`, and the caller parses the value with
 * `JSON.parse` as before. So the result is always exactly what `JSON.parse` gives for the same text, number
 * for number to the bit (the property tests in test/unit/streams/flatJson.test.ts hold it to that).
 *
 * Numbers: a decimal with at most 15 significant digits and a power of ten within ±22 is m·10^k or m/10^k
 * with both operands exact doubles, so one IEEE operation rounds it correctly (Clinger's fast path, as
 * V8's own `StringToDouble` starts); every other number goes through `Number()` on its text, which rounds
 * as `JSON.parse` does.
 */

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];

/** Significant digits whose integer value is exact in a double (10^15 < 2^53). */
const MAX_EXACT_DIGITS = 15;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Shared by all parsers (one parse runs at a time, synchronously); grown by a parser when a value needs more. */
let SCRATCH = new Float64Array(64);

/** Member names seen so far (at most {@link MAX_KEYS} of up to {@link MAX_KEY_BYTES}: a stream's events share a handful). */
const KEYS: { name: string; length: number; bytes: Uint8Array }[] = [];
const MAX_KEYS = 64;
const MAX_KEY_BYTES = 64;

/** Thrown inside the parser when the text leaves the fast subset; never escapes {@link parseFlatJson}. */
const NOT_FLAT = Symbol('not flat');

/**
 * The object `JSON.parse(bytes as UTF-8)` gives, when `bytes` is a flat object of numbers, ASCII strings
 * without escapes and arrays of numbers; `undefined` for every other text, valid or not.
 */
export function parseFlatJson(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    return new FlatParser(bytes).object();
  } catch (err) {
    if (err === NOT_FLAT) return undefined;
    throw err;
  }
}

class FlatParser {
  private i = 0;
  /** The numbers of the array being read. */
  private numbers = SCRATCH;

  constructor(private readonly b: Uint8Array) {}

  object(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    this.space();
    this.expect(OPEN_BRACE);
    this.space();
    if (this.peek() === CLOSE_BRACE) {
      this.i++;
    } else {
      for (;;) {
        this.expect(QUOTE);
        const key = this.key();
        // A duplicate member (JSON.parse keeps the last) and `__proto__` (an own property there, the
        // prototype here) are left to JSON.parse.
        if (key === '__proto__' || o[key] !== undefined) throw NOT_FLAT;
        this.space();
        this.expect(COLON);
        this.space();
        o[key] = this.value();
        this.space();
        const c = this.next();
        if (c === CLOSE_BRACE) break;
        if (c !== COMMA) throw NOT_FLAT;
        this.space();
      }
    }
    this.space();
    if (this.i !== this.b.length) throw NOT_FLAT;
    return o;
  }

  private value(): unknown {
    const c = this.peek();
    if (c === QUOTE) {
      this.i++;
      return this.stringBody();
    }
    if (c === OPEN_BRACKET) {
      this.i++;
      const a: number[] = [];
      this.space();
      if (this.peek() === CLOSE_BRACKET) {
        this.i++;
        return a;
      }
      // The numbers go through a Float64Array, then into the array: a double returned from a call would be
      // boxed into a heap number first.
      let n = 0;
      for (;;) {
        if (n === this.numbers.length) this.grow();
        this.number(this.numbers, n++);
        this.space();
        const d = this.next();
        if (d === CLOSE_BRACKET) break;
        if (d !== COMMA) throw NOT_FLAT;
        this.space();
      }
      const numbers = this.numbers;
      for (let k = 0; k < n; k++) a.push(numbers[k]);
      return a;
    }
    this.number(this.numbers, 0);
    return this.numbers[0];
  }

  private grow(): void {
    const bigger = new Float64Array(this.numbers.length * 2);
    bigger.set(this.numbers);
    this.numbers = SCRATCH = bigger;
  }

  /**
   * A member name: {@link stringBody}, as the same string object every time the same bytes come again (the
   * members of a stream's events repeat), so neither a new string nor a lookup of its hash per member.
   */
  private key(): string {
    const b = this.b;
    const start = this.i;
    let end = start;
    while (end < b.length && b[end] !== QUOTE) end++;
    const length = end - start;
    const keys = KEYS;
    search: for (let e = 0; e < keys.length; e++) {
      const k = keys[e];
      if (k.length !== length) continue;
      for (let j = 0; j < length; j++) if (k.bytes[j] !== b[start + j]) continue search;
      this.i = end + 1;
      return k.name;
    }
    const name = this.stringBody();
    if (keys.length < MAX_KEYS && length <= MAX_KEY_BYTES)
      keys.push({ name, length, bytes: b.slice(start, end) });
    return name;
  }

  /** The characters up to the closing quote: printable ASCII without escapes. */
  private stringBody(): string {
    const b = this.b;
    const start = this.i;
    let i = start;
    for (;;) {
      if (i >= b.length) throw NOT_FLAT;
      const c = b[i];
      if (c === QUOTE) break;
      if (c < 0x20 || c > 0x7e || c === BACKSLASH) throw NOT_FLAT;
      i++;
    }
    this.i = i + 1;
    return latin1(b, start, i);
  }

  /** A JSON number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, written to out[k]. */
  private number(out: Float64Array, k: number): void {
    const b = this.b;
    const start = this.i;
    let i = start;
    const negative = b[i] === MINUS;
    if (negative) i++;
    let mantissa = 0;
    let digits = 0; // significant digits in mantissa (after the leading zeros)
    let scale = 0; // the value is mantissa · 10^(scale + exponent)
    let c = b[i];
    if (c === ZERO) {
      i++;
    } else if (c > ZERO && c <= NINE) {
      while (i < b.length && (c = b[i]) >= ZERO && c <= NINE) {
        if (digits < MAX_EXACT_DIGITS + 1) {
          mantissa = mantissa * 10 + (c - ZERO);
          if (mantissa !== 0) digits++;
        } else {
          digits++;
        }
        i++;
      }
    } else {
      throw NOT_FLAT;
    }
    if (b[i] === DOT) {
      i++;
      const fractionStart = i;
      while (i < b.length && (c = b[i]) >= ZERO && c <= NINE) {
        if (digits < MAX_EXACT_DIGITS + 1) {
          mantissa = mantissa * 10 + (c - ZERO);
          if (mantissa !== 0) digits++;
          scale--;
        } else {
          digits++;
        }
        i++;
      }
      if (i === fractionStart) throw NOT_FLAT;
    }
    let exponent = 0;
    c = b[i];
    if (c === 0x65 || c === 0x45) {
      i++;
      let expNegative = false;
      if (b[i] === MINUS || b[i] === PLUS) expNegative = b[i++] === MINUS;
      const expStart = i;
      while (i < b.length && (c = b[i]) >= ZERO && c <= NINE) {
        // Beyond 9,999 digits of exponent every value is 0 or Infinity; Number() decides which.
        if (exponent < 1e4) exponent = exponent * 10 + (c - ZERO);
        i++;
      }
      if (i === expStart) throw NOT_FLAT;
      if (expNegative) exponent = -exponent;
    }
    this.i = i;
    const p = scale + exponent;
    if (digits <= MAX_EXACT_DIGITS && p >= -22 && p <= 22) {
      const v = mantissa === 0 ? 0 : p >= 0 ? mantissa * POW10[p] : mantissa / POW10[-p];
      out[k] = negative ? -v : v;
    } else {
      out[k] = Number(latin1(b, start, i));
    }
  }

  private space(): void {
    const b = this.b;
    let i = this.i;
    while (i < b.length) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.i = i;
  }

  private peek(): number {
    return this.i < this.b.length ? this.b[this.i] : -1;
  }

  private next(): number {
    return this.i < this.b.length ? this.b[this.i++] : -1;
  }

  private expect(c: number): void {
    if (this.next() !== c) throw NOT_FLAT;
  }
}

/** The ASCII bytes [start, end) as a string. */
function latin1(b: Uint8Array, start: number, end: number): string {
  if (end - start <= 16) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}
