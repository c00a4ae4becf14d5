/**
 * A live consumer as a child process, for the kill -9 tests: `node --import tsx consumer.ts` with the
 * configuration as JSON in CONSUMER_CONFIG. Prints one JSON line per durable checkpoint
 * ({"type":"checkpoint",...}) and, once `expected` messages were handed over, stops gracefully and prints
 * {"type":"done",...} with the summary and the model state. SIGTERM / SIGINT stop it gracefully too.
 */
import { runLivePipeline } from '../../../src/streams/livePipeline.js';
import type { RebatchPolicy } from '../../../src/streams/rebatch.js';
import { createKafka, silentLogger } from '../../../src/streams/kafka/client.js';
import { createSlowTestModels } from './models.js';

export interface ConsumerConfig {
  brokers: string;
  topic: string;
  groupId: string;
  checkpointDir: string;
  outputTopic?: string;
  deadLetterTopic?: string;
  /** Stop once this many messages were handed to the pipeline (events and poison alike). */
  expected: number;
  rebatch?: RebatchPolicy;
  maxInFlight?: number;
  checkpointEvery?: { messages?: number; ms?: number };
  /** Milliseconds each learn step blocks (0 = the plain model). */
  slowMs?: number;
}

const config = JSON.parse(process.env.CONSUMER_CONFIG ?? '{}') as ConsumerConfig;
const print = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');
const handle = await runLivePipeline({
  kafka: createKafka({ brokers: config.brokers, clientId: 'consumer-child', logger: silentLogger }),
  logger: silentLogger,
  topic: config.topic,
  groupId: config.groupId,
  outputTopic: config.outputTopic,
  deadLetterTopic: config.deadLetterTopic,
  checkpoint: config.checkpointDir,
  createModels: createSlowTestModels(config.slowMs ?? 0),
  rebatch: config.rebatch ?? { count: 32 },
  maxInFlight: config.maxInFlight,
  checkpointEvery: config.checkpointEvery,
  // A killed predecessor holds the partition until its session expires: keep that short.
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  schema: { x: { kind: 'vector', dim: 4 }, label: { classes: 2 }, maxBytes: 4096 },
  onCheckpointSaved: (ack) => print({ type: 'checkpoint', messages: ack.messages, offsets: ack.offsets }),
});
print({ type: 'started', resumedFrom: handle.resumedFrom?.messages ?? 0 });

const timer = setInterval(() => {
  const s = handle.source.stats();
  // Everything was handed over (this run's emitted plus what the checkpoint already covered).
  if ((handle.resumedFrom?.messages ?? 0) + s.emitted >= config.expected) {
    clearInterval(timer);
    void handle.stop();
  }
}, 20);

try {
  const summary = await handle.done;
  clearInterval(timer);
  print({ type: 'done', summary, state: handle.models.linear.state() });
  process.exit(0);
} catch (error) {
  clearInterval(timer);
  print({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
