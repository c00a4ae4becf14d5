import { parsePartitionKey } from './event.js';
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { CheckpointError, CheckpointRefusedError } from '../errors.js';
import type { ModelState } from '../models/types.js';
import type { RunningScore } from './prequential.js';

/** What is saved together, atomically: model states and the next offset to read per partition. */
export interface CheckpointInput {
  models: Record<string, ModelState>;
  /** Next offset to read per `"topic:partition"` (decimal strings). */
  offsets: Record<string, string>;
  meta?: Record<string, unknown>;
  /** Messages (events and dead letters) covered since the very first start. */
  messages?: number;
  /** Batches learned since the very first start (prequential `resume.batches`). */
  batches?: number;
  /** Running prequential scores per variant (prequential `resume.scores`). */
  scores?: Record<string, RunningScore>;
  /** The topic the offsets belong to (checked on load by {@link checkCheckpointFits}). */
  topic?: string;
  /** The stream's schema (shape of `x`, classes, sparse dim, label kind), fixed before the first event. */
  schema?: Record<string, unknown> | null;
  /** The variant specs the models were built from, by variant name (JSON). */
  variants?: Record<string, unknown>;
}

/** Each variant as saved: the model's kind and options (from its state) and the spec it was built from. */
export interface CheckpointVariant {
  kind: string;
  options: unknown;
  spec: unknown;
}

/** A saved checkpoint. */
export interface Checkpoint {
  version: typeof CHECKPOINT_VERSION;
  /** Increases by one with every save to the same store. */
  sequence: number;
  /** Wall-clock ms of the save. */
  savedAt: number;
  /** The topic of the offsets (null when the writer did not say). */
  topic: string | null;
  /** Partitions of `topic` that have an offset, ascending. */
  partitions: number[];
  schema: Record<string, unknown> | null;
  variants: Record<string, CheckpointVariant>;
  models: Record<string, ModelState>;
  offsets: Record<string, string>;
  meta: Record<string, unknown>;
  messages: number;
  batches: number;
  scores: Record<string, RunningScore>;
}

/** Durable storage of the latest checkpoint. */
export interface CheckpointStore {
  save(input: CheckpointInput): Promise<Checkpoint>;
  /** The latest checkpoint, or null if none was ever saved; a damaged one throws {@link CheckpointError}. */
  load(): Promise<Checkpoint | null>;
}

/** What a store reports when its newest checkpoint was unusable and it loaded the previous one. */
export interface CheckpointFallback {
  /** The newest file, now renamed to `movedTo` (null: it was missing, e.g. a crash between two renames). */
  path: string;
  movedTo: string | null;
  reason: string;
  /** The sequence of the previous checkpoint that was loaded instead. */
  sequence: number;
}

export interface FileCheckpointStoreOptions {
  /** Called when the newest checkpoint is damaged or missing and the previous one is loaded (log it, count it). */
  onFallback?: (f: CheckpointFallback) => void;
  /**
   * How many of the newest checkpoints to keep (default 2: `checkpoint.json` and `checkpoint.prev.json`, the
   * one a damaged newest falls back to; at least 2). Above 2, every checkpoint is also kept as
   * `history/checkpoint-<sequence>.json` and the history is pruned to the `keep` newest after each save.
   */
  keep?: number;
}

/** Default and least {@link FileCheckpointStoreOptions.keep}: the newest checkpoint and the previous one. */
export const MIN_CHECKPOINT_KEEP = 2;

/** Format version of the payload; a file of another version is refused (never read as something else). */
export const CHECKPOINT_VERSION = 2;
/**
 * Largest magnitude accepted for any number in a saved model state. Anything above 1e150 cannot come from
 * a healthy model and would overflow when squared (L2 norms, variances: (1e155)² > Number.MAX_VALUE), so a
 * checkpoint holding it is refused rather than resumed into a model that only yields NaN.
 */
export const MAX_STATE_MAGNITUDE = 1e150;
/** Largest size (dim, inputs, classes, ...) a saved state may declare: 2^27 (a 1 GiB Float64Array). */
export const MAX_STATE_SIZE = 2 ** 27;
/** Option and state fields that size an allocation; checked before any model is built from the state. */
const SIZE_KEYS = new Set([
  'dim',
  'inputs',
  'inChannels',
  'channels',
  'length',
  'classes',
  'features',
  'hidden',
]);

const FORMAT = 'streamnorm-checkpoint';
const FILE = 'checkpoint.json';
const PREVIOUS = 'checkpoint.prev.json';
const HISTORY = 'history';
const HISTORY_FILE = /^checkpoint-(\d+)\.json$/;

interface Header {
  format: string;
  version: number;
  sha256: string;
  bytes: number;
}

/**
 * A path segment made from a consumer group or topic name: letters, digits, `_` and `-` are kept, every
 * other byte becomes `%XX` (so `../x` becomes `%2E%2E%2Fx`, and distinct names stay distinct).
 */
export function safePathSegment(name: string): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new CheckpointError(
      `a checkpoint path segment needs a non-empty name, got ${JSON.stringify(name)}`,
    );
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_-]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * The default checkpoint directory of a consumer: `root/<group>/<topic>`, both sanitized by
 * {@link safePathSegment}, and verified to stay inside `root`.
 */
export function defaultCheckpointDir(root: string, group: string, topic: string): string {
  const dir = join(root, safePathSegment(group), safePathSegment(topic));
  const rel = relative(resolve(root), resolve(dir));
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new CheckpointError(`checkpoint directory ${dir} would leave its root ${root}`);
  return dir;
}

/**
 * Keeps the two latest checkpoints in `dir/checkpoint.json` and `dir/checkpoint.prev.json`. A save writes a
 * temporary file (mode 0600) in the same directory, fsyncs it, renames the current checkpoint to the previous
 * one and the temporary file over the current one (renames are atomic on POSIX), then fsyncs the directory
 * so the renames survive a power loss. A crash at any point leaves the old checkpoint, the new one, or (between
 * the two renames) only the previous one, never a mix. The file is a header line (format, version, SHA-256
 * and length of the payload) and a payload line, so damage is detected.
 *
 * Loading removes stale temporary files, verifies the newest checkpoint (checksum, format version, finite and
 * bounded parameters, sizes before anything is allocated) and, if it is damaged or missing, falls back to the
 * previous one: the damaged file is renamed to `checkpoint.json.corrupt-<time>` for a person to inspect, and
 * `onFallback` reports it. With no usable checkpoint at all a {@link CheckpointError} (not retriable) asks for
 * a person. Saves through one store are serialized.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly dir: string;
  readonly path: string;
  readonly previousPath: string;
  /** Where checkpoints beyond the newest two are kept when `keep` > 2. */
  readonly historyDir: string;
  readonly keep: number;
  private chain: Promise<unknown> = Promise.resolve();
  private sequence: number | null = null;
  private tmpCounter = 0;
  private readonly onFallback: ((f: CheckpointFallback) => void) | undefined;

  constructor(dir: string, options: FileCheckpointStoreOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0)
      throw new CheckpointError(`checkpoint dir must be a path, got ${String(dir)}`);
    this.dir = dir;
    this.path = join(dir, FILE);
    this.previousPath = join(dir, PREVIOUS);
    this.historyDir = join(dir, HISTORY);
    this.keep = options.keep ?? MIN_CHECKPOINT_KEEP;
    if (!Number.isSafeInteger(this.keep) || this.keep < MIN_CHECKPOINT_KEEP)
      throw new CheckpointError(
        `checkpoint keep must be an integer >= ${MIN_CHECKPOINT_KEEP} (the newest checkpoint and the previous one, which a damaged newest falls back to), got ${String(options.keep)}`,
        { retriable: false },
      );
    this.onFallback = options.onFallback;
  }

  /** Sequences of the checkpoints kept in {@link historyDir}, newest first (empty when `keep` is 2). */
  async history(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.historyDir);
    } catch {
      return [];
    }
    return names
      .map((n) => HISTORY_FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
  }

  historyPath(sequence: number): string {
    return join(this.historyDir, `checkpoint-${String(sequence).padStart(12, '0')}.json`);
  }

  save(input: CheckpointInput): Promise<Checkpoint> {
    const run = this.chain.then(() => this.write(input));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once no save is in progress (e.g. before handing the directory to another process). */
  async whenIdle(): Promise<void> {
    let chain: Promise<unknown>;
    do {
      chain = this.chain;
      await chain;
    } while (chain !== this.chain);
  }

  async load(): Promise<Checkpoint | null> {
    await this.removeStaleTemporaries();
    const newest = await readIfExists(this.path);
    let cp: Checkpoint | null = null;
    let failure: CheckpointError | null = null;
    if (newest !== null) {
      try {
        cp = parseCheckpoint(newest, this.path);
      } catch (err) {
        if (!(err instanceof CheckpointError)) throw err;
        failure = err;
      }
    }
    if (cp === null) {
      const prevBuf = await readIfExists(this.previousPath);
      if (prevBuf === null) {
        if (failure) throw failure;
        return null;
      }
      let prev: Checkpoint;
      try {
        prev = parseCheckpoint(prevBuf, this.previousPath);
      } catch (err) {
        // Neither is usable: report the newest file's problem.
        throw failure ?? err;
      }
      let movedTo: string | null = null;
      if (newest !== null) {
        // Out of the way, so the next save does not rotate a damaged file into the previous slot.
        movedTo = `${this.path}.corrupt-${Date.now()}`;
        await rename(this.path, movedTo).catch((err: unknown) => {
          throw new CheckpointError(`cannot move damaged checkpoint ${this.path} aside`, {
            cause: err,
            retriable: true,
          });
        });
      }
      this.onFallback?.({
        path: this.path,
        movedTo,
        reason: failure?.message ?? 'the newest checkpoint is missing',
        sequence: prev.sequence,
      });
      cp = prev;
    }
    this.sequence = Math.max(this.sequence ?? 0, cp.sequence);
    return cp;
  }

  private async write(input: CheckpointInput): Promise<Checkpoint> {
    if (this.sequence === null) {
      // Continue the sequence of an existing checkpoint. A damaged one is not silently replaced: the error
      // (non-retriable) asks for a person to look at it.
      const prev = await this.load();
      this.sequence = prev?.sequence ?? 0;
    }
    const variants: Record<string, CheckpointVariant> = {};
    for (const [name, state] of Object.entries(input.models)) {
      variants[name] = {
        kind: String(state?.kind),
        options: state?.options ?? null,
        spec: input.variants?.[name] ?? null,
      };
    }
    const cp: Checkpoint = {
      version: CHECKPOINT_VERSION,
      sequence: this.sequence + 1,
      savedAt: Date.now(),
      topic: input.topic ?? null,
      partitions: partitionsOf(input.offsets, input.topic ?? null),
      schema: input.schema ?? null,
      variants,
      models: input.models,
      offsets: input.offsets,
      meta: input.meta ?? {},
      messages: input.messages ?? 0,
      batches: input.batches ?? 0,
      scores: input.scores ?? {},
    };
    let payload: string;
    try {
      payload = JSON.stringify(cp);
    } catch (err) {
      throw new CheckpointError('checkpoint is not JSON-serializable', { cause: err });
    }
    const body = Buffer.from(payload);
    const header: Header = {
      format: FORMAT,
      version: CHECKPOINT_VERSION,
      sha256: sha256(body),
      bytes: body.length,
    };
    const data = Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), body, Buffer.from('\n')]);
    const tmp = join(this.dir, `${FILE}.${process.pid}.${++this.tmpCounter}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const fh = await open(tmp, 'w', 0o600);
      try {
        // The mode of open() is masked by the umask; chmod makes 0600 exact.
        await fh.chmod(0o600);
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (this.keep > MIN_CHECKPOINT_KEEP) {
        // the same (already synced) file under its sequence in the history: a hard link, a copy where the
        // file system has none; written before the renames, so the history never misses a checkpoint
        await mkdir(this.historyDir, { recursive: true, mode: 0o700 });
        const kept = this.historyPath(cp.sequence);
        await unlink(kept).catch(() => undefined);
        await link(tmp, kept).catch(() => copyFile(tmp, kept));
        await syncDir(this.historyDir);
      }
      await rename(this.path, this.previousPath).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
      await rename(tmp, this.path);
      await syncDir(this.dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new CheckpointError(`cannot write checkpoint ${this.path}`, { cause: err, retriable: true });
    }
    this.sequence = cp.sequence;
    if (this.keep > MIN_CHECKPOINT_KEEP) await this.prune(cp.sequence);
    return cp;
  }

  /**
   * Deletes history files beyond the `keep` newest. Only after the new checkpoint is in place, and never the
   * one just written (it is the newest); a crash here leaves extra files, which the next save prunes.
   */
  private async prune(justWritten: number): Promise<void> {
    const old = (await this.history()).filter((s) => s !== justWritten).slice(this.keep - 1);
    await Promise.all(old.map((s) => unlink(this.historyPath(s)).catch(() => undefined)));
  }

  /** Remove temporary files left by a crash in the middle of a save (they are never read). */
  async removeStaleTemporaries(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    const stale = names.filter((n) => n.startsWith(`${FILE}.`) && n.endsWith('.tmp'));
    await Promise.all(stale.map((n) => unlink(join(this.dir, n)).catch(() => undefined)));
    return stale.length;
  }
}

async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function corrupt(path: string, why: string, cause?: unknown): CheckpointError {
  return new CheckpointError(`checkpoint ${path} is damaged: ${why}`, { cause, retriable: false });
}

/** Parse and verify a checkpoint file's bytes. */
export function parseCheckpoint(buf: Buffer, path = '<buffer>'): Checkpoint {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) throw corrupt(path, 'no header line');
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Header;
  } catch (err) {
    throw corrupt(path, 'header is not JSON', err);
  }
  if (header?.format !== FORMAT) throw corrupt(path, `unknown format ${JSON.stringify(header?.format)}`);
  if (header.version !== CHECKPOINT_VERSION)
    throw new CheckpointRefusedError(
      `checkpoint ${path} has format version ${String(header.version)}, this streamnorm reads version ${CHECKPOINT_VERSION}: ` +
        'point --checkpoint-dir at a new directory (the models start over) or run the streamnorm that wrote it',
    );
  const body = buf.subarray(nl + 1, nl + 1 + header.bytes);
  if (body.length !== header.bytes || buf.length !== nl + 2 + header.bytes || buf[buf.length - 1] !== 0x0a)
    throw corrupt(path, `payload is ${buf.length - nl - 1} bytes, header says ${header.bytes} (+ newline)`);
  if (sha256(body) !== header.sha256) throw corrupt(path, 'SHA-256 mismatch');
  let cp: Checkpoint;
  try {
    cp = JSON.parse(body.toString('utf8')) as Checkpoint;
  } catch (err) {
    throw corrupt(path, 'payload is not JSON', err);
  }
  const obj = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (
    !obj(cp) ||
    cp.version !== CHECKPOINT_VERSION ||
    !obj(cp.models) ||
    !obj(cp.offsets) ||
    !obj(cp.variants) ||
    !Array.isArray(cp.partitions) ||
    !Number.isInteger(cp.sequence)
  )
    throw corrupt(path, 'payload lacks version, sequence, partitions, variants, models or offsets');
  for (const [k, v] of Object.entries(cp.offsets))
    if (typeof v !== 'string' || !/^\d+$/.test(v))
      throw corrupt(path, `offset ${k} = ${JSON.stringify(v)} is not a decimal string`);
  for (const [name, state] of Object.entries(cp.models)) checkState(state, `variant "${name}"`, path);
  return cp;
}

async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CheckpointError(`cannot read checkpoint ${path}`, { cause: err, retriable: true });
  }
}

function partitionsOf(offsets: Record<string, string>, topic: string | null): number[] {
  const out: number[] = [];
  for (const k of Object.keys(offsets)) {
    const p = parsePartitionKey(k);
    if (topic !== null && p.topic !== topic) continue;
    out.push(p.partition);
  }
  return out.sort((a, b) => a - b);
}

const START_OVER = 'move it away (or use another --checkpoint-dir) to start the models over';

function refuseWith(path: string, what: string, advice = START_OVER): CheckpointRefusedError {
  return new CheckpointRefusedError(`checkpoint ${path} is refused: ${what}; ${advice}`);
}

/**
 * Verify a model state before anything is built from it: every number finite and within
 * ±{@link MAX_STATE_MAGNITUDE}, no NaN/Infinity saved as null inside a numeric array, and every size field
 * (dim, inputs, classes, ...) a non-negative integer no larger than {@link MAX_STATE_SIZE} nor than the
 * number of values the state actually stores, so `options.dim: 1e9` is refused before anything allocates.
 */
function checkState(state: unknown, where: string, path: string): void {
  if (state === null || typeof state !== 'object' || typeof (state as ModelState).kind !== 'string')
    throw corrupt(path, `${where}: model state has no kind`);
  let stored = 0;
  const sizes: Array<[string, unknown]> = [];
  // Iterative walk: a hostile file must not overflow the stack with nesting.
  const stack: Array<[unknown, string]> = [[state, where]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Math.abs(v) > MAX_STATE_MAGNITUDE)
        throw refuseWith(path, `${at} = ${v} (parameters must be finite and within ±${MAX_STATE_MAGNITUDE})`);
    } else if (typeof v === 'string') {
      // Packed float arrays (base64): 8 bytes per value.
      stored += Math.floor((v.length * 3) / 32);
    } else if (Array.isArray(v)) {
      let numbers = 0;
      let nulls = 0;
      for (let i = 0; i < v.length; i++) {
        const e: unknown = v[i];
        if (typeof e === 'number') {
          numbers++;
          if (!Number.isFinite(e) || Math.abs(e) > MAX_STATE_MAGNITUDE)
            throw refuseWith(
              path,
              `${at}[${i}] = ${e} (parameters must be finite and within ±${MAX_STATE_MAGNITUDE})`,
            );
        } else if (e === null) nulls++;
        else if (typeof e === 'object' || typeof e === 'string') stack.push([e, `${at}[${i}]`]);
      }
      if (numbers > 0 && nulls > 0)
        throw refuseWith(path, `${at} holds null among numbers (a NaN or Infinity when it was saved)`);
      stored += numbers;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, e] of Object.entries(v)) {
        if (SIZE_KEYS.has(k)) sizes.push([`${at}.${k}`, e]);
        if (e !== null && typeof e === 'object') stack.push([e, `${at}.${k}`]);
        else if (typeof e === 'number' || typeof e === 'string') stack.push([e, `${at}.${k}`]);
      }
    }
  }
  for (const [at, s] of sizes) {
    const list = Array.isArray(s) ? s : [s];
    for (const n of list) {
      if (n === null || n === undefined) continue;
      if (!(typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_STATE_SIZE && n <= stored + 2))
        throw refuseWith(
          path,
          `${at} = ${JSON.stringify(n)} does not fit the ${stored} values stored (sizes are checked before anything is allocated)`,
        );
    }
  }
}

/** What the run about to resume expects of a checkpoint; every field given is compared. */
export interface CheckpointExpectation {
  topic: string;
  /** Partitions of the topic now, with their end offsets (a recorded partition must exist, its offset ≤ the end). */
  endOffsets?: ReadonlyMap<number, string>;
  /** Variant names this run builds. */
  variantNames?: readonly string[];
  /** Variant specs this run was given explicitly (flags or config), by name. */
  variants?: Record<string, unknown>;
  /** Schema fields this run was given explicitly (e.g. `classes`, `dim` from flags). */
  schema?: Record<string, unknown>;
}

/**
 * Refuses a checkpoint that does not fit the run about to resume from it, with one line naming what differs
 * and what to do ({@link CheckpointRefusedError}).
 */
export function checkCheckpointFits(
  cp: Checkpoint,
  expected: CheckpointExpectation,
  path = 'checkpoint',
  /** What the refusal tells the user to do (default: move the checkpoint away to start over). */
  advice = START_OVER,
): void {
  const refuse = (p: string, what: string): CheckpointRefusedError => refuseWith(p, what, advice);
  if (cp.topic !== null && cp.topic !== expected.topic)
    throw refuse(path, `it was written for topic "${cp.topic}", this run reads "${expected.topic}"`);
  if (expected.endOffsets) {
    for (const p of cp.partitions) {
      const end = expected.endOffsets.get(p);
      const at = cp.offsets[`${cp.topic ?? expected.topic}:${p}`];
      if (end === undefined)
        throw refuse(
          path,
          `it has offsets for partition ${p} of "${expected.topic}", which has ${expected.endOffsets.size} partitions now (was the topic recreated?)`,
        );
      if (at !== undefined && BigInt(at) > BigInt(end))
        throw refuse(
          path,
          `it resumes partition ${p} of "${expected.topic}" at offset ${at}, past its end ${end} (was the topic recreated?)`,
        );
    }
  }
  if (expected.variantNames) {
    const saved = Object.keys(cp.models).sort().join(',');
    const now = [...expected.variantNames].sort().join(',');
    if (saved !== now) throw refuse(path, `it holds variants [${saved}], this run builds [${now}]`);
  }
  for (const [name, spec] of Object.entries(expected.variants ?? {})) {
    const saved = cp.variants[name];
    if (saved === undefined) throw refuse(path, `it has no variant "${name}"`);
    if (saved.spec !== null && canonical(saved.spec) !== canonical(spec))
      throw refuse(
        path,
        `variant "${name}" was ${canonical(saved.spec)}, this run asks for ${canonical(spec)}`,
      );
  }
  for (const [key, value] of Object.entries(expected.schema ?? {})) {
    if (value === undefined) continue;
    const saved = cp.schema?.[key];
    if (saved !== undefined && canonical(saved) !== canonical(value))
      throw refuse(path, `the stream's ${key} was ${canonical(saved)}, this run says ${canonical(value)}`);
  }
}

/** JSON with sorted keys, so equal specs compare equal whatever their key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}
