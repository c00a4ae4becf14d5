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
import { createRegistry } from '../metrics/createRegistry.js';
import { createPredictRoute, predictEvents } from '../metrics/predictRoute.js';
import { startMetricsServer } from '../metrics/server.js';
import { readInputEvents } from '../streams/inputEvents.js';
import { resolveConfig } from './config.js';
import {
  addMetricsSecurityOptions,
  metricsSecurityFromFlags,
  metricsServerSecurity,
  type MetricsSecurityFlags,
} from './metricsOptions.js';
import { readModelFile } from './modelFile.js';
import { addInputOptions, DeadLetterReport, inputSpecFromFlags, port, type InputFlags } from './options.js';

interface PredictFlags extends InputFlags, MetricsSecurityFlags {
  model: string;
  input?: string;
  variants?: string;
  config?: string;
  servePort?: number;
  serveHost?: string;
}

/** Events per predictMany call: bounded memory on large files. */
const CHUNK = 1024;

export function registerPredict(program: Command): void {
  const cmd = addMetricsSecurityOptions(program.command('predict'))
    .description(
      'predict events from a file or stdin with an exported model file; JSON Lines of predictions on stdout',
    )
    .requiredOption('--model <file>', 'model file written by `streamnorm export`')
    .option(
      '--input <file>',
      "event file (a recording, JSON Lines of events, or CSV); '-' or none: standard input",
    )
    .option('--variants <list>', 'only these variants of the model file (default: all)')
    .option(
      '--serve-port <port>',
      'instead of reading events, serve POST /predict (and /metrics, /healthz) on this port until stopped (0 = any free port)',
      port,
    )
    .option('--serve-host <host>', 'bind address of --serve-port (default 127.0.0.1)');
  addInputOptions(cmd)
    .option('--config <file>', 'config file (YAML or JSON): its metrics section secures --serve-port')
    .addHelpText(
      'after',
      '\nExample:\n  streamnorm predict --model model.json --input events.csv --csv-columns x=1..8 > predictions.jsonl\n  cat events.jsonl | streamnorm predict --model model.json\n',
    )
    .action(async (flags: PredictFlags) => {
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
      if (flags.servePort !== undefined) {
        // the same basic auth and TLS as the metrics server (flags, STREAMNORM_METRICS_*, config `metrics:`)
        const cfg = resolveConfig({ metrics: metricsSecurityFromFlags(flags) }, flags.config);
        const server = await startMetricsServer({
          ...metricsServerSecurity(cfg.metrics),
          registry: createRegistry(),
          host: flags.serveHost ?? '127.0.0.1',
          port: flags.servePort,
          routes: { '/predict': createPredictRoute({ models: () => models }) },
        });
        process.stdout.write(`serving POST ${server.url}/predict (Ctrl-C stops)\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
        return;
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
          const preds = predictEvents(models, chunk);
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
