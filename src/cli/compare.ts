/**
 * `streamnorm compare`: the normalization experiment. Every normalizer × arrival batch size × seed through
 * the same prequential loop, in worker threads; writes results.json, results.csv, results.md and chart.svg
 * to --out and prints the table.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { datasetNames, isDatasetName } from '../datasets/loadDataset.js';
import { ConfigError, DatasetError } from '../errors.js';
import { parseBatchSizes } from '../experiment/cell.js';
import { defaultBatchSizes, runCompare, validateGrid } from '../experiment/compare.js';
import { formatTable, writeResults } from '../experiment/results.js';
import type { EventSource } from '../experiment/source.js';
import { defaultNormalizerSpecs, normalizerGrammar } from '../normalizers/descriptors.js';
import { resolveConfig } from './config.js';
import { createLogger } from './logger.js';
import {
  addInputOptions,
  DeadLetterReport,
  inputSpecFromFlags,
  positiveInt,
  positiveNumber,
  rate01,
  type InputFlags,
  warnDeprecated,
} from './options.js';
import { readInputEvents } from '../streams/inputEvents.js';
import { createProgress } from './progress.js';

interface CompareFlags extends InputFlags {
  input?: string;
  maxEvents?: number;
  config?: string;
  dataset?: string;
  recording?: string;
  normalizers?: string;
  batchSizes?: string;
  seeds?: number;
  out?: string;
  limit?: number;
  jobs?: number;
  hidden?: number;
  kernel?: number;
  lr?: number;
  dropout?: number;
  singletonPolicy?: string;
  logLevel?: string;
  quiet?: boolean;
}

export function registerCompare(program: Command): void {
  const cmd = program.command('compare');
  addInputOptions(cmd);
  cmd
    .description(
      'compare normalizers across arrival batch sizes on a bundled dataset or a recording (prequential error, loss, speed, train-eval gap)',
    )
    .option('--dataset <name>', `bundled stream: ${datasetNames.join(', ')}`)
    .option(
      '--input <file>',
      'an event file: a recording (as `streamnorm record` writes), JSON Lines of events, or CSV (see --format)',
    )
    .option('--recording <file>', 'same as --input')
    .option(
      '--normalizers <list>',
      `comma-separated: ${normalizerGrammar().join(', ')} (default: ${defaultNormalizerSpecs().join(',')})`,
    )
    .option(
      '--batch-sizes <list>',
      `comma-separated arrival batch sizes; poisson:M for random sizes of mean M (default: ${defaultBatchSizes})`,
    )
    .option('--seeds <n>', 'runs per cell, seeds 1..n (default 3)', positiveInt)
    .option(
      '--out <dir>',
      'output directory for results.json, results.csv, results.md, chart.svg (default compare-results)',
    )
    .option('--max-events <n>', 'use only the first n events', positiveInt)
    .option('--limit <n>', 'deprecated: use --max-events', positiveInt)
    .option('--jobs <n>', `worker threads (default: ${availableParallelism()} = cores)`, positiveInt)
    .option('--hidden <n>', 'conv channels of the WindowNet (default 16)', positiveInt)
    .option('--kernel <n>', 'conv kernel width (default 3)', positiveInt)
    .option('--lr <rate>', 'Adam learning rate (default 0.01)', positiveNumber)
    .option('--dropout <rate>', 'dropout rate (default 0)', rate01)
    .option(
      '--singleton-policy <policy>',
      "what BatchNorm does with one value per channel: 'error' | 'running-stats' | 'skip'",
    )
    .option('--config <file>', 'config file (YAML or JSON); its `compare` section supplies defaults')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .option('--quiet', 'no progress and no table on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  streamnorm compare --dataset sensor --normalizers batch,layer,group:4 --batch-sizes 1,4,16,poisson:8 --seeds 3 --out results/sensor\n',
    )
    .action(async (flags: CompareFlags) => {
      const cfg = resolveConfig({ logLevel: flags.logLevel as never }, flags.config);
      const c = cfg.compare ?? {};
      const log = createLogger(cfg.logLevel ?? 'info');
      const dataset = flags.dataset ?? (flags.recording === undefined ? c.dataset : undefined);
      const recording =
        flags.input ?? flags.recording ?? (flags.dataset === undefined ? c.recording : undefined);
      if ((dataset === undefined) === (recording === undefined))
        throw new ConfigError('compare needs exactly one of --dataset NAME or --recording FILE');
      if (dataset !== undefined && !isDatasetName(dataset))
        throw new ConfigError(
          `--dataset: unknown dataset '${dataset}' (expected one of ${datasetNames.join(', ')})`,
        );
      if (recording !== undefined && !existsSync(recording))
        throw new DatasetError(`--recording: no such file ${recording}`);
      if (flags.limit !== undefined) warnDeprecated('--limit', '--max-events');
      const limit = flags.maxEvents ?? flags.limit ?? c.limit;
      const source: EventSource =
        dataset !== undefined
          ? { dataset, options: limit === undefined ? {} : { limit } }
          : {
              recording: recording as string,
              ...(limit === undefined ? {} : { limit }),
              input: inputSpecFromFlags(flags),
            };
      if ('recording' in source) {
        // the workers read the file too; lines that do not decode are reported once, here, with their line
        const report = new DeadLetterReport('compare', source.recording, flags.deadLetters);
        try {
          readInputEvents(source.recording, source.input, {
            ...(limit === undefined ? {} : { limit }),
            onDeadLetter: (line, letter) => {
              report.add(line, letter);
              if (flags.strict) throw report.strictError(line, letter);
            },
          });
        } finally {
          report.close();
        }
      }
      const normalizersText =
        flags.normalizers ??
        (Array.isArray(c.normalizers) ? c.normalizers.join(',') : c.normalizers) ??
        defaultNormalizerSpecs().join(',');
      const normalizers = normalizersText
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const batchText =
        flags.batchSizes ??
        (Array.isArray(c.batchSizes) ? c.batchSizes.join(',') : c.batchSizes) ??
        defaultBatchSizes;
      const batchSizes = parseBatchSizes(batchText, '--batch-sizes');
      const policy = flags.singletonPolicy ?? c.model?.singletonPolicy;
      if (policy !== undefined && !['error', 'running-stats', 'skip'].includes(policy)) {
        throw new ConfigError(
          `--singleton-policy: expected 'error' | 'running-stats' | 'skip', got '${policy}'`,
        );
      }
      const m = c.model ?? {};
      const lr = flags.lr ?? m.lr;
      const model = {
        ...((flags.hidden ?? m.hidden) !== undefined && { hidden: flags.hidden ?? m.hidden }),
        ...((flags.kernel ?? m.kernel) !== undefined && { kernel: flags.kernel ?? m.kernel }),
        ...((flags.dropout ?? m.dropout) !== undefined && { dropout: flags.dropout ?? m.dropout }),
        ...(m.weightDecay !== undefined && { weightDecay: m.weightDecay }),
        ...(lr !== undefined && { optimizer: { type: 'adam' as const, lr } }),
        ...(policy !== undefined && { singletonPolicy: policy as 'error' | 'running-stats' | 'skip' }),
      };
      const seeds = flags.seeds ?? c.seeds ?? 3;
      const out = flags.out ?? c.out ?? 'compare-results';
      const jobs = flags.jobs ?? c.jobs;
      validateGrid(normalizers, seeds, jobs);
      const total = normalizers.length * batchSizes.length * seeds;
      log.info(
        {
          source,
          normalizers,
          batchSizes: batchText,
          seeds,
          jobs: jobs ?? availableParallelism(),
          cells: total,
        },
        'compare starting',
      );
      const progress = createProgress({ label: 'compare', total, unit: 'cells', quiet: flags.quiet });
      const result = await runCompare({
        source,
        normalizers,
        batchSizes,
        seeds,
        ...(jobs === undefined ? {} : { jobs }),
        model,
        onCell: (done, _total, cell) => {
          progress.update(done);
          if (cell.failed !== undefined)
            log.warn(
              {
                normalizer: cell.normalizer,
                batchSize: cell.batchSize,
                seed: cell.seed,
                reason: cell.failed,
              },
              'cell failed',
            );
        },
      });
      progress.stop();
      const paths = writeResults(out, result);
      if (!flags.quiet) process.stdout.write(formatTable(result));
      log.info(
        { ...paths, wallSeconds: Number(result.meta.wallSeconds.toFixed(2)), events: result.meta.events },
        'compare finished',
      );
    });
}
