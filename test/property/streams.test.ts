import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Observable, from, toArray, type OperatorFunction } from 'rxjs';
import {
  createEventDecoder,
  decodeEvents,
  isDeadLetter,
  type Decoded,
  type EventSchema,
} from '../../src/streams/decodeEvents.js';
import type { RawMessage } from '../../src/streams/event.js';
import { fanOut } from '../../src/streams/fanOut.js';
import { rebatch, type RebatchPolicy } from '../../src/streams/rebatch.js';

/** Run a synchronous pipeline to completion and return what it emitted. */
function runSync<T, R>(input: T[], op: OperatorFunction<T, R>): R[] {
  let out: R[] = [];
  let done = false;
  let error: unknown = null;
  from(input)
    .pipe(op, toArray())
    .subscribe({ next: (v) => (out = v), complete: () => (done = true), error: (e) => (error = e) });
  if (error) throw error;
  expect(done).toBe(true);
  return out;
}

const item = fc.integer({ min: -1000, max: 1000 });
/** Emissions: single items or arrival batches (arrays, possibly empty). */
const emissions = fc.array(fc.oneof(item, fc.array(item, { maxLength: 12 })), { maxLength: 60 });
const policy: fc.Arbitrary<RebatchPolicy> = fc.oneof(
  fc.constant('arrival' as const),
  fc.record({ count: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ poisson: fc.double({ min: 1, max: 16, noNaN: true }), seed: fc.integer() }),
  fc.record({ timeMs: fc.integer({ min: 1, max: 1000 }), maxCount: fc.integer({ min: 1, max: 20 }) }),
);
const flat = (xs: (number | number[])[]): number[] => xs.flatMap((x) => (Array.isArray(x) ? x : [x]));

describe('rebatch properties', () => {
  it('for any policy and input, the concatenation of the batches is the input, and no batch is empty', () => {
    fc.assert(
      fc.property(emissions, policy, (input, p) => {
        const out = runSync(input, rebatch<number>(p));
        expect(out.flat()).toEqual(flat(input));
        expect(out.every((b) => b.length > 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('{ count } batches have exactly count items except the last', () => {
    fc.assert(
      fc.property(emissions, fc.integer({ min: 1, max: 20 }), (input, count) => {
        const sizes = runSync(input, rebatch<number>({ count })).map((b) => b.length);
        const n = flat(input).length;
        expect(sizes.slice(0, -1).every((s) => s === count)).toBe(true);
        if (n > 0) expect(sizes.at(-1)).toBe(n % count === 0 ? count : n % count);
        expect(sizes.length).toBe(Math.ceil(n / count));
      }),
      { numRuns: 300 },
    );
  });

  it('{ poisson, seed } cuts the same input the same way every time, whatever the arrival batching', () => {
    fc.assert(
      fc.property(
        emissions,
        fc.double({ min: 1, max: 16, noNaN: true }),
        fc.integer(),
        (input, mean, seed) => {
          const a = runSync(input, rebatch<number>({ poisson: mean, seed }));
          const b = runSync(flat(input), rebatch<number>({ poisson: mean, seed }));
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("'arrival' keeps every non-empty source array as one batch", () => {
    fc.assert(
      fc.property(emissions, (input) => {
        const out = runSync(input, rebatch<number>('arrival'));
        expect(out).toEqual(
          input.filter((x) => !Array.isArray(x) || x.length > 0).map((x) => (Array.isArray(x) ? x : [x])),
        );
      }),
    );
  });
});

const origin = (i: number) => ({ topic: 'p', partition: 0, offset: String(i), timestamp: i });
const rawOf = (value: unknown, i: number): RawMessage => ({
  origin: origin(i),
  key: null,
  value,
  receivedAt: 0,
});

describe('decodeEvents properties', () => {
  const schemaList: EventSchema[] = [
    {},
    { x: { kind: 'vector', dim: 3 }, label: { classes: 2 }, maxBytes: 64 },
    { x: { kind: 'window', shape: [2, 2] } },
    { x: { kind: 'sparse' }, label: { required: true, min: 0, max: 1 } },
  ];
  const schemas = fc.constantFrom(...schemaList);
  const values: fc.Arbitrary<unknown> = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.jsonValue(),
    fc.anything(),
    fc.record(
      {
        id: fc.oneof(fc.string(), fc.integer()),
        ts: fc.oneof(fc.double(), fc.constant(null)),
        x: fc.anything(),
        y: fc.anything(),
      },
      { requiredKeys: [] },
    ),
    fc.record({
      id: fc.string({ minLength: 1 }),
      ts: fc.double(),
      x: fc.oneof(
        fc.array(fc.double(), { maxLength: 4 }),
        fc.array(fc.array(fc.double(), { maxLength: 3 }), { maxLength: 3 }),
      ),
      y: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.double()),
    }),
  );

  it('never throws on arbitrary strings, bytes and values, and gives every input exactly one outcome', () => {
    fc.assert(
      fc.property(schemas, fc.array(values, { maxLength: 30 }), (schema, vs) => {
        const input = vs.map(rawOf);
        let out: Decoded[] = [];
        expect(() => {
          out = runSync(input, decodeEvents(schema));
        }).not.toThrow();
        expect(out).toHaveLength(input.length);
        out.forEach((d, i) => {
          expect(d.origin).toBe(input[i].origin);
          if (isDeadLetter(d)) {
            expect([
              'bad_json',
              'not_object',
              'missing_field',
              'bad_shape',
              'non_finite',
              'oversized',
              'bad_label',
              'binary',
            ]).toContain(d.reason);
            expect(typeof d.raw).toBe('string');
          } else {
            expect(typeof d.event.id).toBe('string');
            expect(Number.isFinite(d.event.ts)).toBe(true);
          }
        });
      }),
      { numRuns: 400 },
    );
  });

  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
  /** Well-formed events (dense, window or sparse x; optional y and key), as objects or as JSON text. */
  const validEvent = fc.record(
    {
      id: fc.string({ minLength: 1 }),
      ts: fc.oneof(fc.integer(), finite),
      x: fc.oneof(
        fc.array(finite, { minLength: 1, maxLength: 6 }),
        fc
          .integer({ min: 1, max: 4 })
          .chain((l) =>
            fc.array(fc.array(finite, { minLength: l, maxLength: l }), { minLength: 1, maxLength: 3 }),
          ),
        fc
          .array(fc.tuple(fc.nat(1000), finite), { maxLength: 6 })
          .map((ps) => ({ indices: ps.map((p) => p[0]), values: ps.map((p) => p[1]) })),
      ),
      y: finite,
      key: fc.string(),
    },
    { requiredKeys: ['id', 'ts', 'x'] },
  );
  const mostlyValid = fc.oneof(
    { weight: 4, arbitrary: validEvent },
    { weight: 4, arbitrary: validEvent.map((e) => JSON.stringify(e)) },
    { weight: 1, arbitrary: values },
  );

  it('an accepted event re-serialized is accepted again, with the same JSON content', () => {
    let seen = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(mostlyValid, { maxLength: 20 }), (vs) => {
        for (const [i, v] of vs.entries()) {
          seen++;
          const d = createEventDecoder().decode(rawOf(v, i));
          if (isDeadLetter(d)) continue;
          accepted++;
          const again = createEventDecoder().decode(rawOf(JSON.stringify(d.event), i));
          expect(isDeadLetter(again)).toBe(false);
          if (!isDeadLetter(again)) expect(JSON.stringify(again.event)).toBe(JSON.stringify(d.event));
        }
      }),
      { numRuns: 200 },
    );
    // The property is about accepted events: most generated values must be ones.
    expect(seen).toBeGreaterThan(500);
    expect(accepted / seen).toBeGreaterThan(0.75);
  });
});

describe('fanOut properties', () => {
  it('every branch sees exactly the source emissions, in order, from a single subscription', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(item, { minLength: 1, maxLength: 8 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        (batches, k) => {
          let subscriptions = 0;
          const source = new Observable<number[]>((s) => {
            subscriptions++;
            batches.forEach((b) => s.next(b));
            s.complete();
          });
          const seen: number[][][] = Array.from({ length: k }, () => []);
          const branches = Object.fromEntries(
            seen.map((store, i) => [
              `v${i}`,
              (src: Observable<number[]>) =>
                new Observable<number>((sub) =>
                  src.subscribe({ next: (b) => store.push(b), complete: () => sub.complete() }),
                ),
            ]),
          );
          let completed = false;
          source.pipe(fanOut(branches)).subscribe({ complete: () => (completed = true) });
          expect(subscriptions).toBe(1);
          expect(completed).toBe(true);
          for (const s of seen) expect(s).toEqual(batches);
        },
      ),
      { numRuns: 100 },
    );
  });
});
