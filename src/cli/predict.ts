/**
 * `streamnorm predict`: the models of an exported model file (see `streamnorm export`) predict the events of a
 * file or of standard input (a recording, JSON Lines of events, or CSV), one JSON line per event on stdout:
 * `{ "id", "ts", "line", "y"?, "predictions": { variant: { "predicted", "proba"? } } }` — the prediction
 * message of `run --output-topic` without the Kafka coordinates. Nothing is learned.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { isClassifier, type Features, type OnlineModel } from '../models/types.js';
import type { StreamEvent } from '../streams/event.js';
import { readInputEvents } from '../streams/inputEvents.js';
import { readModelFile } from './modelFile.js';
import { addInputOptions, DeadLetterReport, inputSpecFromFlags, type InputFlags } from './options.js';

interface PredictFlags extends InputFlags {
  model: string;
  input?: string;
  variants?: string;
}

/** One prediction line's `predictions`, for a batch of events (inference mode: no event affects another). */
export function predictBatch(
  models: Record<string, OnlineModel>,
  events: readonly StreamEvent[],
): Record<string, { predicted: number; proba?: number[] }>[] {
  const out = events.map(() => ({}) as Record<string, { predicted: number; proba?: number[] }>);
  const X: Features[] = events.map((e) => e.x);
  for (const [name, m] of Object.entries(models)) {
    if (isClassifier(m)) {
      const P = m.predictProbaMany(X);
      for (let j = 0; j < events.length; j++) {
        const p = Array.from(P[j]);
        let best = 0;
        for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
        out[j][name] = { predicted: best, proba: p };
      }
    } else {
      const v = m.predictMany(X);
      for (let j = 0; j < events.length; j++) out[j][name] = { predicted: v[j] };
    }
  }
  return out;
}

/** Events per predictMany call: bounded memory on large files. */
const CHUNK = 1024;

export function registerPredict(program: Command): void {
  const cmd = program
    .command('predict')
    .description(
      'predict events from a file or stdin with an exported model file; JSON Lines of predictions on stdout',
    )
    .requiredOption('--model <file>', 'model file written by `streamnorm export`')
    .option(
      '--input <file>',
      "event file (a recording, JSON Lines of events, or CSV); '-' or none: standard input",
    )
    .option('--variants <list>', 'only these variants of the model file (default: all)');
  addInputOptions(cmd)
    .option('--config <file>', 'config file (unused; accepted like every subcommand)')
    .addHelpText(
      'after',
      '\nExample:\n  streamnorm predict --model model.json --input events.csv --csv-columns x=1..8 > predictions.jsonl\n  cat events.jsonl | streamnorm predict --model model.json\n',
    )
    .action((flags: PredictFlags) => {
      const { models: all } = readModelFile(flags.model);
      let models = all;
      if (flags.variants !== undefined) {
        models = {};
        for (const n of flags.variants
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')) {
          if (!(n in all))
            throw new ConfigError(
              `--variants: no variant '${n}' in ${flags.model} (it has ${Object.keys(all).join(', ')})`,
            );
          models[n] = all[n];
        }
      }
      let path = flags.input;
      let tmp: string | null = null;
      if (path === undefined || path === '-') {
        // stdin is read whole once: the format is detected from its first line, like a file's
        tmp = mkdtempSync(join(tmpdir(), 'streamnorm-predict-'));
        path = join(tmp, 'stdin');
        writeFileSync(path, readFileSync(0));
      }
      const report = new DeadLetterReport('predict', flags.input ?? 'stdin', flags.deadLetters);
      try {
        const lines: number[] = [];
        const { events } = readInputEvents(path, inputSpecFromFlags(flags), {
          unlabelled: true,
          onEvent: (line) => lines.push(line),
          onDeadLetter: (line, letter) => {
            report.add(line, letter);
            if (flags.strict) throw report.strictError(line, letter);
          },
        });
        for (let i = 0; i < events.length; i += CHUNK) {
          const chunk = events.slice(i, i + CHUNK);
          const preds = predictBatch(models, chunk);
          let text = '';
          for (let j = 0; j < chunk.length; j++) {
            const e = chunk[j];
            text +=
              JSON.stringify({
                id: e.id,
                ts: e.ts,
                line: lines[i + j],
                ...(e.y === undefined ? {} : { y: e.y }),
                predictions: preds[j],
              }) + '\n';
          }
          process.stdout.write(text);
        }
      } finally {
        report.close();
        if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
      }
    });
}
