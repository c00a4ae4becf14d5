/**
 * SyncBN through Kafka on the real broker: 3 in-process replicas, each with its own exchange on one topic, train a
 * synchronized BatchNorm for several steps; every replica ends with bit-identical pooled statistics, equal (1e-9)
 * to one BatchNorm over the concatenated batches, outputs and input gradients included. A missing peer is a
 * SyncError naming it, after the bounded timeout.
 */
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { tensor } from '../../src/core/tensor.js';
import { SyncError } from '../../src/errors.js';
import { BatchNorm } from '../../src/normalizers/index.js';
import { EXCHANGE_RETENTION_MS, KafkaExchange } from '../../src/scale/kafkaExchange.js';
import { withAdmin } from '../../src/streams/kafka/client.js';
import { SyncBatchNorm } from '../../src/scale/syncBatchNorm.js';
import { testKafka, uniqueName } from './helpers/kafka.js';

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

describe('SyncBN through Kafka', () => {
  it('3 replicas pool bit-identical statistics, equal to one BatchNorm over the concatenated batch', async () => {
    const kafka = testKafka();
    const topic = uniqueName('syncbn');
    const session = uniqueName('s');
    const rows = [2, 3, 1];
    const c = 4;
    const steps = 6;
    const exchanges = await Promise.all(
      rows.map((_, i) =>
        KafkaExchange.open({ kafka, topic, session, replicas: rows.length, replica: i, timeoutMs: 60_000 }),
      ),
    );
    try {
      const replicas = exchanges.map(
        (ex) => new SyncBatchNorm(new BatchNorm({ channels: c, momentum: null }), ex),
      );
      const single = new BatchNorm({ channels: c, momentum: null });
      const rng = new Rng(7);
      const total = rows.reduce((a, b) => a + b, 0);
      for (let t = 0; t < steps; t++) {
        // Replica i's events come from a distribution of its own (partition skew): level 3·i, spread 1 + i.
        const x: number[] = [];
        rows.forEach((n, i) => {
          for (let k = 0; k < n * c; k++) x.push(3 * i + (1 + i) * rng.normal());
        });
        const dy = Array.from({ length: total * c }, () => rng.normal());
        const y = single.forward(tensor(x, [total, c]));
        const dx = single.backward(tensor(dy, [total, c]));
        let at = 0;
        const parts = rows.map((n) => {
          const from = at;
          at += n * c;
          return { from, to: at, n };
        });
        const ys = await Promise.all(
          replicas.map((r, i) => r.forward(tensor(x.slice(parts[i].from, parts[i].to), [parts[i].n, c]))),
        );
        const dxs = await Promise.all(
          replicas.map((r, i) => r.backward(tensor(dy.slice(parts[i].from, parts[i].to), [parts[i].n, c]))),
        );
        parts.forEach((p, i) => {
          expectClose(ys[i].data, y.data.subarray(p.from, p.to));
          expectClose(dxs[i].data, dx.data.subarray(p.from, p.to));
        });
      }
      for (const r of replicas) {
        expect(r.step).toBe(steps);
        expect(r.bn.numBatchesTracked).toBe(steps);
        for (let j = 0; j < c; j++) {
          expect(Object.is(r.bn.runningMean[j], replicas[0].bn.runningMean[j])).toBe(true);
          expect(Object.is(r.bn.runningVar[j], replicas[0].bn.runningVar[j])).toBe(true);
        }
        expectClose(r.bn.runningMean, single.runningMean);
        expectClose(r.bn.runningVar, single.runningVar);
      }
    } finally {
      await Promise.all(exchanges.map((ex) => ex.close()));
    }
    // The exchange topic expires its records (an hour by default) and no replica's group is left behind.
    const configs = await withAdmin(kafka, (admin) =>
      admin.describeConfigs({
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
        includeSynonyms: false,
      }),
    );
    const entries = new Map(configs.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries.get('retention.ms')).toBe(String(EXCHANGE_RETENTION_MS));
    expect(entries.get('cleanup.policy')).toBe('delete');
    const groups = await withAdmin(kafka, (admin) => admin.listGroups());
    const ours = exchanges.map((ex) => ex.groupId);
    expect(ours.every((g) => g.startsWith('streamnorm-syncbn-'))).toBe(true);
    expect(groups.groups.filter((g) => ours.includes(g.groupId))).toEqual([]);
  });

  it('refuses a retention shorter than one exchange timeout before touching the broker', async () => {
    const err = await KafkaExchange.open({
      kafka: testKafka(),
      topic: uniqueName('syncbn-never'),
      session: 's',
      replicas: 2,
      replica: 0,
      timeoutMs: 10_000,
      retentionMs: 5_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncError);
    expect((err as Error).message).toMatch(/retentionMs must be an integer >= timeoutMs \(10000\), got 5000/);
  });

  it('a peer that never contributes is a SyncError naming it, after the timeout', async () => {
    const kafka = testKafka();
    const ex = await KafkaExchange.open({
      kafka,
      topic: uniqueName('syncbn-alone'),
      session: uniqueName('s'),
      replicas: 2,
      replica: 0,
      timeoutMs: 1500,
    });
    try {
      const bn = new SyncBatchNorm(new BatchNorm({ channels: 2 }), ex);
      const err = await bn.forward(tensor([1, 2, 3, 4], [2, 2])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SyncError);
      expect((err as SyncError).retriable).toBe(true);
      expect((err as Error).message).toContain('replica(s) 1 of 2');
    } finally {
      await ex.close();
    }
  });
});
