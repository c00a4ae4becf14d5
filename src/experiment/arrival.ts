/**
 * Arrival orders for the normalization comparison: the same multiset of events, delivered the ways a Kafka
 * topic can deliver them. A topic keyed by device or user hands a consumer long runs of one key, and when
 * keys correlate with the label, long runs of one class; BatchNorm's batch statistics then describe one
 * class, not the stream.
 *
 * - `iid`: a seeded uniform shuffle (Fisher–Yates);
 * - `recorded`: as recorded;
 * - `bursty:R`: runs of R events of one class; each run's class is drawn with probability proportional to
 *   the events of that class still to come, and each class keeps its recorded order;
 * - `keyed:R`: the same with the event's `key` instead of its class.
 *
 * A run is shorter than R only when its class (or key) runs out, and two runs of the same class can follow
 * each other (the draw is with replacement), as in a topic where one key happens to send twice in a row.
 */
import { Rng } from '../core/rng.js';
import { ConfigError } from '../errors.js';
import type { StreamEvent } from '../streams/event.js';

export type ArrivalOrder =
  { kind: 'iid' } | { kind: 'recorded' } | { kind: 'bursty'; run: number } | { kind: 'keyed'; run: number };

/** The spec strings {@link parseArrival} accepts, for help texts and errors. */
export const arrivalSpecs = ['iid', 'recorded', 'bursty:R', 'keyed:R'] as const;

/** Parses `iid | recorded | bursty:R | keyed:R` (R a positive integer); the error names the bad spec. */
export function parseArrival(spec: string): ArrivalOrder {
  const s = spec.trim();
  if (s === 'iid' || s === 'recorded') return { kind: s };
  const m = /^(bursty|keyed):(\d+)$/.exec(s);
  if (m !== null) {
    const run = Number(m[2]);
    if (Number.isSafeInteger(run) && run >= 1) return { kind: m[1] as 'bursty' | 'keyed', run };
  }
  throw new ConfigError(
    `unknown arrival order '${spec}' (expected ${arrivalSpecs.join(', ')}, R a positive integer)`,
  );
}

/** Parses a comma list of arrival orders; duplicates are refused. */
export function parseArrivalList(text: string): ArrivalOrder[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new ConfigError('--arrival: no arrival order given');
  const seen = new Set<string>();
  return items.map((item) => {
    const order = parseArrival(item);
    const name = formatArrival(order);
    if (seen.has(name)) throw new ConfigError(`--arrival: '${name}' given twice`);
    seen.add(name);
    return order;
  });
}

/** The canonical spec of an order (`bursty:8`), as rows and charts label it. */
export function formatArrival(order: ArrivalOrder): string {
  return order.kind === 'bursty' || order.kind === 'keyed' ? `${order.kind}:${order.run}` : order.kind;
}

/**
 * The events in the given arrival order; a new array, the input is untouched. `seed` drives the shuffle and
 * the run draws, so one seed always gives one order. `keyed` needs a `key` on every event, `bursty` an
 * integer label.
 */
export function arrange(events: readonly StreamEvent[], order: ArrivalOrder, seed: number): StreamEvent[] {
  switch (order.kind) {
    case 'recorded':
      return events.slice();
    case 'iid':
      return new Rng(seed).shuffle(events.slice());
    case 'bursty':
      return inRuns(events, order.run, new Rng(seed), (e) => {
        if (typeof e.y !== 'number' || !Number.isInteger(e.y)) {
          throw new ConfigError(`arrival bursty: event ${e.id} has no class label`);
        }
        return String(e.y);
      });
    case 'keyed':
      return inRuns(events, order.run, new Rng(seed), (e) => {
        if (typeof e.key !== 'string') throw new ConfigError(`arrival keyed: event ${e.id} has no key`);
        return e.key;
      });
  }
}

/**
 * Runs of up to `run` events of one group, each run's group drawn in proportion to its remaining events.
 * Groups are visited in first-seen order, so the draw does not depend on Map iteration details.
 */
function inRuns<T>(items: readonly T[], run: number, rng: Rng, groupOf: (item: T) => string): T[] {
  const index = new Map<string, number>();
  const queues: T[][] = [];
  for (const item of items) {
    const g = groupOf(item);
    let i = index.get(g);
    if (i === undefined) {
      i = queues.length;
      index.set(g, i);
      queues.push([]);
    }
    queues[i].push(item);
  }
  const heads = new Array<number>(queues.length).fill(0);
  const out: T[] = [];
  let left = items.length;
  while (left > 0) {
    let pick = rng.int(left);
    let g = 0;
    while (pick >= queues[g].length - heads[g]) {
      pick -= queues[g].length - heads[g];
      g++;
    }
    const q = queues[g];
    const end = Math.min(q.length, heads[g] + run);
    for (let k = heads[g]; k < end; k++) out.push(q[k]);
    left -= end - heads[g];
    heads[g] = end;
  }
  return out;
}
