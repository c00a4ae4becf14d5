/**
 * `streamnorm main` (what `npm start` runs): the comparison that shows where BatchNorm and the per-sample
 * normalizers part ways, in about two minutes on two cores and without a broker. The bundled synthetic stream goes through
 * the live operator pipeline (decodeEvents → rebatch → prequential → instrument) into BatchNorm, Layer,
 * Instance, Group, Batch Renorm, Online Norm and no normalizer side by side, at a few arrival batch sizes,
 * under iid and bursty arrival, over a few seeds, with Prometheus metrics served on 127.0.0.1:9464 while it
 * runs. It prints the table with the majority-class baseline and 95 % intervals, explains every column,
 * writes the charts, and ends with a reading generated from the intervals; `--serve` keeps the metrics up
 * afterwards. With --kafka it runs the live consumer instead (`run`), brokers from KAFKA_BROKERS or the config.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DatasetError } from '../errors.js';
import { parseArrivalList, formatArrival } from '../experiment/arrival.js';
import { parseBatchSizes } from '../experiment/cell.js';
import { runLiveComparison } from '../experiment/liveComparison.js';
import { reportWhy } from '../experiment/report.js';
import { columnNotes, formatTable, reading, writeResults } from '../experiment/results.js';
import type { EventSource } from '../experiment/source.js';
import { PipelineMetrics } from '../metrics/catalog.js';
import { ReplayReadiness } from '../metrics/readiness.js';
import { createRegistry } from '../metrics/createRegistry.js';
import { startMetricsServer } from '../metrics/server.js';
import { requireSetting, resolveConfig } from './config.js';
import { checkWritableDir } from './compare.js';
import { createLogger } from './logger.js';
import { port, positiveInt, positiveNumber } from './options.js';
import { createProgress } from './progress.js';
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
  /** --normalizers, or --variants (its canonical name) mapped here by applyFlagAliases. */
  normalizers?: string;
  batchSizes: string;
  arrival: string;
  seeds: number;
  events: number;
  lr: number;
  out: string;
  serve?: boolean;
  metricsPort?: number;
  metricsHost?: string;
  maxEvents?: number;
  kafka?: boolean;
  config?: string;
  logLevel?: string;
  quiet?: boolean;
}

/** What main compares side by side by default, and the variants it runs with --kafka. */
const COMPARED = 'batch,layer,instance,group:4,batchrenorm:start50:warmup500,online,none';
const LIVE = 'batch,layer,group:4,none';

export function registerMain(program: Command): void {
  addMetricsSecurityOptions(program.command('main'))
    .description(
      'the default job (npm start): BatchNorm against the per-sample normalizers under iid and bursty arrival through the live pipeline, metrics served, table with baseline and intervals, charts and a reading; with --kafka, consume from Kafka instead',
    )
    .option('--recording <file>', 'compare on a recording instead of the bundled synthetic stream')
    .option(
      '--normalizers <list>',
      `comma-separated normalizers compared side by side (default ${COMPARED}); with --kafka, variants as NORMALIZER or NAME=NORMALIZER (default ${LIVE})`,
    )
    .option('--batch-sizes <list>', 'arrival batch sizes', '2,8')
    .option('--arrival <list>', 'arrival orders', 'iid,bursty:8')
    .option('--seeds <n>', 'seeds (data draw, arrival order, initialization)', positiveInt, 3)
    .option('--events <n>', 'events per run', positiveInt, 1500)
    .option('--lr <rate>', 'Adam learning rate', positiveNumber, 0.03)
    .option('--out <dir>', 'where results.json, results.md and the charts go', 'main-results')
    .option('--serve', 'keep the metrics endpoint up after the comparison (Ctrl-C stops)')
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
      // a live consumer only when asked (--kafka), never because KAFKA_BROKERS happens to be exported
      if (flags.kafka === true) {
        requireSetting(cfg.brokers, '--kafka', 'brokers', 'KAFKA_BROKERS');
        log.debug({ brokers: cfg.brokers }, '--kafka: consuming from Kafka');
        await runLive(
          cfg,
          {
            // --variants (added by applyFlagAliases) lands in flags.normalizers: one list, read per mode
            variants:
              flags.normalizers !== undefined
                ? parseVariantList(flags.normalizers, '--variants')
                : (cfg.variants ?? parseVariantList(LIVE, '--variants')),
            topic: cfg.topic ?? 'streamnorm-events',
            group: cfg.group ?? 'streamnorm',
            outputTopic: cfg.outputTopic ?? 'streamnorm-predictions',
          },
          log,
        );
        return;
      }
      if (flags.recording !== undefined && !existsSync(flags.recording))
        throw new DatasetError(`recording not found: ${flags.recording}`);
      const source: EventSource =
        flags.recording !== undefined
          ? { recording: flags.recording, limit: flags.events }
          : { dataset: 'synthetic', options: { limit: flags.events } };
      const normalizers = (flags.normalizers ?? COMPARED)
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
      const batchSizes = parseBatchSizes(flags.batchSizes, '--batch-sizes').map((b) => {
        if (b.kind !== 'fixed') throw new DatasetError('--batch-sizes: main takes fixed sizes');
        return b.size;
      });
      const arrivals = parseArrivalList(flags.arrival).map(formatArrival);
      checkWritableDir(flags.out);
      const registry = createRegistry();
      const metrics = new PipelineMetrics(registry);
      const readiness = new ReplayReadiness(flags.recording ?? 'the synthetic stream');
      const server = await startMetricsServer({
        registry,
        host: cfg.metrics?.host ?? '127.0.0.1',
        port: cfg.metrics?.port ?? 9464,
        ...metricsServerSecurity(cfg.metrics),
        readiness: () => readiness.report(),
      });
      log.info({ url: `${server.url}/metrics` }, 'serving metrics');
      readiness.started();
      const total = flags.seeds * arrivals.length * batchSizes.length;
      const progress = createProgress({ label: 'main', total, unit: 'runs', quiet: flags.quiet });
      let result;
      try {
        result = await runLiveComparison({
          source,
          normalizers,
          batchSizes,
          arrivals,
          seeds: flags.seeds,
          lr: flags.lr,
          metrics,
          onRun: (done) => progress.update(done),
        });
        readiness.finished();
      } catch (error) {
        readiness.failed(error instanceof Error ? error.message : String(error));
        throw error;
      } finally {
        progress.stop();
        if (flags.serve !== true) await server.close();
      }
      const paths = writeResults(flags.out, result);
      if (!flags.quiet) {
        const m = result.meta;
        process.stdout.write(
          `\n${normalizers.length} normalizers side by side through the live pipeline on ${m.source} (${m.events} events of [${m.shape.join(', ')}], ` +
            `${m.classes} classes), ${m.seeds} seeds, one optimizer step per arrival batch, Adam lr ${m.lr}; ${m.wallSeconds.toFixed(0)} s:\n\n`,
        );
        process.stdout.write(formatTable(result));
        process.stdout.write('\nColumns:\n' + columnNotes.map(([k, v]) => `  ${k}: ${v}`).join('\n') + '\n');
        process.stdout.write('\nReading (a difference counts only when its 95 % interval excludes 0):\n');
        for (const l of reading(result)) process.stdout.write(`  ${l.replace(/\*\*/g, '')}\n`);
        const why = reportWhy([{ name: 'main', description: '', result }]);
        if (why.length > 0) {
          process.stdout.write('\nWhy, where the intervals show it:\n');
          for (const l of why) process.stdout.write(`  ${l.replace(/\*\*/g, '')}\n`);
        }
        process.stdout.write(`\nCharts: ${paths.svg}, ${paths.lossSvg}; tables: ${paths.md}\n`);
      }
      log.info({ wallSeconds: Number(result.meta.wallSeconds.toFixed(2)), out: flags.out }, 'main finished');
      if (flags.serve === true) {
        log.info({ url: `${server.url}/metrics` }, 'metrics stay up (--serve); Ctrl-C stops');
        await new Promise<void>((resolve) => {
          const stop = (): void => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await server.close();
      }
    });
}
