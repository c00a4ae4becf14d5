/**
 * `streamnorm replay`: a recording back into Kafka (`--to-topic`, keys and order kept, optionally at the
 * recorded pace) or straight into model variants side by side (`--into-models`), deterministically.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { lastValueFrom, mergeMap, tap, bufferCount, filter } from 'rxjs';
import { ConfigError, DatasetError } from '../errors.js';
import { ensureTopic } from '../streams/kafka/client.js';
import { createEventDecoder, isEnvelope } from '../streams/decodeEvents.js';
import type { RawMessage } from '../streams/event.js';
import { fromInputFile, inputLineOf } from '../streams/inputFile.js';
import { KafkaPublisher } from '../streams/toKafka.js';
import { batchPolicy } from './batchPolicy.js';
import { requireSetting, resolveConfig } from './config.js';
import { addKafkaOptions, kafkaPropertiesFromFlags, type KafkaFlags } from './kafkaSettings.js';
import { chunkByBytes, cliKafka } from './kafka.js';
import { EXIT } from './exit.js';
import { createLogger } from './logger.js';
import {
  addInputOptions,
  DeadLetterReport,
  inputSpecFromFlags,
  port,
  positiveInt,
  speed,
  type InputFlags,
  warnDeprecated,
} from './options.js';
import { formatVariantTable, replayIntoModels } from './replayModels.js';
import { parseVariantList } from './variants.js';
import {
  addModelOptions,
  streamIsRegression,
  variantsWithModelFlags,
  type ModelFlags,
} from './modelOptions.js';
import {
  addMetricsSecurityOptions,
  metricsSecurityFromFlags,
  metricsServerSecurity,
  type MetricsSecurityFlags,
} from './metricsOptions.js';
import type { RebatchPolicy } from '../streams/rebatch.js';

interface ReplayFlags extends KafkaFlags, InputFlags, MetricsSecurityFlags, ModelFlags {
  recording?: string;
  input?: string;
  toTopic?: string;
  brokers?: string;
  bootstrapServer?: string;
  intoModels?: string | true;
  variants?: string | true;
  speed: 'max' | number;
  batch?: RebatchPolicy;
  metricsPort?: number;
  metricsHost?: string;
  config?: string;
  logLevel?: string;
  quiet?: boolean;
  classes?: number;
  dim?: number;
}

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
  const cmd = addMetricsSecurityOptions(addKafkaOptions(program.command('replay')))
    .description(
      'replay an event file (a recording, JSON Lines of events, or CSV) straight into model variants side by side, or into a Kafka topic (--to-topic)',
    )
    .option('--input <file>', 'event file to replay: a recording, JSON Lines of events, or CSV')
    .option('--recording <file>', 'same as --input')
    .option('--to-topic <topic>', 'publish the events to this topic instead (needs --brokers)')
    .option('--brokers <list>', 'Kafka brokers host[:port][,...] (port 9092 by default; or KAFKA_BROKERS)')
    .option('--bootstrap-server <list>', 'same as --brokers (as Kafka tools name it)')
    .option(
      '--variants [list]',
      'model variants: comma-separated normalizers, NAME=NORMALIZER, linear or mlp:NORMALIZER (default: batch,layer,group:4,none for windows, the default model otherwise)',
    )
    .option('--into-models [variants]', 'deprecated: use --variants')
    .option(
      '--speed <max|N>',
      "'max' or a factor of the recorded pace (1 = as recorded)",
      speed,
      'max' as const,
    )
    .option(
      '--batch <policy>',
      "rebatch for the models: 'arrival', a count, or poisson:MEAN (default 8)",
      batchPolicy,
    )
    .option(
      '--metrics-port <port>',
      'serve /metrics while replaying into models (0 = any free port; default: no server)',
      port,
    )
    .option('--metrics-host <host>', 'metrics bind address (default 127.0.0.1)')
    .option('--classes <n>', 'number of classes (default: from a sample of the file)', positiveInt)
    .option('--dim <n>', 'vector length (default: the most common shape in a sample)', positiveInt);
  addInputOptions(addModelOptions(cmd))
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .option('--quiet', 'no progress and no table')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  streamnorm replay --input events.jsonl --variants linear,layer\n' +
        '  streamnorm replay --input events.jsonl --model linear --loss hinge --regularizer l1:1e-4\n' +
        '  streamnorm replay --input data.csv --csv-columns x=1..8,y=9,key=0 --dead-letters bad.jsonl\n' +
        '  streamnorm replay --input recording.jsonl --to-topic events --brokers localhost\n',
    )
    .action(async (flags: ReplayFlags) => {
      if (flags.intoModels !== undefined) warnDeprecated('--into-models', '--variants');
      if (flags.recording !== undefined && flags.input !== undefined && flags.recording !== flags.input)
        throw new ConfigError('replay: --input and --recording name the same file; give one');
      const file = flags.input ?? flags.recording;
      if (file === undefined) throw new ConfigError('replay needs --input FILE');
      const variantsFlag = flags.variants ?? flags.intoModels;
      const brokersFlag = flags.brokers ?? flags.bootstrapServer;
      const cfg = resolveConfig(
        {
          brokers: brokersFlag,
          logLevel: flags.logLevel as never,
          kafka: kafkaPropertiesFromFlags(flags),
          metrics: metricsSecurityFromFlags(flags),
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'info');
      if (flags.toTopic !== undefined && variantsFlag !== undefined)
        throw new ConfigError('replay takes --to-topic TOPIC or --variants, not both');
      if (flags.toTopic !== undefined && flags.model !== undefined)
        throw new ConfigError('replay takes --to-topic TOPIC or --model, not both');
      if (!existsSync(file)) throw new DatasetError(`--input: no such file ${file}`);
      const input = inputSpecFromFlags(flags);
      const report = new DeadLetterReport('replay', file, flags.deadLetters);
      if (flags.toTopic === undefined) {
        const variants =
          variantsWithModelFlags(
            flags,
            typeof variantsFlag === 'string' ? parseVariantList(variantsFlag, '--variants') : undefined,
            cfg.variants,
            '--variants',
          ) ?? null;
        const regression = streamIsRegression(variants ?? undefined, flags.classes);
        // Ctrl-C: stop reading, score what was read, print the partial table, exit 130
        const abort = new AbortController();
        const onSigint = (): void => abort.abort();
        process.once('SIGINT', onSigint);
        let summary;
        try {
          summary = await replayIntoModels({
            recording: file,
            input,
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
            ...(flags.hashDim === undefined ? {} : { hashDim: flags.hashDim }),
            ...(regression ? { regression } : {}),
            strict: flags.strict === true,
            signal: abort.signal,
            onDeadLetter: (line, letter) => report.add(line, letter),
          });
        } finally {
          process.removeListener('SIGINT', onSigint);
          report.close();
        }
        if (!flags.quiet) {
          if (summary.interrupted)
            process.stdout.write(`interrupted: scores of the first ${summary.events} events\n`);
          process.stdout.write(formatVariantTable(summary));
        }
        log.info(
          {
            events: summary.events,
            deadLetters: summary.deadLetters,
            batches: summary.batches,
            wallSeconds: Number(summary.wallSeconds.toFixed(2)),
            interrupted: summary.interrupted,
          },
          'replay finished',
        );
        if (summary.interrupted) process.exitCode = EXIT.INTERRUPTED;
        return;
      }
      const brokers = requireSetting(cfg.brokers, '--brokers', 'brokers', 'KAFKA_BROKERS');
      const topic = flags.toTopic;
      // Lines that do not decode are reported, not published: only events reach the topic.
      const decoder = createEventDecoder();
      const kafka = await cliKafka(brokers, log, undefined, cfg.kafka);
      await ensureTopic(kafka, topic);
      const publisher = new KafkaPublisher({ kafka, topic });
      let sent = 0;
      try {
        await lastValueFrom(
          fromInputFile(file, input, { speed: flags.speed }).pipe(
            filter((m) => {
              const d = decoder.decode(m);
              if (isEnvelope(d)) return true;
              const line = inputLineOf(m.origin);
              report.add(line, d);
              if (flags.strict) throw report.strictError(line, d);
              return false;
            }),
            // at the recorded pace every message goes alone; at max speed, in chunks of 500, in order
            bufferCount(flags.speed === 'max' ? 500 : 1),
            // in order, one request at a time, each under the broker's default 1 MB batch limit
            mergeMap(async (batch) => {
              // the recorded headers go out again with their messages
              const records = batch.map((m) => ({
                key: m.key ?? '',
                value: valueText(m),
                ...(m.headers === undefined ? {} : { headers: m.headers }),
              }));
              for (const part of chunkByBytes(records)) await publisher.publish(part);
              return batch.length;
            }, 1),
            tap((n) => {
              sent += n;
            }),
          ),
          { defaultValue: 0 },
        );
      } finally {
        report.close();
        await publisher.close();
      }
      log.info({ topic, messages: sent }, 'replay finished');
      if (!flags.quiet) process.stdout.write(`replayed ${sent} messages from ${file} to ${topic}\n`);
    });
}
