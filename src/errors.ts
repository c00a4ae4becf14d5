/**
 * One error taxonomy for the whole project. Branch on `instanceof` or on `retriable`, never on messages.
 */
export type ErrorCode =
  | 'NORMALIZATION'
  | 'MODEL'
  | 'CONFIG'
  | 'DECODE'
  | 'CHECKPOINT'
  | 'KAFKA'
  | 'NON_FINITE_UPDATE'
  | 'METRICS'
  | 'DATASET'
  | 'SYNC';

export interface StreamnormErrorOptions {
  cause?: unknown;
  retriable?: boolean;
}

export class StreamnormError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: StreamnormErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad input or configuration for a normalization layer (shape, channel count, non-finite values, ...). */
export class NormalizationError extends StreamnormError {
  constructor(message: string, options?: StreamnormErrorOptions) {
    super('NORMALIZATION', message, options);
  }
}

/** Bad input, label or option given to a model. */
export class ModelError extends StreamnormError {
  constructor(message: string, options?: StreamnormErrorOptions) {
    super('MODEL', message, options);
  }
}

/** An update that would have made a weight non-finite; the model kept its last good state. */
export class NonFiniteUpdateError extends StreamnormError {
  constructor(message: string, options?: StreamnormErrorOptions) {
    super('NON_FINITE_UPDATE', message, options);
  }
}

/** Invalid configuration (CLI flags, config file, environment). */
export class ConfigError extends StreamnormError {
  constructor(message: string, options?: StreamnormErrorOptions) {
    super('CONFIG', message, options);
  }
}

/** An event that does not match the schema; it goes to dead letters with this reason. */
export class DecodeError extends StreamnormError {
  readonly reason: string;
  constructor(reason: string, message: string, options?: StreamnormErrorOptions) {
    super('DECODE', message, options);
    this.reason = reason;
  }
}

/** Checkpoint write or read failed. Writes are retriable (disk full may clear), corrupt files are not. */
export class CheckpointError extends StreamnormError {
  constructor(message: string, options?: StreamnormErrorOptions) {
    super('CHECKPOINT', message, options);
  }
}

/**
 * A checkpoint that does not fit this run (another topic, partitions, variants, schema, or parameters out of
 * bounds): never loaded, never overwritten. The message is one line saying what differs and what to do.
 */
export class CheckpointRefusedError extends CheckpointError {}

/** Kafka client failure surfaced from kafkajs (crash, retries exhausted, broker unreachable). */
export class KafkaError extends StreamnormError {
  constructor(message: string, options?: StreamnormErrorOptions) {
    super('KAFKA', message, options);
  }
}

/**
 * The broker refused who we are (`kind: 'sasl'`: bad credentials or mechanism) or we refused the broker
 * (`kind: 'tls'`: its certificate is not trusted, or it wants a client certificate). Never retried.
 */
export class KafkaAuthError extends KafkaError {
  readonly kind: 'sasl' | 'tls';
  constructor(kind: 'sasl' | 'tls', message: string, options?: StreamnormErrorOptions) {
    super(message, { ...options, retriable: false });
    this.kind = kind;
  }
}

/** A dataset could not be loaded or converted. */
export class DatasetError extends StreamnormError {
  constructor(message: string, options?: StreamnormErrorOptions) {
    super('DATASET', message, options);
  }
}

/**
 * Synchronized BatchNorm could not pool a step: a peer's contribution did not arrive in time (`retriable`), or
 * contributions disagree (different channel counts, a replica index out of range: not retriable).
 */
export class SyncError extends StreamnormError {
  constructor(message: string, options?: StreamnormErrorOptions) {
    super('SYNC', message, options);
  }
}
