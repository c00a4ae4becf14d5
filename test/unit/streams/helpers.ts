import { createRequire } from 'node:module';
import { LinearModel, type LinearModelOptions } from '../../../src/models/linear/index.js';
import type { Features } from '../../../src/models/types.js';
import type { Envelope, RawMessage, StreamEvent } from '../../../src/streams/event.js';

/** kafkajs's ConsumerGroup: its (wrapped) joinAndSync is where a real GROUP_JOIN comes from. */
const ConsumerGroup = createRequire(import.meta.url)('kafkajs/src/consumer/consumerGroup.js') as {
  prototype: { joinAndSync(this: unknown): Promise<unknown> };
};

/**
 * Joins a scripted consumer as kafkajs does: `emitJoin` (its GROUP_JOIN) runs from inside
 * `ConsumerGroup.prototype.joinAndSync`, after JoinGroup set the group's generation and member id, which is where
 * fromKafka reads the generation from (client.ts `joinedGeneration`).
 */
export async function joinLikeKafkajs(
  member: { groupId: string; memberId: string; generationId: number },
  emitJoin: () => void,
): Promise<void> {
  await ConsumerGroup.prototype.joinAndSync.call({ ...member, retrier: async () => emitJoin() });
}

/** A raw message carrying `value` at `offset` of topic t, partition 0. */
export function raw(value: unknown, offset: number, partition = 0, topic = 't'): RawMessage {
  return {
    origin: { topic, partition, offset: String(offset), timestamp: 1_000 + offset },
    key: null,
    value,
    receivedAt: 0,
  };
}

export function eventJson(i: number, dim = 3, labeled = true): StreamEvent {
  const x = Array.from({ length: dim }, (_, k) => Math.sin(i * 1.3 + k) * (k + 1));
  const ev: StreamEvent = { id: `e${i}`, ts: 1_000 + i, x };
  if (labeled) ev.y = x[0] + 0.5 * x[1] > 0 ? 1 : 0;
  return ev;
}

export function envelope(ev: StreamEvent, offset: number, partition = 0): Envelope {
  return {
    event: ev,
    origin: { topic: 't', partition, offset: String(offset), timestamp: ev.ts },
    receivedAt: 0,
  };
}

/** `n` batches of `size` labeled events with consecutive offsets. */
export function envelopeBatches(n: number, size: number, dim = 3): Envelope[][] {
  return Array.from({ length: n }, (_, k) =>
    Array.from({ length: size }, (_, i) => envelope(eventJson(k * size + i, dim), k * size + i)),
  );
}

/** A logistic LinearModel (the real one) with a visible learning rate. */
export function logistic(lr = 0.5, extra: Partial<LinearModelOptions> = {}): SpyLinearModel {
  return new SpyLinearModel({ loss: 'logistic', optimizer: { type: 'sgd', lr }, ...extra });
}

/** The real LinearModel, recording which labels each learn call received (and in which order). */
export class SpyLinearModel extends LinearModel {
  learnCalls: { method: 'many' | 'one'; y: number[] }[] = [];
  override learnMany(X: Features[], Y: number[]): void {
    this.learnCalls.push({ method: 'many', y: [...Y] });
    super.learnMany(X, Y);
  }
  override learnOne(x: Features, y: number, w?: number): void {
    this.learnCalls.push({ method: 'one', y: [y] });
    super.learnOne(x, y, w);
  }
}
