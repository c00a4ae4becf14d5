#!/usr/bin/env node
/**
 * The `streamnorm` command. Subcommands: run (live Kafka consumer), record, replay, produce, compare (the
 * normalization experiment) and main (what `npm start` runs). Failures print one line on stderr and exit
 * with a code that says what kind of failure it was (see exit.ts).
 */
import { Command, CommanderError } from 'commander';
import { applyFlagAliases } from './aliases.js';
import { registerCompare } from './compare.js';
import { registerExport } from './export.js';
import { registerPredict } from './predict.js';
import { registerSavepoint } from './savepoint.js';
import { registerMain } from './main.js';
import { registerProduce } from './produce.js';
import { registerRecord } from './record.js';
import { registerReplay } from './replay.js';
import { registerRun } from './run.js';
import { registerStatus } from './status.js';
import { EXIT, errorLine, exitCodeFor } from './exit.js';
import { VERSION } from '../version.js';
import { redact } from '../redact.js';

export function buildProgram(): Command {
  const program = new Command('streamnorm');
  program
    .description(
      'online learning on event streams: Batch vs Layer/Instance/Group Normalization under varying batch sizes',
    )
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // one line: commander puts its suggestion ('Did you mean ...?') on a line of its own
      outputError: (str, write) =>
        write(
          `streamnorm: ${str
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 internal error, 2 usage/config, 3 I/O (files, datasets, ports), 4 Kafka, 5 Kafka authentication/TLS, 130 interrupted.\n' +
        'Environment: STREAMNORM_CONFIG, STREAMNORM_BROKERS or KAFKA_BROKERS, STREAMNORM_TOPIC, STREAMNORM_OUTPUT_TOPIC, STREAMNORM_GROUP,\n' +
        '  STREAMNORM_METRICS_PORT, STREAMNORM_METRICS_HOST, STREAMNORM_CHECKPOINT_DIR, STREAMNORM_LOG_LEVEL, STREAMNORM_DEBUG=1 (stack traces),\n' +
        '  STREAMNORM_KAFKA_<KEY> (Kafka client settings such as STREAMNORM_KAFKA_SASL_PASSWORD; see `streamnorm run --help`).\n',
    );
  registerRun(program);
  registerRecord(program);
  registerReplay(program);
  registerProduce(program);
  registerCompare(program);
  registerMain(program);
  registerStatus(program);
  registerExport(program);
  registerPredict(program);
  registerSavepoint(program);
  applyFlagAliases(program);
  for (const sub of program.commands) sub.exitOverride().configureOutput(program.configureOutput());
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  // kafkajs warns on every producer about a partitioner change from 2021; the CLI keeps the default (murmur2).
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // a command that finished but must say so (e.g. 130 after Ctrl-C printed a partial table)
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its one line (or the help / version)
      return exitCodeFor(err);
    }
    process.stderr.write(errorLine(err) + '\n');
    if (process.env.STREAMNORM_DEBUG)
      process.stderr.write(`${redact((err as Error)?.stack ?? String(err))}\n`);
    return exitCodeFor(err);
  }
}

const code = await main();
process.exitCode = code;
