/**
 * `streamnorm replay`: a recording back into Kafka (`--to-topic`, keys and order kept, optionally at the
 * recorded pace) or straight into model variants side by side (`--into-models`), deterministically.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { lastValueFrom, mergeMap, tap, bufferCount } from 'rxjs';
import { ConfigError, DatasetError } from '../errors.js';
import { ensureTopic } from '../streams/kafka/client.js';
import { fromRecording } from '../streams/fromRecording.js';
import type { RawMessage } from '../streams/event.js';
import { KafkaPublisher } from '../streams/toKafka.js';
import { batchPolicy } from './batchPolicy.js';
import { requireSetting, resolveConfig } from './config.js';
import { addKafkaOptions, kafkaPropertiesFromFlags, type KafkaFlags } from './kafkaSettings.js';
import { chunkByBytes, cliKafka } from './kafka.js';
import { createLogger } from './logger.js';
import { port, positiveInt, speed } from './options.js';
import { formatVariantTable, replayIntoModels } from './replayModels.js';
import { parseVariantList } from './variants.js';
import {
  addMetricsSecurityOptions,
  metricsSecurityFromFlags,
  metricsServerSecurity,
  type MetricsSecurityFlags,
} from './metricsOptions.js';
import type { RebatchPolicy } from '../streams/rebatch.js';

interface ReplayFlags extends KafkaFlags, MetricsSecurityFlags {
  recording: string;
  toTopic?: string;
  brokers?: string;
  intoModels?: string | true;
  speed: 'max' | number;
  batch?: RebatchPolicy;
  metricsPort?: number;
  metricsHost?: string;
  config?: string;
  logLevel?: string;
  quiet?: boolean;
  classes?: number;
  dim?: number;
  strict?: boolean;
}

/** Dead letters printed one per line on stderr before only the count is reported. */
const DEAD_LETTER_LINES = 100;

/** A replay runs at disk speed: a flush by time would make the cut depend on read timing, so none is kept. */
function withoutTimeFlush(policy: RebatchPolicy): RebatchPolicy {
  if (policy === 'arrival' || 'timeMs' in policy) return policy;
  const { maxWaitMs: _w, maxAgeMs: _a, ...rest } = policy;
  return rest;
}

function valueText(m: RawMessage): string | Buffer {
  const v = m.value;
  if (Buffer.isBuffer(v) || typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function registerReplay(program: Command): void {
  addMetricsSecurityOptions(addKafkaOptions(program.command('replay')))
    .description(
      'replay a recording into a Kafka topic (--to-topic) or straight into model variants side by side (--into-models)',
    )
    .requiredOption('--recording <file>', 'recording to replay (JSON Lines)')
    .option('--to-topic <topic>', 'publish the recorded messages to this topic (needs --brokers)')
    .option('--brokers <list>', 'Kafka brokers host:port[,host:port] (or KAFKA_BROKERS)')
    .option(
      '--into-models [variants]',
      'feed the models directly: comma-separated normalizers, NAME=NORMALIZER, linear or mlp:NORMALIZER (default: batch,layer,group:4,none for windows, the default model otherwise)',
    )
    .option(
      '--speed <max|N>',
      "'max' or a factor of the recorded pace (1 = as recorded)",
      speed,
      'max' as const,
    )
    .option(
      '--batch <policy>',
      "rebatch for --into-models: 'arrival', a count, or poisson:MEAN (default 8)",
      batchPolicy,
    )
    .option(
      '--metrics-port <port>',
      'serve /metrics while replaying into models (0 = any free port; default: no server)',
      port,
    )
    .option('--metrics-host <host>', 'metrics bind address (default 127.0.0.1)')
    .option(
      '--classes <n>',
      'number of classes for --into-models (default: from a sample of the recording)',
      positiveInt,
    )
    .option(
      '--dim <n>',
      'vector length for --into-models (default: the most common shape in a sample)',
      positiveInt,
    )
    .option('--strict', 'stop at the first line that does not decode (exit code 3) instead of skipping it')
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .option('--quiet', 'no progress and no table')
    .action(async (flags: ReplayFlags) => {
      const cfg = resolveConfig(
        {
          brokers: flags.brokers,
          logLevel: flags.logLevel as never,
          kafka: kafkaPropertiesFromFlags(flags),
          metrics: metricsSecurityFromFlags(flags),
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'info');
      if ((flags.toTopic === undefined) === (flags.intoModels === undefined))
        throw new ConfigError('replay needs exactly one of --to-topic TOPIC or --into-models [variants]');
      if (!existsSync(flags.recording))
        throw new DatasetError(`--recording: no such file ${flags.recording}`);
      if (flags.intoModels !== undefined) {
        const variants =
          typeof flags.intoModels === 'string'
            ? parseVariantList(flags.intoModels, '--into-models')
            : (cfg.variants ?? null);
        let deadLetters = 0;
        const summary = await replayIntoModels({
          recording: flags.recording,
          variants,
          speed: flags.speed,
          batch: withoutTimeFlush(flags.batch ?? cfg.batch ?? { count: 8 }),
          metrics:
            flags.metricsPort === undefined
              ? null
              : {
                  port: flags.metricsPort,
                  host: flags.metricsHost ?? cfg.metrics?.host ?? '127.0.0.1',
                  ...metricsServerSecurity(cfg.metrics),
                },
          logger: log,
          quiet: flags.quiet,
          ...(flags.classes === undefined ? {} : { classes: flags.classes }),
          ...(flags.dim === undefined ? {} : { dim: flags.dim }),
          strict: flags.strict === true,
          onDeadLetter: (line, letter) => {
            if (++deadLetters <= DEAD_LETTER_LINES)
              process.stderr.write(
                `streamnorm: replay: line ${line ?? '?'}: ${letter.reason}: ${letter.detail.slice(0, 200)}\n`,
              );
          },
        });
        if (deadLetters > DEAD_LETTER_LINES)
          process.stderr.write(
            `streamnorm: replay: ${deadLetters - DEAD_LETTER_LINES} more dead letters not shown (${deadLetters} in all)\n`,
          );
        if (!flags.quiet) process.stdout.write(formatVariantTable(summary));
        log.info(
          {
            events: summary.events,
            deadLetters: summary.deadLetters,
            batches: summary.batches,
            wallSeconds: Number(summary.wallSeconds.toFixed(2)),
          },
          'replay finished',
        );
        return;
      }
      const brokers = requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
      const topic = flags.toTopic as string;
      const kafka = await cliKafka(brokers, log, undefined, cfg.kafka);
      await ensureTopic(kafka, topic);
      const publisher = new KafkaPublisher({ kafka, topic });
      let sent = 0;
      try {
        await lastValueFrom(
          fromRecording(flags.recording, { speed: flags.speed }).pipe(
            // at the recorded pace every message goes alone; at max speed, in chunks of 500, in order
            bufferCount(flags.speed === 'max' ? 500 : 1),
            // in order, one request at a time, each under the broker's default 1 MB batch limit
            mergeMap(async (batch) => {
              for (const part of chunkByBytes(batch.map((m) => ({ key: m.key ?? '', value: valueText(m) }))))
                await publisher.publish(part);
              return batch.length;
            }, 1),
            tap((n) => {
              sent += n;
            }),
          ),
          { defaultValue: 0 },
        );
      } finally {
        await publisher.close();
      }
      log.info({ topic, messages: sent }, 'replay finished');
      if (!flags.quiet)
        process.stdout.write(`replayed ${sent} messages from ${flags.recording} to ${topic}\n`);
    });
}
