/**
 * The data draw of one seed: seeds vary the data, not only the initialization. A bundled dataset with a
 * generator or a shuffle (synthetic, mnist, spam) is drawn anew per seed; a fixed stream (sensor, a
 * recording) is the same events every time, and only the reordering arrivals (`iid`, `bursty:R`, `keyed:R`)
 * vary it, seeded per seed. `recorded` keeps the draw's own order.
 */
import type { StreamEvent } from '../streams/event.js';
import { arrange, parseArrival } from './arrival.js';
import { episodeIndex, type EpisodeIndex } from './episodeTally.js';
import { loadSourceEvents, type EventSource } from './source.js';

/** Bundled datasets whose events depend on a seed (a generator or a seeded shuffle). */
export const seededDatasets: readonly string[] = ['synthetic', 'mnist', 'spam'];

/** Whether a new seed gives a new draw of the events themselves (not only a new order). */
export function drawsPerSeed(source: EventSource): boolean {
  return 'dataset' in source && seededDatasets.includes(source.dataset);
}

/** The events of one data seed, in the source's own order. */
export function loadDraw(source: EventSource, dataSeed: number): StreamEvent[] {
  if (!drawsPerSeed(source) || !('dataset' in source)) return loadSourceEvents(source);
  return loadSourceEvents({ ...source, options: { ...source.options, seed: dataSeed } });
}

/**
 * Loads draws and keeps the last one (cells are run grouped by seed, and a draw of a large dataset is
 * tens of megabytes, so one is kept, not all).
 */
export class DrawCache {
  private seed: number | undefined;
  private events: StreamEvent[] | undefined;
  private index: EpisodeIndex | undefined;

  constructor(private readonly source: EventSource) {}

  /** The draw of `dataSeed` in the source's order. */
  base(dataSeed: number): StreamEvent[] {
    const key = drawsPerSeed(this.source) ? dataSeed : 0;
    if (this.events === undefined || this.seed !== key) {
      this.events = loadDraw(this.source, dataSeed);
      this.index = undefined;
      this.seed = key;
    }
    return this.events;
  }

  /** The anomaly episodes of `dataSeed`'s draw, in its recorded order (label 1 = anomalous). */
  episodes(dataSeed: number): EpisodeIndex {
    const events = this.base(dataSeed);
    this.index ??= episodeIndex(events);
    return this.index;
  }

  /** The draw of `dataSeed` in the arrival order `arrival` (the order's own randomness seeded by `dataSeed`). */
  arranged(arrival: string, dataSeed: number): StreamEvent[] {
    return arrange(this.base(dataSeed), parseArrival(arrival), dataSeed);
  }
}
