/**
 * BoundCounter / BoundGauge / BoundHistogram must leave a registry exactly as the plain prom-client calls do,
 * whatever happens to the metric between updates (resets, removes, updates of other series, updates of the same
 * series through the API, rejected values).
 */
import fc from 'fast-check';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { BoundCounter, BoundGauge, BoundHistogram } from '../../src/metrics/boundSeries.js';

type Op =
  | { kind: 'bound'; value: number }
  | { kind: 'repeat'; value: number; times: number }
  | { kind: 'api'; other: boolean; value: number }
  | { kind: 'reset' }
  | { kind: 'remove'; other: boolean };

const value = fc.oneof(
  fc.double({ min: -2, max: 20, noNaN: true }),
  fc.constantFrom(0, 0.005, 0.1, 1, 2.5, 10, 11, -1, NaN, Infinity),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('bound' as const), value }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('repeat' as const),
      value,
      times: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constantFrom(32, 257)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('api' as const), other: fc.boolean(), value }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), other: fc.boolean() }) },
);

const labels = { variant: 'v', mode: 'live' } as const;
const other = { variant: 'w', mode: 'live' } as const;

function twins() {
  const make = () => {
    const registry = new Registry();
    const names = ['variant', 'mode'] as const;
    return {
      registry,
      counter: new Counter({ name: 'c_total', help: 'c', labelNames: names, registers: [registry] }),
      gauge: new Gauge({ name: 'g', help: 'g', labelNames: names, registers: [registry] }),
      histogram: new Histogram({
        name: 'h',
        help: 'h',
        labelNames: names,
        buckets: [0.005, 0.1, 1, 2.5, 10],
        registers: [registry],
      }),
    };
  };
  return { plain: make(), bound: make() };
}

/** Runs f, returning whether it threw (the bound side must throw exactly where the plain one does). */
function threw(f: () => void): boolean {
  try {
    f();
    return false;
  } catch {
    return true;
  }
}

describe('bound series', () => {
  it('leave the registry as the plain calls do, through resets, removes and API updates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const { plain, bound } = twins();
        const bc = new BoundCounter(bound.counter, labels);
        const bg = new BoundGauge(bound.gauge, labels);
        const bh = new BoundHistogram(bound.histogram, labels);
        for (const o of ops) {
          if (o.kind === 'bound') {
            const v = o.value;
            expect(threw(() => bc.inc(v))).toBe(threw(() => plain.counter.inc(labels, v)));
            expect(threw(() => bg.set(v))).toBe(threw(() => plain.gauge.set(labels, v)));
            expect(threw(() => bh.observe(v))).toBe(threw(() => plain.histogram.observe(labels, v)));
          } else if (o.kind === 'repeat') {
            // As many plain observations; the sum adds one value at a time on both sides, so it rounds the same.
            const plainThrew = threw(() => {
              for (let i = 0; i < o.times; i++) plain.histogram.observe(labels, o.value);
            });
            expect(threw(() => bh.observeRepeated(o.value, o.times))).toBe(plainThrew);
          } else if (o.kind === 'api') {
            const l = o.other ? other : labels;
            for (const side of [plain, bound]) {
              threw(() => side.counter.inc(l, o.value));
              threw(() => side.gauge.set(l, o.value));
              threw(() => side.histogram.observe(l, o.value));
            }
          } else if (o.kind === 'reset') {
            plain.registry.resetMetrics();
            bound.registry.resetMetrics();
          } else {
            const l = o.other ? other : labels;
            for (const side of [plain, bound]) {
              side.counter.remove(l);
              side.gauge.remove(l);
              side.histogram.remove(l);
            }
          }
          expect(await bound.registry.metrics()).toBe(await plain.registry.metrics());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('move the series directly after the first update (no API call)', () => {
    const { bound } = twins();
    const bc = new BoundCounter(bound.counter, labels);
    const bh = new BoundHistogram(bound.histogram, labels);
    bc.inc(1);
    bh.observe(0.5);
    const inc = vi.spyOn(bound.counter, 'inc');
    const observe = vi.spyOn(bound.histogram, 'observe');
    for (let i = 0; i < 10; i++) {
      bc.inc(2);
      bh.observe(3);
    }
    bh.observeRepeated(0.25, 257);
    expect(inc).not.toHaveBeenCalled();
    expect(observe).not.toHaveBeenCalled();
  });
});
