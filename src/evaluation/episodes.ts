/**
 * Event-level scoring for anomaly streams, where the unit that matters is the incident, not the event:
 * an anomaly episode is a run of anomalous events, it counts as detected when the detector flags any event
 * in it, and the cost of a detector is how often it raises an alarm on normal events (Lavin & Ahmad 2015,
 * "Evaluating Real-time Anomaly Detection Algorithms — the Numenta Anomaly Benchmark", score windows that
 * way; Tatbul et al. 2018, "Precision and Recall for Time Series", existence reward). Per-event error hides
 * both: a stream whose 75 anomalous events form one episode is answered by finding that one episode.
 */
import { ConfigError } from '../errors.js';

/** One anomaly episode: the indices (in stream order) of its anomalous events. */
export interface Episode {
  /** The key its events share (a mote, a device), when keys were given. */
  key?: string;
  /** Index of the first and last anomalous event. */
  start: number;
  end: number;
  /** Indices of its anomalous events, ascending. */
  events: number[];
}

export interface EpisodeOptions {
  /**
   * The key of each event (same length as the labels): episodes are formed within each key's own
   * subsequence, so two devices' anomalies at the same time are two episodes, and another device's normal
   * events in between do not split one. Default: one sequence.
   */
  keys?: readonly (string | undefined)[];
  /**
   * Normal events (of the same key) allowed inside an episode without splitting it (default 0: an episode
   * is a maximal run of consecutive anomalous events).
   */
  maxGap?: number;
}

export interface EpisodeScores {
  events: number;
  /** Number of anomaly episodes. */
  episodes: number;
  /** Episodes with at least one flagged event. */
  detected: number;
  /** detected / episodes; NaN when there is no episode (nothing to recall). */
  episodeRecall: number;
  /** Flagged normal events. */
  falseAlarms: number;
  /** falseAlarms per 1,000 events of the stream; NaN for an empty stream. */
  falseAlarmsPer1000: number;
  /** Per detected episode: anomalous events before the first flag (0 = flagged at its first event). */
  detectionDelays: number[];
  /** Every episode with whether it was detected. */
  detail: (Episode & { detected: boolean })[];
}

function checkLabels(who: string, labels: ArrayLike<number>): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new ConfigError(`${who}: labels[${i}] must be 0 or 1, got ${String(y)}`);
  }
}

/** The anomaly episodes of a labelled stream (label 1 = anomalous), in order of their first event. */
export function anomalyEpisodes(labels: ArrayLike<number>, opts: EpisodeOptions = {}): Episode[] {
  const who = 'anomalyEpisodes';
  checkLabels(who, labels);
  const maxGap = opts.maxGap ?? 0;
  if (!Number.isInteger(maxGap) || maxGap < 0) {
    throw new ConfigError(`${who}: maxGap must be an integer >= 0, got ${String(opts.maxGap)}`);
  }
  const keys = opts.keys;
  if (keys !== undefined && keys.length !== labels.length) {
    throw new ConfigError(`${who}: ${keys.length} keys for ${labels.length} labels`);
  }
  /** Per key: the episode being extended and the normal events seen since its last anomalous one. */
  const open = new Map<string | undefined, { ep: Episode; gap: number }>();
  const out: Episode[] = [];
  for (let i = 0; i < labels.length; i++) {
    const key = keys?.[i];
    const cur = open.get(key);
    if (labels[i] === 1) {
      if (cur !== undefined) {
        cur.ep.events.push(i);
        cur.ep.end = i;
        cur.gap = 0;
      } else {
        const ep: Episode = {
          ...(keys === undefined || key === undefined ? {} : { key }),
          start: i,
          end: i,
          events: [i],
        };
        out.push(ep);
        open.set(key, { ep, gap: 0 });
      }
    } else if (cur !== undefined) {
      cur.gap++;
      if (cur.gap > maxGap) open.delete(key);
    }
  }
  return out;
}

/**
 * Episode recall, false alarms per 1,000 events and detection delays of a detector's flags (1 / true =
 * flagged as anomalous) against the labels.
 *
 * @example
 * episodeScores([0, 1, 1, 0, 0, 1, 0], [0, 0, 1, 0, 1, 0, 0]);
 * // 2 episodes ([1, 2] and [5]), 1 detected (delay 1), 1 false alarm: 1000/7 per 1,000 events
 */
export function episodeScores(
  labels: ArrayLike<number>,
  flags: ArrayLike<number | boolean>,
  opts: EpisodeOptions = {},
): EpisodeScores {
  if (flags.length !== labels.length) {
    throw new ConfigError(`episodeScores: ${flags.length} flags for ${labels.length} labels`);
  }
  const flagged = (i: number): boolean => {
    const f = flags[i];
    if (f !== 0 && f !== 1 && f !== true && f !== false) {
      throw new ConfigError(`episodeScores: flags[${i}] must be 0, 1 or a boolean, got ${String(f)}`);
    }
    return f === 1 || f === true;
  };
  const episodes = anomalyEpisodes(labels, opts);
  let falseAlarms = 0;
  for (let i = 0; i < labels.length; i++) if (flagged(i) && labels[i] === 0) falseAlarms++;
  const detail = episodes.map((ep) => ({ ...ep, detected: ep.events.some(flagged) }));
  const delays = detail.filter((e) => e.detected).map((e) => e.events.findIndex(flagged));
  const detected = delays.length;
  const n = labels.length;
  return {
    events: n,
    episodes: episodes.length,
    detected,
    episodeRecall: episodes.length === 0 ? NaN : detected / episodes.length,
    falseAlarms,
    falseAlarmsPer1000: n === 0 ? NaN : (1000 * falseAlarms) / n,
    detectionDelays: delays,
    detail,
  };
}
