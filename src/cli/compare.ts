/**
 * `streamnorm compare`: the normalization experiment. Every normalizer × arrival batch size × seed through
 * the same prequential loop, in worker threads; writes results.json, results.csv, results.md and chart.svg
 * to --out and prints the table.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { datasetInputFor, datasetNames, isDatasetName } from '../datasets/loadDataset.js';
import { ConfigError, DatasetError } from '../errors.js';
import { arrivalSpecs, parseArrivalList, formatArrival } from '../experiment/arrival.js';
import { parseBatchSizes } from '../experiment/cell.js';
import {
  defaultBatchSizes,
  defaultLrGrid,
  parseStepEvents,
  runCompare,
  validateGrid,
} from '../experiment/compare.js';
import { columnNotes, formatTable, writeResults } from '../experiment/results.js';
import { modelFamilies, modelFamily } from '../models/modelFamilies.js';
import type { EventSource } from '../experiment/source.js';
import { defaultNormalizerSpecs, normalizerGrammar } from '../normalizers/descriptors.js';
import { resolveConfig } from './config.js';
import { createLogger } from './logger.js';
import {
  addInputOptions,
  DeadLetterReport,
  inputSpecFromFlags,
  nonNegativeInt,
  positiveInt,
  rate01,
  type InputFlags,
  warnDeprecated,
} from './options.js';
import { readInputEvents } from '../streams/inputEvents.js';
import { createProgress } from './progress.js';
import { forFlag, oneOf, parseHidden, parseModelFamily, parseNormalizer } from './modelOptions.js';

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
  hidden?: string;
  kernel?: number;
  readout?: string;
  lr?: string;
  arrival?: string;
  stepEvents?: string;
  warmup?: number;
  model?: string;
  explain?: boolean;
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
    .option('--arrival <list>', `comma-separated arrival orders: ${arrivalSpecs.join(', ')} (default iid)`)
    .option(
      '--step-events <n>',
      "events per optimizer step (gradients accumulate over arrival batches), or 'arrival' for one step per arrival batch (default: the largest batch size)",
    )
    .option(
      '--lr <rate>',
      `Adam learning rate, or 'auto': per row the best of ${defaultLrGrid.join(',')} on a tuning draw never scored (default 0.01)`,
    )
    .option(
      '--warmup <n>',
      'events left out of the after-warm-up scores (default: a fifth of the stream, at most 1000)',
      nonNegativeInt,
    )
    .option(
      '--model <family>',
      `model family: ${netFamilyNames().join(' | ')} (default: windownet for windows, mlp for vectors)`,
    )
    .option(
      '--hidden <list>',
      'hidden sizes: conv channels of a WindowNet, layer sizes of an Mlp (64,64 = two layers) (default 16)',
    )
    .option('--kernel <n>', 'windownet: conv kernel width (default 7)', positiveInt)
    .option(
      '--readout <readout>',
      "rnn: what the classifier reads, 'mean' of the hidden states or 'last' (default mean)",
    )
    .option('--dropout <rate>', 'dropout rate (default 0)', rate01)
    .option(
      '--singleton-policy <policy>',
      "what BatchNorm does with one value per channel: 'error' | 'running-stats' | 'skip'",
    )
    .option('--config <file>', 'config file (YAML or JSON); its `compare` section supplies defaults')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | silent')
    .option('--quiet', 'no progress and no table on stdout')
    .option('--explain', 'print what each column means under the table')
    .addHelpText(
      'after',
      '\nExample:\n  streamnorm compare --dataset sensor --variants batch,layer,group:4 --batch-sizes 1,4,16,poisson:8 --seeds 3 --out results/sensor\n',
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
      const m = c.model ?? {};
      // one grammar with run and replay (modelOptions.ts), narrowed to the nets a comparison runs
      const family =
        flags.model !== undefined
          ? forFlag('--model', (t) => parseModelFamily(t, netFamilyNames()))(flags.model)
          : m.family === undefined
            ? undefined
            : forFlag('compare.model.family', (t) => parseModelFamily(t, netFamilyNames()))(m.family);
      // A dataset that ships in several input kinds (spam: sparse or dense hashed vectors; mnist: vectors or
      // [28, 28] windows) is loaded as the first kind the model family reads (any net family by default).
      const input =
        dataset !== undefined && isDatasetName(dataset)
          ? datasetInputFor(
              dataset,
              family === undefined ? ['vector', 'window'] : modelFamily(family).traits.inputs,
            )
          : undefined;
      const source: EventSource =
        dataset !== undefined
          ? {
              dataset,
              options: {
                ...(input === undefined ? {} : { input }),
                ...(limit === undefined ? {} : { limit }),
              },
            }
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
      const checkNormalizer = forFlag(
        flags.normalizers === undefined ? 'compare.normalizers' : '--variants',
        parseNormalizer,
      );
      for (const n of normalizers) checkNormalizer(n);
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
      const lrText = flags.lr;
      let lr: number | 'auto' | undefined = m.lr;
      if (lrText !== undefined) {
        if (lrText.trim() === 'auto') lr = 'auto';
        else if (/^\d*\.?\d+(e-?\d+)?$/i.test(lrText.trim()) && Number(lrText) > 0) lr = Number(lrText);
        else throw new ConfigError(`--lr: expected a rate > 0 or 'auto', got '${lrText}'`);
      }
      const hidden = flags.hidden === undefined ? m.hidden : forFlag('--hidden', parseHidden)(flags.hidden);
      const readout =
        flags.readout === undefined
          ? m.readout
          : forFlag('--readout', (t) => oneOf(t, ['mean', 'last'] as const))(flags.readout);
      if (readout !== undefined && family !== 'rnn')
        throw new ConfigError(`--readout: only --model rnn has a readout`);
      const model = {
        ...(family !== undefined && { family }),
        ...(hidden !== undefined && { hidden }),
        ...((flags.kernel ?? m.kernel) !== undefined && { kernel: flags.kernel ?? m.kernel }),
        ...(readout !== undefined && { readout }),
        ...((flags.dropout ?? m.dropout) !== undefined && { dropout: flags.dropout ?? m.dropout }),
        ...(m.weightDecay !== undefined && { weightDecay: m.weightDecay }),
        ...(typeof lr === 'number' && { lr }),
        ...(policy !== undefined && { singletonPolicy: policy as 'error' | 'running-stats' | 'skip' }),
      };
      const seeds = flags.seeds ?? c.seeds ?? 3;
      const out = flags.out ?? c.out ?? 'compare-results';
      const jobs = flags.jobs ?? c.jobs;
      validateGrid(normalizers, seeds, jobs);
      const arrivalText =
        flags.arrival ?? (Array.isArray(c.arrival) ? c.arrival.join(',') : c.arrival) ?? 'iid';
      const arrivals = parseArrivalList(arrivalText).map(formatArrival);
      const stepEvents = flags.stepEvents === undefined ? c.stepEvents : parseStepEvents(flags.stepEvents);
      const warmup = flags.warmup ?? c.warmup;
      checkWritableDir(out);
      const total =
        normalizers.length *
        batchSizes.length *
        arrivals.length *
        (seeds + (lr === 'auto' ? defaultLrGrid.length : 0));
      const progress = createProgress({ label: 'compare', total, unit: 'cells', quiet: flags.quiet });
      const result = await runCompare({
        source,
        normalizers,
        batchSizes,
        arrivals,
        seeds,
        ...(stepEvents === undefined ? {} : { stepEvents }),
        ...(lr === undefined ? {} : { lr }),
        ...(warmup === undefined ? {} : { warmup }),
        ...(jobs === undefined ? {} : { jobs }),
        model,
        onStart: (cells) => {
          log.info(
            {
              source,
              normalizers,
              batchSizes: batchText,
              arrivals,
              seeds,
              jobs: jobs ?? availableParallelism(),
              cells,
            },
            'compare starting',
          );
        },
        onCell: (done, _total, cell) => {
          progress.update(done);
          if (cell.failed !== undefined)
            log.warn(
              {
                normalizer: cell.normalizer,
                batchSize: cell.batchSize,
                arrival: cell.arrival,
                seed: cell.seed,
                reason: cell.failed,
              },
              'cell failed',
            );
        },
      });
      progress.stop();
      const paths = writeResults(out, result);
      if (!flags.quiet) {
        process.stdout.write(formatTable(result));
        if (flags.explain === true)
          process.stdout.write('\n' + columnNotes.map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
      }
      log.info(
        { ...paths, wallSeconds: Number(result.meta.wallSeconds.toFixed(2)), events: result.meta.events },
        'compare finished',
      );
    });
}

/** The families a comparison can run: the classifier nets that take dense vectors or windows. */
function netFamilyNames(): string[] {
  return modelFamilies
    .filter((f) => f.traits.tasks.includes('classification') && f.name !== 'linear')
    .map((f) => f.name);
}

/**
 * Checks before any work that `dir` can be written: an existing directory must be writable, a missing one
 * must have a writable existing ancestor; nothing is created here (a refused run writes nothing).
 */
export function checkWritableDir(dir: string): void {
  let p = resolve(dir);
  for (;;) {
    if (existsSync(p)) {
      if (!statSync(p).isDirectory()) throw new ConfigError(`--out: ${p} exists and is not a directory`);
      try {
        accessSync(p, constants.W_OK | constants.X_OK);
      } catch {
        throw new ConfigError(`--out: ${p} is not writable`);
      }
      return;
    }
    const up = dirname(p);
    if (up === p) throw new ConfigError(`--out: no existing parent directory for ${dir}`);
    p = up;
  }
}
