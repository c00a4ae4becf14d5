import type { SyncCapture } from '../../../src/scale/replica.js';

/**
 * A minimal sync capture number `seq` of replica 'r' (variant 'v', 10 events per capture), for tests that
 * write checkpoints through KafkaStateStore without a live replica.
 */
export function capture(seq: number): SyncCapture {
  return {
    seq,
    own: { v: [seq] },
    states: { v: { kind: 'X' } },
    events: 10,
    records: [{ variant: 'v', replica: 'r', seq, delta: [seq], events: 10 * seq, publishedAt: 1 }],
    syncState: {
      replica: 'r',
      seq,
      events: 10 * seq,
      unsyncedEvents: 0,
      own: { v: [seq] },
      base: { v: { kind: 'X' } },
      seen: {},
      syncedAt: 1,
    },
  };
}
