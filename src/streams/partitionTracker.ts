/**
 * The acknowledgement bookkeeping of one Kafka partition, kept apart from the client (after kafkajs's
 * `consumer/offsetManager`): which offsets were fetched, handed to the pipeline and acknowledged, and the
 * frontier a checkpoint stores. Pure and synchronous, so it is property-tested on its own.
 *
 * A message moves through three states: queued (fetched, not yet handed over), pending (handed over, not yet
 * acknowledged) and acknowledged. Acknowledgements may come in any order (a dead letter is acknowledged before
 * the batch in front of it is learned); the frontier moves only over a contiguous acknowledged prefix.
 *
 * Offsets are JavaScript numbers: exact up to 2^53, far beyond any real partition.
 */
export class PartitionTracker {
  /** Offsets handed over, ascending; entries before `head` are behind the frontier. */
  private pending: number[] = [];
  private head = 0;
  /** Acknowledged offsets still above the frontier. */
  private readonly acked = new Set<number>();
  private frontierAt: number | null = null;
  private emittedAt: number | null = null;
  private fetchedAt: number | null = null;
  private queuedCount = 0;

  /**
   * The next offset after the contiguous acknowledged prefix of what was handed over: every handed-over
   * offset below it is acknowledged, and the smallest unacknowledged one is at or above it. What a checkpoint
   * stores as the partition's next offset. Null until a start offset or the first hand-over.
   */
  get frontier(): number | null {
    return this.frontierAt;
  }

  /** The offset after the last one handed over (the frontier plus what is pending). */
  get emittedNext(): number | null {
    return this.emittedAt;
  }

  /** The offset after the last one queued: the read position. */
  get fetchedNext(): number | null {
    return this.fetchedAt;
  }

  /** Messages fetched and not yet handed over. */
  get queued(): number {
    return this.queuedCount;
  }

  /** Messages queued or handed over and not yet behind the frontier. */
  get inFlight(): number {
    return this.pending.length - this.head + this.queuedCount;
  }

  /** Resume at `offset` (a checkpoint's next offset): nothing below it is handed over or acknowledged again. */
  start(offset: number): void {
    this.pending = [];
    this.head = 0;
    this.acked.clear();
    this.queuedCount = 0;
    this.frontierAt = offset;
    this.emittedAt = offset;
    this.fetchedAt = offset;
  }

  /** `count` fetched messages, the last at `lastOffset`, wait to be handed over. */
  queue(count: number, lastOffset: number): void {
    this.queuedCount += count;
    this.fetchedAt = lastOffset + 1;
  }

  /** A queued message is handed to the pipeline (in offset order). */
  emit(offset: number): void {
    if (this.queuedCount > 0) this.queuedCount--;
    this.pending.push(offset);
    this.emittedAt = offset + 1;
    if (this.frontierAt === null) this.frontierAt = offset;
  }

  /**
   * Acknowledge a handed-over offset; returns how many offsets moved behind the frontier (0 when it did not
   * move: an out-of-order ack, a duplicate, an offset from before the frontier or one never handed over).
   */
  ack(offset: number): number {
    // Behind the frontier (a duplicate, or from before a seek), or never handed over: nothing to do.
    if (this.frontierAt !== null && offset < this.frontierAt) return 0;
    if (this.emittedAt === null || offset >= this.emittedAt) return 0;
    const pending = this.pending;
    let passed = 0;
    if (this.acked.size === 0 && this.head < pending.length && pending[this.head] === offset) {
      // The common case, acknowledgements in order: no set bookkeeping.
      this.head++;
      this.frontierAt = offset + 1;
      passed = 1;
    } else {
      this.acked.add(offset);
    }
    while (this.head < pending.length && this.acked.has(pending[this.head])) {
      const o = pending[this.head++];
      this.acked.delete(o);
      this.frontierAt = o + 1;
      passed++;
    }
    if (this.head > 4096 && this.head * 2 > pending.length) {
      this.pending = pending.slice(this.head);
      this.head = 0;
    }
    return passed;
  }

  /** Forget what was queued and not handed over: the read position goes back to what was handed over. */
  dropQueued(): void {
    this.queuedCount = 0;
    this.fetchedAt = this.emittedAt;
  }
}
