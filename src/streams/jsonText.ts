/**
 * JSON text helpers that never recurse on the depth of their input, for data from outside: a message may
 * nest arrays thousands deep, which overflows the stack in `JSON.stringify` and `String(array)`. (V8's
 * `JSON.parse` is iterative, so parsing is safe; everything else here is a loop with an explicit stack or a
 * linear scan.)
 */

/** Whitespace JSON allows between tokens. */
function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * `text` as compact JSON (no whitespace between tokens, strings untouched) when it is valid JSON, else null.
 * One linear pass after validation: a recording line can carry any valid message value, however deep, on one
 * line.
 */
export function compactJson(text: string): string | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  let out = '';
  let runStart = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (isJsonSpace(c)) {
      if (i > runStart) out += text.slice(runStart, i);
      runStart = i + 1;
    }
  }
  return runStart === 0 ? text : out + text.slice(runStart);
}

interface ArrayFrame {
  array: readonly unknown[];
  i: number;
}

interface ObjectFrame {
  object: Record<string, unknown>;
  keys: string[];
  i: number;
  first: boolean;
}

type Frame = ArrayFrame | ObjectFrame;

/** What `JSON.stringify` writes for a value it does not descend into (null for what it would skip). */
function leaf(v: unknown): string {
  if (typeof v === 'bigint') return JSON.stringify(String(v));
  return JSON.stringify(v) ?? 'null';
}

/**
 * The JSON text of a parsed value, as `JSON.stringify` writes it, cut after `maxChars` characters, without
 * recursion: the text of a 5,000-deep array is `[[[...]]]`, not a RangeError. Stops working as soon as the
 * cut is reached, so measuring a huge value against a limit costs the limit, not the value. Cycles are
 * written as `"[Circular]"`.
 */
export function boundedStringify(value: unknown, maxChars = Infinity): string {
  const parts: string[] = [];
  let length = 0;
  const write = (s: string): void => {
    parts.push(s);
    length += s.length;
  };
  const stack: Frame[] = [];
  const open = new Set<object>();
  let next: { v: unknown } | null = { v: value };

  while (length <= maxChars) {
    if (next !== null) {
      let v = next.v;
      next = null;
      if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function')
        v = (v as { toJSON(): unknown }).toJSON();
      if (v === null || typeof v !== 'object') {
        write(leaf(v));
      } else if (open.has(v)) {
        write('"[Circular]"');
      } else if (Array.isArray(v)) {
        open.add(v);
        write('[');
        stack.push({ array: v, i: 0 });
      } else {
        open.add(v);
        write('{');
        stack.push({ object: v as Record<string, unknown>, keys: Object.keys(v), i: 0, first: true });
      }
      continue;
    }
    const f = stack[stack.length - 1];
    if (f === undefined) break;
    if ('array' in f) {
      if (f.i < f.array.length) {
        if (f.i > 0) write(',');
        const item = f.array[f.i++];
        next = {
          v: item === undefined || typeof item === 'function' || typeof item === 'symbol' ? null : item,
        };
      } else {
        write(']');
        open.delete(f.array);
        stack.pop();
      }
    } else {
      let found = false;
      while (f.i < f.keys.length) {
        const k = f.keys[f.i++];
        const item = f.object[k];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        write((f.first ? '' : ',') + JSON.stringify(k) + ':');
        f.first = false;
        next = { v: item };
        found = true;
        break;
      }
      if (!found) {
        write('}');
        open.delete(f.object);
        stack.pop();
      }
    }
  }
  const text = parts.join('');
  return text.length > maxChars ? text.slice(0, maxChars) : text;
}

/** Where each top-level member's value lies in an object's JSON text: `key → [start, end)`. */
export type MemberSpans = Map<string, [start: number, end: number]>;

/**
 * The top-level members of a JSON object's text, found by one linear scan that counts bracket depth instead
 * of recursing, so a member's value (e.g. a recording line's `value`) can be taken as text and parsed by
 * whoever owns it. Returns null when `text` is not an object with well-formed top-level members; the values
 * themselves are only delimited here (brackets balanced, strings closed), not validated. A repeated key keeps
 * its last value, as `JSON.parse` does.
 */
export function memberSpans(text: string): MemberSpans | null {
  const n = text.length;
  let i = 0;
  const skipSpace = (): void => {
    while (i < n && isJsonSpace(text.charCodeAt(i))) i++;
  };
  /** Index after the string starting at i (a quote), or -1. */
  const endOfString = (from: number): number => {
    for (let j = from + 1; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x5c) j++;
      else if (c === 0x22) return j + 1;
    }
    return -1;
  };
  skipSpace();
  if (text.charCodeAt(i) !== 0x7b) return null; // {
  i++;
  const spans: MemberSpans = new Map();
  skipSpace();
  if (text.charCodeAt(i) === 0x7d) {
    i++;
    skipSpace();
    return i === n ? spans : null;
  }
  for (;;) {
    skipSpace();
    if (text.charCodeAt(i) !== 0x22) return null;
    const keyEnd = endOfString(i);
    if (keyEnd < 0) return null;
    let key: string;
    try {
      key = JSON.parse(text.slice(i, keyEnd)) as string;
    } catch {
      return null;
    }
    i = keyEnd;
    skipSpace();
    if (text.charCodeAt(i) !== 0x3a) return null; // :
    i++;
    skipSpace();
    const start = i;
    let depth = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        const e = endOfString(i);
        if (e < 0) return null;
        i = e;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
      } else if (c === 0x2c && depth === 0) break;
      i++;
    }
    let end = i;
    while (end > start && isJsonSpace(text.charCodeAt(end - 1))) end--;
    if (end === start || i >= n) return null;
    spans.set(key, [start, end]);
    const c = text.charCodeAt(i);
    i++;
    if (c === 0x7d) {
      skipSpace();
      return i === n ? spans : null;
    }
    if (c !== 0x2c) return null;
  }
}
