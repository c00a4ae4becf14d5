/**
 * How synchronized BatchNorm's replicas meet once per step (the transport under {@link SyncBatchNorm}): each
 * replica hands in its contribution for (step, phase) and gets back every replica's, in replica order, so each
 * replica pools them in the same order and all compute bit-identical statistics.
 */
import { SyncError } from '../errors.js';

/** The two meetings of a training step: batch moments before the forward, gradient sums before the backward. */
export type SyncPhase = 'forward' | 'backward';

/** One replica's end of an all-gather among `replicas` peers. */
export interface StepExchange {
  /** Number of replicas taking part (the contributions each exchange returns). */
  readonly replicas: number;
  /** This replica's index in [0, replicas): its place in the pooling order. */
  readonly replica: number;
  /**
   * Contributes `local` for (step, phase) and resolves with every replica's contribution for it, index i from
   * replica i. Rejects with a {@link SyncError} when a peer's does not arrive in time.
   */
  exchange(step: number, phase: SyncPhase, local: Float64Array): Promise<Float64Array[]>;
}

interface Meeting {
  parts: (Float64Array | undefined)[];
  arrived: number;
  waiters: { resolve: (parts: Float64Array[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[];
}

/**
 * The in-process transport: N replicas in one process (tests, the distributed experiment). `member(i)` is
 * replica i's end.
 *
 * @example
 * const group = new InMemoryExchange(2);
 * const [a, b] = [group.member(0), group.member(1)];
 * const [pa, pb] = await Promise.all([a.exchange(0, 'forward', x0), b.exchange(0, 'forward', x1)]); // both [x0, x1]
 */
export class InMemoryExchange {
  private readonly meetings = new Map<string, Meeting>();

  constructor(
    readonly replicas: number,
    private readonly timeoutMs = 10_000,
  ) {
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new RangeError(`InMemoryExchange: replicas must be an integer >= 1, got ${String(replicas)}`);
    }
  }

  member(replica: number): StepExchange {
    if (!Number.isInteger(replica) || replica < 0 || replica >= this.replicas) {
      throw new RangeError(`InMemoryExchange: replica ${String(replica)} outside [0, ${this.replicas})`);
    }
    return {
      replicas: this.replicas,
      replica,
      exchange: (step, phase, local) => this.meet(`${phase}/${step}`, replica, local),
    };
  }

  private meet(key: string, replica: number, local: Float64Array): Promise<Float64Array[]> {
    let m = this.meetings.get(key);
    if (m === undefined) {
      m = {
        parts: Array.from({ length: this.replicas }, (): Float64Array | undefined => undefined),
        arrived: 0,
        waiters: [],
      };
      this.meetings.set(key, m);
    }
    const meeting = m;
    if (meeting.parts[replica] !== undefined) {
      return Promise.reject(new SyncError(`replica ${replica} contributed twice to ${key}`));
    }
    meeting.parts[replica] = Float64Array.from(local);
    meeting.arrived++;
    if (meeting.arrived === this.replicas) {
      this.meetings.delete(key);
      const parts = meeting.parts as Float64Array[];
      for (const w of meeting.waiters) {
        clearTimeout(w.timer);
        w.resolve(parts);
      }
      return Promise.resolve(parts);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = meeting.parts.flatMap((p, i) => (p === undefined ? [i] : []));
        reject(
          new SyncError(
            `${key}: no contribution from replica(s) ${missing.join(', ')} within ${this.timeoutMs} ms`,
            {
              retriable: true,
            },
          ),
        );
      }, this.timeoutMs);
      meeting.waiters.push({ resolve, reject, timer });
    });
  }
}
