import type { Features } from '../models/types.js';
import type { MessageHeaders, RecordedHeaders } from './recordedHeaders.js';

/**
 * A stream event: the JSON value of a Kafka message and of a recording line's `value`.
 * `x` is a dense vector, a window `[C][L]`, or a sparse vector.
 */
export interface StreamEvent {
  id: string;
  /** Event time in milliseconds since the epoch. */
  ts: number;
  x: Features;
  y?: number;
  key?: string;
}

/** Where an event came from, so its offset can be acknowledged once it is learned and checkpointed. */
export interface EventOrigin {
  topic: string;
  partition: number;
  /** Offset of the message as a decimal string (Kafka offsets are int64). */
  offset: string;
  /** Message timestamp (ms) as the broker or recording gives it. */
  timestamp: number;
}

/** An event with its origin, as it moves through the pipeline. */
export interface Envelope {
  event: StreamEvent;
  origin: EventOrigin;
  /** Wall-clock ms when the pipeline received it (for event-to-prediction latency). */
  receivedAt: number;
}

/** One line of a recording (JSON Lines): a Kafka message with its decoded value. */
export interface RecordedMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  /** Kafka headers (text, or `{ $binary }` for non-UTF-8 bytes); absent when the message had none. */
  headers?: RecordedHeaders;
  /** The event object, or for a message that did not decode, the raw string. */
  value: unknown;
}

/** A raw message before decoding (what fromKafka and fromRecording emit). */
export interface RawMessage {
  origin: EventOrigin;
  key: string | null;
  /** The raw value bytes (Kafka) or the already parsed JSON value (recording). */
  value: Buffer | string | unknown;
  /** Kafka headers, when the message had any (record keeps them, replay --to-topic sends them again). */
  headers?: MessageHeaders;
  receivedAt: number;
}

/** A message that could not become an event, with the reason it was rejected. */
export interface DeadLetter {
  origin: EventOrigin;
  key: string | null;
  /** Short machine-readable reason: 'bad_json' | 'bad_shape' | 'non_finite' | 'oversized' | 'bad_label' | ... */
  reason: string;
  detail: string;
  /** The raw value as a string (binary shown as base64). */
  raw: string;
}

/** Key of a partition in offset maps: `"topic:partition"` (what a checkpoint stores). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** The topic and partition of a {@link partitionKey} (split at the last ':', since topics may hold ':'). */
export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf(':');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}
