/**
 * The portable model file `streamnorm export` writes and `streamnorm predict` reads: every variant's model
 * state (the same `state()` JSON a checkpoint holds, RNG included), the stream's schema, and where it came
 * from. Versioned: a file of another format or version is refused with one line, never read as something else.
 * Floats are written by JSON.stringify (shortest round-trip form), so a model read back predicts bit for bit
 * what it predicted when it was saved.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, DatasetError } from '../errors.js';
import { modelFromState } from '../models/modelFamilies.js';
import type { ModelState, OnlineModel } from '../models/types.js';
import type { Checkpoint } from '../streams/checkpointStore.js';
import { VERSION } from '../version.js';

export const MODEL_FORMAT = 'streamnorm-model';
export const MODEL_VERSION = 1;

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_VERSION;
  /** The streamnorm version that wrote it. */
  writtenBy: string;
  exportedAt: string;
  /** The checkpoint it was exported from. */
  source: { sequence: number; savedAt: number; topic: string | null; offsets: Record<string, string> };
  schema: Record<string, unknown> | null;
  variants: Record<string, { spec: unknown; state: ModelState }>;
}

export function modelFileFromCheckpoint(cp: Checkpoint, only?: string[]): ModelFile {
  const names = only ?? Object.keys(cp.models);
  const variants: ModelFile['variants'] = {};
  for (const n of names) {
    if (!(n in cp.models))
      throw new ConfigError(
        `--variants: no variant '${n}' in the checkpoint (it has ${Object.keys(cp.models).join(', ')})`,
      );
    variants[n] = { spec: cp.variants[n]?.spec ?? null, state: cp.models[n] };
  }
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    writtenBy: VERSION,
    exportedAt: new Date().toISOString(),
    source: { sequence: cp.sequence, savedAt: cp.savedAt, topic: cp.topic, offsets: cp.offsets },
    schema: cp.schema,
    variants,
  };
}

/** Read a model file and rebuild its models, by variant name. */
export function readModelFile(path: string): { file: ModelFile; models: Record<string, OnlineModel> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DatasetError(
      `--model: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
  let file: ModelFile;
  try {
    file = JSON.parse(text) as ModelFile;
  } catch (err) {
    throw new DatasetError(`--model: ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (file?.format !== MODEL_FORMAT)
    throw new DatasetError(
      `--model: ${path} is not a streamnorm model file (format ${JSON.stringify(file?.format)})`,
    );
  if (file.version !== MODEL_VERSION)
    throw new DatasetError(
      `--model: ${path} is model file version ${file.version}; this streamnorm (${VERSION}) reads version ${MODEL_VERSION}`,
    );
  const models: Record<string, OnlineModel> = {};
  for (const [name, v] of Object.entries(file.variants)) models[name] = modelFromState(v.state);
  return { file, models };
}
