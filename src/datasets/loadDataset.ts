/**
 * The streams that ship with streamnorm, by name, so the CLI (`produce --dataset`, `compare --dataset`) and
 * the experiment load them the same way.
 */
import { DatasetError } from '../errors.js';
import type { InputKind } from '../models/modelFamily.js';
import type { StreamEvent } from '../streams/event.js';
import { mnistEvents, type MnistOptions } from './mnist.js';
import { sensorEvents, type SensorOptions } from './sensor.js';
import { spamEvents, type SpamOptions } from './spam.js';
import { syntheticEvents, type SyntheticOptions } from './synthetic.js';

export const datasetNames = ['sensor', 'spam', 'synthetic', 'mnist'] as const;
export type DatasetName = (typeof datasetNames)[number];

/** One line per dataset, for `--help` and the results' provenance. */
export const datasetDescriptions: Record<DatasetName, string> = {
  sensor:
    'real single-hop sensor network readings: per-mote windows [2 x 16] (humidity, temperature, standardized with a calibration prefix of 1,000 windows), anomaly label',
  spam: 'SpamAssassin emails as hashed bag-of-words (log1p counts): sparse 2^18 buckets, or dense 1,024 buckets with unit L2 norm for an Mlp; spam label, seeded shuffle',
  synthetic: 'seeded windows [3 x 32], class = sinusoid frequency, per-sample gain/offset and slow drift',
  mnist:
    '10,000 handwritten digits (28 x 28, grey levels in [0, 1]) as 784-dim vectors or [28 x 28] windows, label = digit, seeded shuffle',
};

/**
 * The input kinds each stream can be loaded as, the default first: a comparison picks the first one its
 * model family takes ({@link datasetInputFor}), so `--model mlp` gets spam as dense hashed vectors and
 * `--model windownet` or `rnn` gets MNIST as [28, 28] windows without further flags.
 */
export const datasetInputs: Record<DatasetName, readonly InputKind[]> = {
  sensor: ['window'],
  spam: ['sparse', 'vector'],
  synthetic: ['window'],
  mnist: ['vector', 'window'],
};

/** The first input kind of `name` that a family taking `accepted` can read, or undefined when none. */
export function datasetInputFor(name: DatasetName, accepted: readonly InputKind[]): InputKind | undefined {
  return datasetInputs[name].find((k) => accepted.includes(k));
}

export interface DatasetOptions {
  /**
   * The input kind to load the stream as (one of {@link datasetInputs}; default its first): spam as
   * `'vector'` is dense 1,024-bucket hashed features, MNIST as `'window'` is [28, 28] windows.
   */
  input?: InputKind;
  /** Keep the first `limit` events. */
  limit?: number;
  /** Seed (synthetic generation, spam shuffle); the sensor stream has none. */
  seed?: number;
  sensor?: SensorOptions;
  spam?: SpamOptions;
  synthetic?: SyntheticOptions;
  mnist?: Omit<MnistOptions, 'seed' | 'limit'>;
}

export function isDatasetName(name: string): name is DatasetName {
  return (datasetNames as readonly string[]).includes(name);
}

/** Loads a bundled stream as events in stream order. Throws DatasetError for an unknown name or bad option. */
export function loadDataset(name: string, opts: DatasetOptions = {}): StreamEvent[] {
  if (!isDatasetName(name))
    throw new DatasetError(`unknown dataset '${name}' (expected one of ${datasetNames.join(', ')})`);
  const seed = opts.seed === undefined ? {} : { seed: opts.seed };
  const input = opts.input ?? datasetInputs[name][0];
  if (!datasetInputs[name].includes(input)) {
    throw new DatasetError(
      `dataset '${name}' has no ${String(input)} input (it has ${datasetInputs[name].join(', ')})`,
    );
  }
  switch (name) {
    case 'sensor':
      return sensorEvents({ ...opts.sensor, ...(opts.limit === undefined ? {} : { limit: opts.limit }) });
    case 'spam':
      return spamEvents({
        ...opts.spam,
        ...(input === 'vector' ? { dense: true } : {}),
        ...seed,
        ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      });
    case 'mnist':
      return mnistEvents({
        ...opts.mnist,
        ...(opts.input === undefined ? {} : { shape: input as 'vector' | 'window' }),
        ...seed,
        ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      });
    case 'synthetic': {
      const base = { ...opts.synthetic, ...seed };
      return syntheticEvents(
        opts.limit === undefined ? base : { ...base, n: Math.min(opts.limit, base.n ?? opts.limit) },
      );
    }
  }
}
