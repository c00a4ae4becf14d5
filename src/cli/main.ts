/**
 * `streamnorm main` (what `npm start` runs): the bundled real sensor recording replayed through the live
 * operator pipeline into several normalizer variants side by side, with metrics served on
 * 127.0.0.1:9464 while it runs and the comparison table printed at the end. No broker needed. With
 * --kafka it runs the live consumer instead (`streamnorm run`), brokers from KAFKA_BROKERS or the config.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DatasetError } from '../errors.js';
import { requireSetting, resolveConfig } from './config.js';
import { createLogger } from './logger.js';
import { port, positiveInt } from './options.js';
import { formatVariantTable, replayIntoModels } from './replayModels.js';
import { runLive } from './run.js';
import { parseVariantList } from './variants.js';
import {
  addMetricsSecurityOptions,
  metricsSecurityFromFlags,
  metricsServerSecurity,
  type MetricsSecurityFlags,
} from './metricsOptions.js';

/** The recording that ships with the package (data/ is in package.json#files). */
export function bundledRecording(): string {
  // dist/cli/main.js and src/cli/main.ts are both two levels below the package root
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'sensor.jsonl');
}

interface MainFlags extends MetricsSecurityFlags {
  recording?: string;
  variants: string;
  metricsPort?: number;
  metricsHost?: string;
  maxEvents?: number;
  kafka?: boolean;
  config?: string;
  logLevel?: string;
  quiet?: boolean;
}

export function registerMain(program: Command): void {
  addMetricsSecurityOptions(program.command('main'))
    .description(
      'the default job (npm start): replay the bundled sensor recording into normalizer variants side by side, serve metrics, print the table; with --kafka, consume from Kafka instead',
    )
    .option('--recording <file>', 'recording to replay (default: the bundled data/sensor.jsonl)')
    .option('--variants <list>', 'comma-separated normalizers or NAME=NORMALIZER', 'batch,layer,group:4,none')
    .option('--metrics-port <port>', 'metrics port (default 9464; 0 = any free port)', port)
    .option('--metrics-host <host>', 'metrics bind address (default 127.0.0.1)')
    .option(
      '--kafka',
      'consume from Kafka (brokers from KAFKA_BROKERS, STREAMNORM_BROKERS or the config) instead of the bundled recording',
    )
    .option('--max-events <n>', 'with --kafka: stop gracefully after learning n events', positiveInt)
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .option('--quiet', 'no progress and no table')
    .action(async (flags: MainFlags) => {
      const cfg = resolveConfig(
        {
          logLevel: flags.logLevel as never,
          metrics: {
            ...(flags.metricsPort === undefined ? {} : { port: flags.metricsPort }),
            ...(flags.metricsHost === undefined ? {} : { host: flags.metricsHost }),
            ...metricsSecurityFromFlags(flags),
          },
        },
        flags.config,
      );
      const log = createLogger(cfg.logLevel ?? 'info');
      const variants = parseVariantList(flags.variants, '--variants');
      // a live consumer only when asked (--kafka), never because KAFKA_BROKERS happens to be exported
      if (flags.kafka === true) {
        requireSetting(cfg.brokers, '--kafka', 'brokers', 'KAFKA_BROKERS');
        log.debug({ brokers: cfg.brokers }, '--kafka: consuming from Kafka');
        await runLive(
          cfg,
          {
            variants: cfg.variants ?? variants,
            topic: cfg.topic ?? 'streamnorm-events',
            group: cfg.group ?? 'streamnorm',
            outputTopic: cfg.outputTopic ?? 'streamnorm-predictions',
          },
          log,
        );
        return;
      }
      const recording = flags.recording ?? bundledRecording();
      if (!existsSync(recording)) throw new DatasetError(`recording not found: ${recording}`);
      const summary = await replayIntoModels({
        recording,
        variants,
        speed: 'max',
        batch: cfg.batch ?? { count: 8 },
        metrics: {
          host: cfg.metrics?.host ?? '127.0.0.1',
          port: cfg.metrics?.port ?? 9464,
          ...metricsServerSecurity(cfg.metrics),
        },
        logger: log,
        quiet: flags.quiet,
      });
      if (!flags.quiet) {
        process.stdout.write(
          `\nPrequential scores on ${recording} (${summary.events} events, ${summary.batches} batches, ${summary.wallSeconds.toFixed(1)} s):\n`,
        );
        process.stdout.write(formatVariantTable(summary));
      }
      log.info(
        { events: summary.events, wallSeconds: Number(summary.wallSeconds.toFixed(2)) },
        'main finished',
      );
    });
}
