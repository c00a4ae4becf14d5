/**
 * `streamnorm savepoint`: named, kept copies of a checkpoint (as Flink's savepoints): take one before an
 * upgrade or an experiment, list them, and restore one so that the next `streamnorm run` on the directory
 * resumes from it (models and offsets together, as the checkpoint they were copied from).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CheckpointError, ConfigError } from '../errors.js';
import { FileCheckpointStore, parseCheckpoint } from '../streams/checkpointStore.js';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function savepointPath(dir: string, name: string): string {
  if (!NAME.test(name) || name.startsWith('.'))
    throw new ConfigError(`savepoint name '${name}': use 1-64 of [A-Za-z0-9_.-], not starting with '.'`);
  return join(dir, 'savepoints', `${name}.json`);
}

/** Names of the savepoints in a checkpoint directory, sorted. */
export function savepointNames(dir: string): string[] {
  const sp = join(dir, 'savepoints');
  return existsSync(sp)
    ? readdirSync(sp)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -5))
        .sort()
    : [];
}

/**
 * The file `run --from-savepoint REF` starts from: the savepoint named REF in `dir`, or REF as a path (a
 * savepoint file, or any checkpoint file). A usage error lists the savepoints there are when neither exists.
 */
export function findSavepoint(dir: string, ref: string): string {
  if (NAME.test(ref) && !ref.startsWith('.')) {
    const named = savepointPath(dir, ref);
    if (existsSync(named)) return named;
  }
  if ((ref.includes('/') || ref.endsWith('.json')) && existsSync(ref)) return ref;
  const names = savepointNames(dir);
  throw new ConfigError(
    `--from-savepoint: no savepoint '${ref}' in ${dir} and no such file (${names.length === 0 ? 'it has no savepoints' : `savepoints: ${names.join(', ')}`})`,
  );
}

interface SavepointFlags {
  checkpointDir: string;
  name?: string;
  restore?: string;
  list?: boolean;
}

export function registerSavepoint(program: Command): void {
  program
    .command('savepoint')
    .description(
      'keep the current checkpoint under a name, list the savepoints, or restore one for the next run',
    )
    .requiredOption('--checkpoint-dir <dir>', 'the checkpoint directory of `streamnorm run`')
    .option('--name <name>', 'save the current checkpoint as this savepoint')
    .option(
      '--restore <name>',
      'make this savepoint the checkpoint the next `streamnorm run` resumes from (stop the run first)',
    )
    .option('--list', 'list the savepoints')
    .option('--config <file>', 'config file (unused; accepted like every subcommand)')
    .action(async (flags: SavepointFlags) => {
      const dir = flags.checkpointDir;
      const chosen = [flags.name, flags.restore, flags.list].filter((v) => v !== undefined).length;
      if (chosen !== 1)
        throw new ConfigError('savepoint needs exactly one of --name NAME, --restore NAME or --list');
      if (flags.list) {
        const sp = join(dir, 'savepoints');
        const names = savepointNames(dir);
        for (const n of names) {
          const cp = parseCheckpoint(readFileSync(join(sp, `${n}.json`)), n);
          process.stdout.write(
            `${n}\tcheckpoint ${cp.sequence}\t${new Date(cp.savedAt).toISOString()}\t${cp.messages} messages\n`,
          );
        }
        return;
      }
      if (flags.name !== undefined) {
        const target = savepointPath(dir, flags.name);
        if (existsSync(target)) throw new ConfigError(`savepoint '${flags.name}' exists already in ${dir}`);
        const store = new FileCheckpointStore(dir);
        const cp = await store.load();
        if (cp === null) throw new CheckpointError(`--checkpoint-dir: no checkpoint in ${dir}`);
        mkdirSync(join(dir, 'savepoints'), { recursive: true });
        // copy the file that was just verified, then rename: a savepoint is whole or absent
        copyFileSync(store.path, `${target}.tmp`);
        parseCheckpoint(readFileSync(`${target}.tmp`), target);
        renameSync(`${target}.tmp`, target);
        process.stdout.write(
          `savepoint ${flags.name}: checkpoint ${cp.sequence} (${cp.messages} messages)\n`,
        );
        return;
      }
      const source = savepointPath(dir, flags.restore as string);
      if (!existsSync(source)) throw new CheckpointError(`no savepoint '${flags.restore}' in ${dir}`);
      const cp = parseCheckpoint(readFileSync(source), source);
      const store = new FileCheckpointStore(dir);
      copyFileSync(source, `${store.path}.restore-tmp`);
      // the current checkpoint becomes the previous one, so a restore can be undone by hand
      if (existsSync(store.path)) renameSync(store.path, store.previousPath);
      renameSync(`${store.path}.restore-tmp`, store.path);
      process.stdout.write(
        `restored savepoint ${flags.restore} (checkpoint ${cp.sequence}): the next run on ${dir} resumes from it\n`,
      );
    });
}
