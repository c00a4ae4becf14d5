/**
 * The rejoin gate and the joined-generation lookup reach into kafkajs 2.2.4 (`ConsumerGroup.prototype.joinAndSync`
 * and the group's `generationId` and `memberId`). This pins those internals: if an upgrade moves them, this test
 * fails before any exactly-once guarantee silently does. The behaviour on a real group is in
 * test/integration/rejoinGate.test.ts and test/integration/fencedOffsets.test.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { beforeRejoin, installGroupHooks, joinedGeneration } from '../../../../src/streams/kafka/client.js';

interface Group {
  groupId: string;
  memberId: string | null;
  generationId?: number | null;
  joinAndSync(this: Group): Promise<unknown>;
  retrier?: (fn: (bail: (e: unknown) => void) => Promise<void>) => Promise<void>;
}

const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: Group };

describe('the rejoin gate', () => {
  it('finds the kafkajs internals it wraps', () => {
    expect(typeof ConsumerGroup.prototype.joinAndSync).toBe('function');
    // JoinGroup's answer lands in these fields, and GROUP_JOIN is emitted from inside joinAndSync (its payload
    // has no generation): what joinedGeneration relies on.
    const source = readFileSync(require.resolve('kafkajs/src/consumer/consumerGroup.js'), 'utf8');
    expect(source).toContain('this.generationId = groupData.generationId');
    expect(source).toContain('this.memberId = groupData.memberId');
    const body = source.slice(source.indexOf('  joinAndSync() {'), source.indexOf('  resetOffset('));
    expect(body).toContain('this.instrumentationEmitter.emit(GROUP_JOIN, payload)');
  });

  it("finds a member's generation while its join runs, by group and member, and nowhere else", async () => {
    installGroupHooks();
    const seen: Array<number | null> = [];
    // kafkajs's joinAndSync runs its work through `this.retrier`: a stub retrier looks where a GROUP_JOIN
    // listener would, then bails.
    const member = (memberId: string, generationId: number): Group => ({
      groupId: 'g',
      memberId,
      generationId,
      joinAndSync: ConsumerGroup.prototype.joinAndSync,
      retrier: async () => {
        seen.push(joinedGeneration('g', 'm1'), joinedGeneration('g', 'm2'), joinedGeneration('h', 'm1'));
      },
    });
    await member('m1', 7).joinAndSync();
    expect(seen).toEqual([7, null, null]);
    seen.length = 0;
    await member('m2', 9).joinAndSync();
    expect(seen).toEqual([null, 9, null]);
    expect(joinedGeneration('g', 'm1')).toBeNull();
    expect(joinedGeneration('g', 'm2')).toBeNull();
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
