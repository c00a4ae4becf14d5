/**
 * Where a comparison's events come from: a bundled dataset by name, or a recording file (JSON Lines as
 * `streamnorm record` writes). Plain data, so it can be posted to worker threads, each of which loads
 * the events once.
 */
import { readFileSync } from 'node:fs';
import { loadDataset, type DatasetOptions } from '../datasets/loadDataset.js';
import { ConfigError, DatasetError } from '../errors.js';
import { isSparse } from '../models/types.js';
import { createEventDecoder } from '../streams/decodeEvents.js';
import type { StreamEvent } from '../streams/event.js';
import { asRecordedMessage, fromRecordedMessage } from '../streams/recordedMessage.js';
import { readInputEvents } from '../streams/inputEvents.js';
import type { InputSpec } from '../streams/inputFile.js';

export type EventSource =
  | { dataset: string; options?: DatasetOptions }
  /** `input`: the file's format and CSV mapping (default: detected; recording, JSON Lines of events, or CSV). */
  | { recording: string; limit?: number; input?: InputSpec };

export function describeSource(s: EventSource): string {
  return 'dataset' in s ? `dataset ${s.dataset}` : `recording ${s.recording}`;
}

/**
 * Reads the labelled events of a recording, in file order. Lines that do not decode (bad JSON, wrong shape,
 * non-finite values) and unlabelled events are skipped, as the live pipeline would send them to dead letters
 * or predict without learning; their count is returned.
 */
export function readRecordingEvents(
  path: string,
  limit?: number,
): { events: StreamEvent[]; skipped: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DatasetError(
      `cannot read recording ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  const decoder = createEventDecoder({ x: 'infer' });
  const events: StreamEvent[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (limit !== undefined && events.length >= limit) break;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const msg = asRecordedMessage(parsed);
    if (msg === null) {
      skipped++;
      continue;
    }
    const decoded = decoder.decode(fromRecordedMessage(msg, 0));
    if ('event' in decoded && decoded.event.y !== undefined) events.push(decoded.event);
    else skipped++;
  }
  return { events, skipped };
}

/** Loads the events of a source (labelled events only). */
export function loadSourceEvents(s: EventSource): StreamEvent[] {
  if ('dataset' in s) return loadDataset(s.dataset, s.options ?? {});
  return readInputEvents(s.recording, s.input, s.limit === undefined ? {} : { limit: s.limit }).events;
}

/** Shape of an event's features: `[C, L]` for windows, `[d]` for dense vectors. Sparse events are refused (no sparse net). */
export function inferShape(events: readonly StreamEvent[]): number[] {
  if (events.length === 0) throw new DatasetError('no labelled events to compare on');
  const x = events[0].x;
  if (isSparse(x)) {
    throw new ConfigError(
      'compare: sparse events (e.g. the hashed spam stream) are not supported: the compared nets take dense windows [C, L] or vectors [d]',
    );
  }
  if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0])) return [x.length, (x[0] as number[]).length];
  return [(x as ArrayLike<number>).length];
}

/** Number of classes: highest integer label + 1 (at least 2). */
export function inferClasses(events: readonly StreamEvent[]): number {
  let max = 1;
  for (const e of events) {
    const y = e.y as number;
    if (!Number.isInteger(y) || y < 0)
      throw new DatasetError(`event ${e.id}: label ${String(e.y)} is not a class index`);
    if (y > max) max = y;
  }
  return max + 1;
}
