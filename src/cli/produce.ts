/**
 * `streamnorm produce`: a bundled dataset (or a seeded synthetic stream) into a Kafka topic as event JSON,
 * keyed by the event's key (or id), at a chosen rate.
 */
import type { Command } from 'commander';
import { datasetNames, isDatasetName, loadDataset } from '../datasets/loadDataset.js';
import { ConfigError } from '../errors.js';
import { ensureTopic } from '../streams/kafka/client.js';
import { KafkaPublisher } from '../streams/toKafka.js';
import { requireSetting, resolveConfig } from './config.js';
import { addKafkaOptions, kafkaPropertiesFromFlags, type KafkaFlags } from './kafkaSettings.js';
import { cliKafka } from './kafka.js';
import { createLogger } from './logger.js';
import {
  addInputOptions,
  DeadLetterReport,
  inputSpecFromFlags,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  type InputFlags,
  warnDeprecated,
} from './options.js';
import { existsSync } from 'node:fs';
import { DatasetError } from '../errors.js';
import { readInputEvents } from '../streams/inputEvents.js';
import type { StreamEvent } from '../streams/event.js';
import { createProgress } from './progress.js';

interface ProduceFlags extends KafkaFlags, InputFlags {
  dataset?: string;
  input?: string;
  bootstrapServer?: string;
  maxEvents?: number;
  synthetic?: boolean;
  seed?: number;
  topic?: string;
  brokers?: string;
  rate?: number;
  limit?: number;
  partitions: number;
  config?: string;
  logLevel?: string;
  quiet?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function registerProduce(program: Command): void {
  const cmd = addKafkaOptions(program.command('produce'))
    .description(
      'write a bundled dataset, a synthetic stream or your own event file (JSON Lines, CSV, a recording) into a Kafka topic as event JSON',
    )
    .option('--dataset <name>', `bundled stream: ${datasetNames.join(', ')}`)
    .option('--input <file>', 'an event file: a recording, JSON Lines of events, or CSV (see --format)')
    .option('--synthetic', 'the seeded synthetic stream (same as --dataset synthetic)')
    .option('--seed <n>', 'seed of the synthetic stream or the spam shuffle', nonNegativeInt)
    .option('--topic <topic>', 'target topic (or STREAMNORM_TOPIC); created if missing')
    .option('--brokers <list>', 'Kafka brokers host[:port][,...] (port 9092 by default; or KAFKA_BROKERS)')
    .option('--bootstrap-server <list>', 'same as --brokers (as Kafka tools name it)')
    .option('--rate <n>', 'events per second (default: as fast as the broker takes them)', positiveNumber)
    .option('--max-events <n>', 'send at most n events', positiveInt)
    .option('--limit <n>', 'deprecated: use --max-events', positiveInt)
    .option('--partitions <n>', 'partitions when the topic is created', positiveInt, 1);
  addInputOptions(cmd)
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .option('--quiet', 'no progress output')
    .action(async (flags: ProduceFlags) => {
      if (flags.limit !== undefined) warnDeprecated('--limit', '--max-events');
      const maxEvents = flags.maxEvents ?? flags.limit;
      const cfg = resolveConfig(
        {
          brokers: flags.brokers ?? flags.bootstrapServer,
          topic: flags.topic,
          logLevel: flags.logLevel as never,
          kafka: kafkaPropertiesFromFlags(flags),
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'info');
      const name = flags.synthetic ? 'synthetic' : (flags.dataset ?? flags.input);
      if (
        name === undefined ||
        (flags.synthetic && flags.dataset !== undefined && flags.dataset !== 'synthetic') ||
        (flags.input !== undefined && (flags.synthetic || flags.dataset !== undefined))
      ) {
        throw new ConfigError('produce needs exactly one of --dataset NAME, --synthetic or --input FILE');
      }
      if (flags.input === undefined && !isDatasetName(name))
        throw new ConfigError(
          `--dataset: unknown dataset '${name}' (expected one of ${datasetNames.join(', ')})`,
        );
      if (flags.input !== undefined && !existsSync(flags.input))
        throw new DatasetError(`--input: no such file ${flags.input}`);
      const brokers = requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
      const topic = requireSetting(cfg.topic, '--topic', 'topic', 'STREAMNORM_TOPIC');
      let events: StreamEvent[];
      if (flags.input !== undefined) {
        // lines that do not decode are reported with their line, not sent
        const report = new DeadLetterReport('produce', flags.input, flags.deadLetters);
        try {
          events = readInputEvents(flags.input, inputSpecFromFlags(flags), {
            unlabelled: true,
            ...(maxEvents === undefined ? {} : { limit: maxEvents }),
            onDeadLetter: (line, letter) => {
              report.add(line, letter);
              if (flags.strict) throw report.strictError(line, letter);
            },
          }).events;
        } finally {
          report.close();
        }
      } else
        events = loadDataset(name, {
          ...(maxEvents === undefined ? {} : { limit: maxEvents }),
          ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        });
      const kafka = await cliKafka(brokers, log, undefined, cfg.kafka);
      await ensureTopic(kafka, topic, flags.partitions);
      const publisher = new KafkaPublisher({ kafka, topic });
      const progress = createProgress({
        label: 'produce',
        total: events.length,
        unit: 'events',
        quiet: flags.quiet,
      });
      const started = performance.now();
      // Paced sends go in small chunks on an absolute schedule (no drift); unpaced in chunks of up to 500
      // messages, and always under 512 KB per request (the broker's default message.max.bytes is 1 MB per batch).
      const maxCount =
        flags.rate === undefined ? 500 : Math.max(1, Math.min(500, Math.floor(flags.rate / 20)));
      const maxBytes = 512 * 1024;
      let sent = 0;
      try {
        let i = 0;
        while (i < events.length) {
          if (flags.rate !== undefined) {
            const due = started + (i / flags.rate) * 1000;
            const wait = due - performance.now();
            if (wait > 0) await sleep(wait);
          }
          const records: { key: string; value: string }[] = [];
          let bytes = 0;
          while (i < events.length && records.length < maxCount) {
            const e = events[i];
            const value = JSON.stringify(e);
            if (records.length > 0 && bytes + value.length > maxBytes) break;
            records.push({ key: e.key ?? e.id, value });
            bytes += value.length;
            i++;
          }
          await publisher.publish(records);
          sent += records.length;
          progress.update(sent);
        }
      } finally {
        progress.stop();
        await publisher.close();
      }
      const seconds = (performance.now() - started) / 1000;
      log.info(
        {
          dataset: name,
          topic,
          events: sent,
          seconds: Number(seconds.toFixed(2)),
          rate: Number((sent / seconds).toFixed(1)),
        },
        'produce finished',
      );
      if (!flags.quiet)
        process.stdout.write(`produced ${sent} ${name} events to ${topic} in ${seconds.toFixed(1)} s\n`);
    });
}
