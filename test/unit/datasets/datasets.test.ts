import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../../src/errors.js';
import { datasetNames, loadDataset } from '../../../src/datasets/loadDataset.js';
import { MNIST_PIXELS, mnistEvents } from '../../../src/datasets/mnist.js';
import { sensorCalibration, sensorEvents } from '../../../src/datasets/sensor.js';
import { syntheticEvents } from '../../../src/datasets/synthetic.js';
import { isSparse } from '../../../src/models/types.js';
import type { StreamEvent } from '../../../src/streams/event.js';

function windowOf(e: StreamEvent): number[][] {
  expect(Array.isArray(e.x) && Array.isArray((e.x as unknown[])[0])).toBe(true);
  return e.x as number[][];
}

describe('sensor dataset', () => {
  const events = sensorEvents();

  it('gives [2, 16] windows of humidity and temperature with 0/1 labels, both classes present', () => {
    expect(events.length).toBeGreaterThan(9000);
    for (const e of events) {
      const w = windowOf(e);
      expect(w.length).toBe(2);
      expect(w[0].length).toBe(16);
      expect(w[1].length).toBe(16);
      expect(e.y === 0 || e.y === 1).toBe(true);
    }
    const positives = events.filter((e) => e.y === 1).length;
    expect(positives).toBeGreaterThan(30);
    expect(positives).toBeLessThan(events.length / 10);
    // scale: 'raw' keeps humidity in %, temperature in deg C
    const w = windowOf(sensorEvents({ scale: 'raw', limit: 1 })[0]);
    expect(w[0][0]).toBeCloseTo(45.93, 6);
    expect(w[1][0]).toBeCloseTo(27.97, 6);
  });

  it('standardizes each channel by default with the mean and std of the first 1,000 windows, fixed after them', () => {
    const cal = sensorCalibration();
    // pinned: the constants docs/nets.md quotes (humidity %, temperature deg C of the recording's first ~42 min)
    expect(cal.windows).toBe(1000);
    expect(cal.mean[0]).toBeCloseTo(42.628, 3);
    expect(cal.mean[1]).toBeCloseTo(30.24, 3);
    expect(cal.std[0]).toBeCloseTo(4.121, 3);
    expect(cal.std[1]).toBeCloseTo(2.281, 3);
    const raw = sensorEvents({ scale: 'raw' });
    expect(raw.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(raw.map((e) => e.y)).toEqual(events.map((e) => e.y));
    for (const i of [0, 999, 1000, 4700, events.length - 1]) {
      const r = windowOf(raw[i]);
      const z = windowOf(events[i]);
      for (let c = 0; c < 2; c++)
        for (let t = 0; t < 16; t++) expect(z[c][t]).toBeCloseTo((r[c][t] - cal.mean[c]) / cal.std[c], 12);
    }
    // over the prefix itself each channel has mean 0 and variance 1
    for (let c = 0; c < 2; c++) {
      const v = events.slice(0, 1000).flatMap((e) => windowOf(e)[c]);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      expect(m).toBeCloseTo(0, 10);
      expect(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length).toBeCloseTo(1, 10);
    }
    // the constants do not depend on how much of the stream is kept, only on the prefix
    expect(sensorEvents({ limit: 10 })).toEqual(events.slice(0, 10));
    expect(sensorEvents({ calibration: 200, limit: 1 })).not.toEqual(events.slice(0, 1));
    expect(() => sensorEvents({ scale: 'unit' as never })).toThrow(/scale/);
    expect(() => sensorEvents({ calibration: 0 })).toThrow(/calibration/);
  });

  it('is in time order with unique ids, and deterministic', () => {
    for (let i = 1; i < events.length; i++) expect(events[i].ts).toBeGreaterThanOrEqual(events[i - 1].ts);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(sensorEvents()).toEqual(events);
  });

  it("labels a window by its last reading, or by any reading with label: 'any'", () => {
    const any = sensorEvents({ label: 'any' });
    expect(any.length).toBe(events.length);
    let more = 0;
    for (let i = 0; i < events.length; i++) {
      expect(any[i].id).toBe(events[i].id);
      if (events[i].y === 1) expect(any[i].y).toBe(1);
      if (any[i].y === 1 && events[i].y === 0) more++;
    }
    expect(more).toBeGreaterThan(0);
  });

  it('honours length, stride and limit, and rejects bad values naming them', () => {
    const e = sensorEvents({ length: 8, stride: 8, limit: 50 });
    expect(e.length).toBe(50);
    expect(windowOf(e[0])[0].length).toBe(8);
    expect(() => sensorEvents({ length: 0 })).toThrow(/length/);
    expect(() => sensorEvents({ stride: 1.5 })).toThrow(/stride/);
  });
});

describe('synthetic dataset', () => {
  it('gives [C, L] windows with every class present, deterministic per seed', () => {
    const a = syntheticEvents({ n: 400, seed: 3 });
    const b = syntheticEvents({ n: 400, seed: 3 });
    const c = syntheticEvents({ n: 400, seed: 4 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.length).toBe(400);
    const counts = [0, 0];
    for (const e of a) {
      const w = windowOf(e);
      expect(w.length).toBe(3);
      expect(w.every((r) => r.length === 32 && r.every(Number.isFinite))).toBe(true);
      counts[e.y as number]++;
    }
    expect(counts[0]).toBeGreaterThan(120);
    expect(counts[1]).toBeGreaterThan(120);
  });

  it('drifts: channel statistics at the end of the stream differ from the start', () => {
    const e = syntheticEvents({ n: 2000, seed: 1, gainSpread: 0, offsetSpread: 0 });
    const spread = (slice: StreamEvent[]): number => {
      let s = 0;
      let n = 0;
      for (const ev of slice) {
        for (const v of windowOf(ev)[0]) {
          s += v * v;
          n++;
        }
      }
      return Math.sqrt(s / n);
    };
    const first = spread(e.slice(0, 200));
    const last = spread(e.slice(-200));
    expect(Math.abs(last - first)).toBeGreaterThan(0.5);
  });

  it('rejects bad options naming the field', () => {
    expect(() => syntheticEvents({ channels: 0 })).toThrow(DatasetError);
    expect(() => syntheticEvents({ noise: Number.NaN })).toThrow(/noise/);
  });
});

describe('dataset registry', () => {
  it('lists the four bundled streams and rejects unknown names', () => {
    expect([...datasetNames]).toEqual(['sensor', 'spam', 'synthetic', 'mnist']);
    expect(() => loadDataset('cifar')).toThrow(/unknown dataset 'cifar'/);
  });

  it('applies limit and seed', () => {
    expect(loadDataset('sensor', { limit: 10 }).length).toBe(10);
    expect(loadDataset('synthetic', { limit: 25, seed: 2 })).toEqual(syntheticEvents({ n: 25, seed: 2 }));
  });

  it('spam: hashed sparse events with both labels, in a fixed seeded order', () => {
    const a = loadDataset('spam', { limit: 300 });
    const b = loadDataset('spam', { limit: 300 });
    const c = loadDataset('spam', { limit: 300, seed: 2 });
    expect(a).toEqual(b);
    expect(a.map((e) => e.id)).not.toEqual(c.map((e) => e.id));
    const labels = new Set(a.map((e) => e.y));
    expect(labels).toEqual(new Set([0, 1]));
    for (const e of a) {
      expect(isSparse(e.x)).toBe(true);
      const x = e.x as { indices: number[]; values: number[] };
      expect(x.indices.length).toBe(x.values.length);
      expect(x.indices.length).toBeGreaterThan(0);
      expect(x.indices.every((i) => i >= 0 && i < 1 << 18)).toBe(true);
    }
    // label matches the corpus folder the email came from
    for (const e of a) expect(e.y).toBe(e.id.startsWith('spam-spam') ? 1 : 0);
  });
});

describe('mnist dataset', () => {
  const events = mnistEvents();

  it('gives the 10,000 digits as 784-dim vectors in [0, 1], 863–1,127 per class, ids unique', () => {
    expect(events.length).toBe(10_000);
    const perClass = new Array<number>(10).fill(0);
    for (const e of events) {
      const x = e.x as number[];
      expect(x.length).toBe(MNIST_PIXELS);
      perClass[e.y!]++;
    }
    expect(Math.min(...perClass)).toBe(863);
    expect(Math.max(...perClass)).toBe(1127);
    const values = (events[0].x as number[]).concat(events[1].x as number[]);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(values.some((v) => v > 0.5)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(10_000);
  });

  it('is shuffled (not ten class runs), deterministic per seed; windows are the same pixels as rows', () => {
    const first = events.slice(0, 100).map((e) => e.y);
    expect(new Set(first).size).toBe(10);
    expect(mnistEvents({ limit: 50 }).map((e) => e.id)).toEqual(events.slice(0, 50).map((e) => e.id));
    expect(mnistEvents({ seed: 2, limit: 50 }).map((e) => e.id)).not.toEqual(
      events.slice(0, 50).map((e) => e.id),
    );
    const [w] = mnistEvents({ shape: 'window', limit: 1 });
    const rows = windowOf(w);
    expect(rows.length).toBe(28);
    expect(rows.every((r) => r.length === 28)).toBe(true);
    expect(rows.flat()).toEqual(events[0].x);
  });

  it('loads through the registry and rejects bad options naming them', () => {
    expect(loadDataset('mnist', { limit: 3, seed: 1 }).map((e) => e.id)).toEqual(
      events.slice(0, 3).map((e) => e.id),
    );
    expect(() => mnistEvents({ shape: 'cube' as 'vector' })).toThrow(/shape/);
    expect(() => mnistEvents({ limit: 0 })).toThrow(/limit/);
    expect(() => mnistEvents({ seed: 1.5 })).toThrow(/seed/);
  });
});
