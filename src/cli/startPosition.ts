/**
 * `record --from`: where reading starts in each partition. `beginning`, `end`, an offset, or a time (ISO-8601,
 * or epoch milliseconds). A bare integer is an offset when it is below 10^12 and epoch milliseconds from 10^12
 * on (2001-09-09): no real partition holds 10^12 messages, and no recording wants events from before 2001.
 * `offset:N` and `time:MS|ISO` say which one explicitly.
 */
import { InvalidArgumentError } from 'commander';

export type StartPosition =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: string }
  | { kind: 'timestamp'; ms: number };

/** Bare integers from here on are epoch milliseconds (2001-09-09T01:46:40Z). */
export const EPOCH_MS_FROM = 1e12;

function timestamp(text: string): StartPosition {
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError(`time ${text}: too large`);
    return { kind: 'timestamp', ms };
  }
  // ISO-8601 only: a date, optionally with a time (Date.parse alone would take "March 7" too)
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text))
    throw new InvalidArgumentError(
      `expected beginning, end, an offset, or a time (ISO-8601 such as 2026-12-05T18:00:00Z, or epoch ms), got '${text}'`,
    );
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`'${text}' is not a valid date`);
  return { kind: 'timestamp', ms };
}

/** Parses a `--from` value (commander argument parser: a bad value is a usage error naming the flag). */
export function startPosition(value: string): StartPosition {
  const v = value.trim();
  if (v === 'beginning' || v === 'earliest') return { kind: 'beginning' };
  if (v === 'end' || v === 'latest') return { kind: 'end' };
  if (v.startsWith('offset:')) {
    const n = v.slice('offset:'.length);
    if (!/^\d+$/.test(n)) throw new InvalidArgumentError(`offset:${n}: expected an integer >= 0`);
    return { kind: 'offset', offset: BigInt(n).toString() };
  }
  if (v.startsWith('time:')) return timestamp(v.slice('time:'.length));
  if (/^\d+$/.test(v))
    return Number(v) < EPOCH_MS_FROM ? { kind: 'offset', offset: BigInt(v).toString() } : timestamp(v);
  return timestamp(v);
}

/** `--partitions 0,2`: distinct partition numbers, in order. */
export function partitionList(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))))
    throw new InvalidArgumentError(`expected partition numbers such as 0,2, got '${value}'`);
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}
