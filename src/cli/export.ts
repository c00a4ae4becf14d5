/**
 * `streamnorm export`: the models of a checkpoint (or a savepoint) as one portable, versioned model file that
 * `streamnorm predict` (or the library's `modelFromState`) loads anywhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { Command } from 'commander';
import { CheckpointError, ConfigError } from '../errors.js';
import { FileCheckpointStore, parseCheckpoint, type Checkpoint } from '../streams/checkpointStore.js';
import { modelFileFromCheckpoint } from './modelFile.js';
import { savepointPath } from './savepoint.js';

interface ExportFlags {
  checkpointDir?: string;
  savepoint?: string;
  out: string;
  variants?: string;
  quiet?: boolean;
}

/** The checkpoint of a directory, or one of its named savepoints. */
export async function loadCheckpoint(dir: string, savepoint?: string): Promise<Checkpoint> {
  if (savepoint !== undefined) {
    const p = savepointPath(dir, savepoint);
    if (!existsSync(p)) throw new CheckpointError(`no savepoint '${savepoint}' in ${dir} (${p})`);
    return parseCheckpoint(readFileSync(p), p);
  }
  if (!existsSync(dir)) throw new CheckpointError(`--checkpoint-dir: no such directory ${dir}`);
  const cp = await new FileCheckpointStore(dir).load();
  if (cp === null) throw new CheckpointError(`--checkpoint-dir: no checkpoint in ${dir}`);
  return cp;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'write the models of a checkpoint (or a named savepoint) as a portable, versioned model file',
    )
    .requiredOption('--checkpoint-dir <dir>', 'the checkpoint directory of `streamnorm run`')
    .option(
      '--savepoint <name>',
      'export this named savepoint (see `streamnorm savepoint`) instead of the latest checkpoint',
    )
    .requiredOption('--out <file>', 'model file to write (JSON)')
    .option('--variants <list>', 'only these variants (default: all)')
    .option('--quiet', 'print nothing on success')
    .option('--config <file>', 'config file (unused; accepted like every subcommand)')
    .addHelpText(
      'after',
      '\nExample:\n  streamnorm export --checkpoint-dir checkpoints/demo --out model.json\n  streamnorm predict --model model.json --input events.jsonl > predictions.jsonl\n',
    )
    .action(async (flags: ExportFlags) => {
      const cp = await loadCheckpoint(flags.checkpointDir as string, flags.savepoint);
      const only = flags.variants
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (only !== undefined && only.length === 0) throw new ConfigError('--variants: no variants given');
      const file = modelFileFromCheckpoint(cp, only);
      await mkdir(dirname(flags.out), { recursive: true });
      // write-file-atomic: a temporary file, fsynced, renamed over the target; a reader never sees half a model
      await writeFileAtomic(flags.out, JSON.stringify(file) + '\n');
      if (!flags.quiet)
        process.stdout.write(
          `exported ${Object.keys(file.variants).join(', ')} (checkpoint ${cp.sequence}) to ${flags.out}\n`,
        );
    });
}
