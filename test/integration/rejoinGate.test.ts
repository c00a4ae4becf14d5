/**
 * The rejoin gate (client.ts `beforeRejoin`) on the real broker: when a second member joins, the first member's
 * hook runs and completes before the group hands out the new assignment, whichever path kafkajs rejoins by.
 * Here the first member is idle (its fetches come back empty), the path where kafkajs notices the rebalance
 * between fetches and, ungated, rejoins at once. The hook's delay stands for a checkpoint in flight: the second
 * member must not be assigned anything (and so read no committed offset) before it is done.
 */
import { describe, expect, it } from 'vitest';
import { beforeRejoin, createConsumer, type Consumer } from '../../src/streams/kafka/client.js';
import { createTopic, testKafka, uniqueName, waitFor } from './helpers/kafka.js';

const kafka = testKafka();

describe('the rejoin gate on the real broker', () => {
  it("a member's pre-rejoin work finishes before the joining member gets its assignment", async () => {
    const topic = uniqueName('gate');
    const group = uniqueName('gate-g');
    await createTopic(kafka, topic, 2);
    const order: string[] = [];
    const consumers: Consumer[] = [];
    const start = async (name: string, onJoin: (memberId: string) => void): Promise<Consumer> => {
      const c = createConsumer(kafka, { groupId: group, sessionTimeout: 10_000, heartbeatInterval: 200 });
      consumers.push(c);
      c.on(c.events.GROUP_JOIN, ({ payload }) => {
        order.push(`${name} joined`);
        onJoin(payload.memberId);
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachBatch: async () => undefined });
      return c;
    };
    let hookRuns = 0;
    try {
      let firstJoins = 0;
      await start('a', (memberId) => {
        firstJoins++;
        beforeRejoin(group, memberId, async () => {
          hookRuns++;
          order.push('a hook started');
          await new Promise((r) => setTimeout(r, 1500));
          order.push('a hook done');
        });
      });
      await waitFor(() => firstJoins === 1, 30_000, 'the first member to join');
      await start('b', () => undefined);
      await waitFor(() => order.includes('b joined'), 60_000, 'the second member to join');
      expect(hookRuns).toBeGreaterThanOrEqual(1);
      expect(order.indexOf('a hook done')).toBeGreaterThan(-1);
      expect(order.indexOf('a hook done')).toBeLessThan(order.indexOf('b joined'));
    } finally {
      await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
    }
  });
});
