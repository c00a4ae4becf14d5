/**
 * Event-level scores of an anomaly stream inside the comparison's prequential loop: per-episode recall and
 * false alarms per 1,000 events (`episodeScores` in src/evaluation/episodes.ts defines them). Episodes
 * belong to the recorded stream (runs of anomalous events of one key in the source's order), so a
 * reordering arrival (iid, bursty) scatters an episode's events without splitting it: it counts as detected
 * when any of its events is flagged, whenever that event arrives.
 */
import { anomalyEpisodes } from '../evaluation/episodes.js';
import type { StreamEvent } from '../streams/event.js';

/** Bundled streams whose positive class is an anomaly: their rows carry the episode scores. */
export const anomalyDatasets: readonly string[] = ['sensor'];

/** Which episode each anomalous event (by id) belongs to, over a draw in its recorded order. */
export interface EpisodeIndex {
  ofEvent: ReadonlyMap<string, number>;
  count: number;
}

/** The episodes of `events` (label 1 = anomalous) in their recorded order, keyed by each event's `key`. */
export function episodeIndex(events: readonly StreamEvent[]): EpisodeIndex {
  const labels = events.map((e) => (e.y === 1 ? 1 : 0));
  const episodes = anomalyEpisodes(labels, { keys: events.map((e) => e.key) });
  const ofEvent = new Map<string, number>();
  episodes.forEach((ep, k) => {
    for (const i of ep.events) ofEvent.set(events[i].id, k);
  });
  return { ofEvent, count: episodes.length };
}

/** Raw counts of one run; `falseAlarms` are flagged normal events. */
export interface EpisodeCounts {
  events: number;
  episodes: number;
  detected: number;
  falseAlarms: number;
}

/** Counts detections and false alarms as flagged events arrive, in any order. */
export class EpisodeTally {
  private readonly detected = new Set<number>();
  private falseAlarms = 0;
  private events = 0;

  constructor(private readonly index: EpisodeIndex) {}

  observe(id: string, label: number, flagged: boolean): void {
    this.events++;
    if (!flagged) return;
    const ep = this.index.ofEvent.get(id);
    if (ep !== undefined) this.detected.add(ep);
    else if (label !== 1) this.falseAlarms++;
  }

  result(): EpisodeCounts {
    return {
      events: this.events,
      episodes: this.index.count,
      detected: this.detected.size,
      falseAlarms: this.falseAlarms,
    };
  }
}
