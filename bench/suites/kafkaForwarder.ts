/**
 * The latency floor of the kafka bench: a bare kafkajs consumer that, for every fetched batch, parses each
 * event and publishes one prediction-sized record per event at once (sends overlapped as PREDICTION_PRODUCER
 * allows), with the consumer settings `run` uses. Run as a child process, like `streamnorm run`:
 * `tsx bench/suites/kafkaForwarder.ts BROKERS INPUT OUTPUT`; SIGTERM stops it.
 */
import { createKafka, createProducer, silentLogger } from '../../src/streams/kafka/client.js';
import { floorRecord } from './floorRecord.js';
import { PREDICTION_PRODUCER } from '../../src/streams/toKafka.js';

const [brokers, input, output] = process.argv.slice(2);
const kafka = createKafka({ brokers, logger: silentLogger, clientId: 'bench-forwarder' });
const producer = createProducer(kafka);
await producer.connect();
const consumer = kafka.consumer({
  groupId: `bench-forwarder-${Date.now().toString(36)}`,
  maxWaitTimeInMs: 100,
  maxBytesPerPartition: 1 << 20,
});
await consumer.connect();
await consumer.subscribe({ topics: [input], fromBeginning: true });
const acks = PREDICTION_PRODUCER.acks === 'all' ? -1 : 1;
const inFlight = new Set<Promise<unknown>>();
await consumer.run({
  eachBatch: async ({ batch }) => {
    for (let i = 0; i < batch.messages.length; i += PREDICTION_PRODUCER.batchRecords) {
      const messages = batch.messages.slice(i, i + PREDICTION_PRODUCER.batchRecords).map((m) => {
        const e = JSON.parse(m.value!.toString('utf8')) as { id: string; ts: number; y?: number };
        return floorRecord(e, batch.topic, batch.partition, m.offset);
      });
      const p: Promise<unknown> = producer
        .send({ topic: output, acks, messages })
        .then(() => inFlight.delete(p));
      inFlight.add(p);
      while (inFlight.size >= PREDICTION_PRODUCER.maxInFlight) await Promise.race(inFlight);
    }
  },
});
process.once('SIGTERM', () => {
  void Promise.all(inFlight)
    .then(() => Promise.all([consumer.disconnect(), producer.disconnect()]))
    .finally(() => process.exit(0));
});
