/**
 * `streamnorm record`: a Kafka topic to a recording file (JSON Lines of `{ topic, partition, offset,
 * timestamp, key, value }`), from the beginning, until --max-events messages or --idle-ms without one.
 * Reads with a throwaway consumer group and commits nothing, so it never moves anyone's offsets.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { createConsumer } from '../streams/kafka/client.js';
import { recordingLine } from '../streams/recordedMessage.js';
import { requireSetting, resolveConfig } from './config.js';
import { addKafkaOptions, kafkaPropertiesFromFlags, type KafkaFlags } from './kafkaSettings.js';
import { cliKafka } from './kafka.js';
import { createLogger } from './logger.js';
import { positiveInt } from './options.js';

interface RecordFlags extends KafkaFlags {
  brokers?: string;
  topic?: string;
  out: string;
  maxEvents?: number;
  idleMs: number;
  config?: string;
  logLevel?: string;
  quiet?: boolean;
}

export function registerRecord(program: Command): void {
  addKafkaOptions(program.command('record'))
    .description('record a Kafka topic to a JSON Lines file that replay and compare read')
    .option('--brokers <list>', 'Kafka brokers host:port[,host:port] (or KAFKA_BROKERS)')
    .option('--topic <topic>', 'topic to record (or STREAMNORM_TOPIC)')
    .requiredOption('--out <file>', 'recording file to write (replaced)')
    .option('--max-events <n>', 'stop after n messages', positiveInt)
    .option('--idle-ms <ms>', 'stop after this long without a message', positiveInt, 5000)
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .option('--quiet', 'no summary line on stdout')
    .action(async (flags: RecordFlags) => {
      const cfg = resolveConfig(
        {
          brokers: flags.brokers,
          topic: flags.topic,
          logLevel: flags.logLevel as never,
          kafka: kafkaPropertiesFromFlags(flags),
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'info');
      const brokers = requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
      const topic = requireSetting(cfg.topic, '--topic', 'topic', 'STREAMNORM_TOPIC');
      await mkdir(dirname(flags.out), { recursive: true });
      const out = createWriteStream(flags.out, { flags: 'w' });
      await new Promise<void>((resolve, reject) => {
        out.once('open', () => resolve());
        out.once('error', reject);
      });
      const kafka = await cliKafka(brokers, log, undefined, cfg.kafka);
      const consumer = createConsumer(kafka, { groupId: `streamnorm-record-${process.pid}-${Date.now()}` });
      let count = 0;
      let lastAt = Date.now();
      let finish!: () => void;
      const finished = new Promise<void>((r) => (finish = r));
      const started = Date.now();
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch }) => {
            let text = '';
            for (const m of batch.messages) {
              if (flags.maxEvents !== undefined && count >= flags.maxEvents) break;
              text +=
                recordingLine({
                  origin: {
                    topic: batch.topic,
                    partition: batch.partition,
                    offset: m.offset,
                    timestamp: Number(m.timestamp),
                  },
                  key: m.key === null ? null : m.key.toString(),
                  value: m.value ?? Buffer.alloc(0),
                  receivedAt: Date.now(),
                }) + '\n';
              count++;
            }
            if (text.length > 0 && !out.write(text))
              await new Promise<void>((r) => out.once('drain', () => r()));
            lastAt = Date.now();
            if (flags.maxEvents !== undefined && count >= flags.maxEvents) finish();
          },
        });
        const idle = setInterval(
          () => {
            if (Date.now() - lastAt >= flags.idleMs) finish();
          },
          Math.min(250, flags.idleMs),
        );
        await finished;
        clearInterval(idle);
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await new Promise<void>((resolve, reject) =>
          out.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
      }
      log.info(
        { topic, out: flags.out, messages: count, seconds: (Date.now() - started) / 1000 },
        'record finished',
      );
      if (!flags.quiet) process.stdout.write(`recorded ${count} messages from ${topic} to ${flags.out}\n`);
    });
}
