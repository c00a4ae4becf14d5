/**
 * The rejoin gate reaches into kafkajs 2.2.4 (`ConsumerGroup.prototype.joinAndSync`). This pins that internal:
 * if an upgrade moves it, this test fails before any exactly-once guarantee silently does. The behaviour on a
 * real group is in test/integration/rejoinGate.test.ts.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { beforeRejoin } from '../../../../src/streams/kafka/client.js';

interface Group {
  groupId: string;
  memberId: string | null;
  joinAndSync(this: Group): Promise<unknown>;
}

const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: Group };

describe('the rejoin gate', () => {
  it('finds the kafkajs internal it wraps', () => {
    expect(typeof ConsumerGroup.prototype.joinAndSync).toBe('function');
  });

  it("awaits the member's hook before kafkajs joins, and only for that member of that group", async () => {
    const order: string[] = [];
    const unregister = beforeRejoin('g', 'm1', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push('hook');
    });
    const wrapped = ConsumerGroup.prototype.joinAndSync;
    // The wrapper calls the original with `this`; a stub group records when the original ran (it throws
    // on the stub's missing fields, after the hook).
    const member = (memberId: string | null, groupId = 'g'): Group => ({
      groupId,
      memberId,
      joinAndSync: wrapped,
    });
    const run = async (g: Group): Promise<void> => {
      await g.joinAndSync().catch(() => order.push('join'));
    };
    await run(member('m1'));
    expect(order).toEqual(['hook', 'join']);
    order.length = 0;
    await run(member('m2'));
    await run(member('m1', 'other'));
    await run(member(null));
    expect(order).toEqual(['join', 'join', 'join']);
    order.length = 0;
    unregister();
    await run(member('m1'));
    expect(order).toEqual(['join']);
  });
});
