/**
 * The `synthetic` stream: seeded multichannel windows `[C][L]` whose class is the frequency of a noisy
 * sinusoid (class k makes 1 + 3k cycles per window, random phase), under covariate shift of two kinds:
 * - per sample: a random gain (log-normal) and offset shared by all channels of the window;
 * - over time: the channel means and scales drift slowly across the stream.
 *
 * Frequency survives any per-sample affine change, so a per-sample normalizer (Layer, Instance, Group) sees
 * the same input whatever the gain, offset or drift, while BatchNorm's running statistics (used at
 * inference) describe a population that keeps moving and never matches one sample's scale. Whether that
 * matters at a given arrival batch size is what the comparison measures.
 */
import { Rng } from '../core/rng.js';
import { DatasetError } from '../errors.js';
import type { StreamEvent } from '../streams/event.js';

export interface SyntheticOptions {
  /** Number of events (default 6000). */
  n?: number;
  /** Channels C (default 3). */
  channels?: number;
  /** Window length L (default 32). */
  length?: number;
  /** Number of classes (default 2). */
  classes?: number;
  /** Noise standard deviation relative to the unit signal amplitude (default 0.3). */
  noise?: number;
  /** Standard deviation of the log of the per-sample gain (default 0.7). */
  gainSpread?: number;
  /** Standard deviation of the per-sample offset (default 2). */
  offsetSpread?: number;
  /** Amplitude of the slow drift of channel means over the stream (default 4). */
  drift?: number;
  /** Factor by which channel scales grow from the first to the last event (default 3). */
  scaleDrift?: number;
  seed?: number;
  /** Start timestamp in ms (default 2024-01-01T00:00:00Z); events are 100 ms apart. */
  startMs?: number;
}

function check(name: string, v: number, integer: boolean, min: number): number {
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new DatasetError(
      `synthetic: ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(v)}`,
    );
  }
  return v;
}

/** Generates the synthetic stream. The same options (seed included) give the same events. */
export function syntheticEvents(opts: SyntheticOptions = {}): StreamEvent[] {
  const n = check('n', opts.n ?? 6000, true, 1);
  const C = check('channels', opts.channels ?? 3, true, 1);
  const L = check('length', opts.length ?? 32, true, 2);
  const K = check('classes', opts.classes ?? 2, true, 2);
  const noise = check('noise', opts.noise ?? 0.3, false, 0);
  const gainSpread = check('gainSpread', opts.gainSpread ?? 0.7, false, 0);
  const offsetSpread = check('offsetSpread', opts.offsetSpread ?? 2, false, 0);
  const drift = check('drift', opts.drift ?? 4, false, 0);
  const scaleDrift = check('scaleDrift', opts.scaleDrift ?? 3, false, 0);
  const seed = check('seed', opts.seed ?? 7, true, 0);
  const startMs = opts.startMs ?? Date.UTC(2024, 0, 1);
  const rng = new Rng(seed);
  const channelPhase = Array.from({ length: C }, () => rng.uniform(0, 2 * Math.PI));
  const events: StreamEvent[] = [];
  for (let i = 0; i < n; i++) {
    const progress = n === 1 ? 0 : i / (n - 1);
    const y = rng.int(K);
    const cycles = 1 + 3 * y;
    const phase = rng.uniform(0, 2 * Math.PI);
    const gain = Math.exp(rng.normal(0, gainSpread));
    const offset = rng.normal(0, offsetSpread);
    const x: number[][] = [];
    for (let c = 0; c < C; c++) {
      const mean = drift * Math.sin(2 * Math.PI * progress + channelPhase[c]);
      const scale = 1 + (scaleDrift - 1) * progress * (0.5 + (0.5 * (c + 1)) / C);
      const row = new Array<number>(L);
      for (let t = 0; t < L; t++) {
        const s = Math.sin((2 * Math.PI * cycles * t) / L + phase + channelPhase[c]) + rng.normal(0, noise);
        row[t] = mean + scale * (offset + gain * s);
      }
      x.push(row);
    }
    events.push({ id: `synthetic-${seed}-${i}`, ts: startMs + i * 100, x, y, key: `s${i % 4}` });
  }
  return events;
}
