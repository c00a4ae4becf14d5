/**
 * The labelled events of an event file read whole (recording, JSON Lines or CSV), for consumers that hold the
 * events in memory: `compare` (the experiment's workers) and `produce`.
 */
import { createEventDecoder, isEnvelope } from './decodeEvents.js';
import type { DeadLetter, StreamEvent } from './event.js';
import { readInputFileSync, type InputSpec } from './inputFile.js';

export interface InputEventsOptions {
  /** Keep at most this many events. */
  limit?: number;
  /** Keep unlabelled events too (default: only labelled ones, which is what a comparison learns from). */
  unlabelled?: boolean;
  /** Called with each line that does not decode, with its 1-based line number; a throw stops the read. */
  onDeadLetter?: (line: number, letter: DeadLetter) => void;
  /** Called with the line of each event kept, in order. */
  onEvent?: (line: number) => void;
}

/**
 * Decode an event file in file order. The first valid event fixes the shape (as the live decoder does); lines
 * that do not decode are dead letters (handed to `onDeadLetter` with their line), unlabelled events are
 * skipped unless asked for; both are counted in `skipped`.
 */
export function readInputEvents(
  path: string,
  spec: InputSpec = {},
  options: InputEventsOptions = {},
): { events: StreamEvent[]; skipped: number; deadLetters: number } {
  const decoder = createEventDecoder({ x: 'infer' });
  const events: StreamEvent[] = [];
  let skipped = 0;
  let deadLetters = 0;
  for (const { line, message } of readInputFileSync(path, spec)) {
    if (options.limit !== undefined && events.length >= options.limit) break;
    const d = decoder.decode(message);
    if (!isEnvelope(d)) {
      skipped++;
      deadLetters++;
      options.onDeadLetter?.(line, d);
    } else if (d.event.y !== undefined || options.unlabelled) {
      events.push(d.event);
      options.onEvent?.(line);
    } else skipped++;
  }
  return { events, skipped, deadLetters };
}
