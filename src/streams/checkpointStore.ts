import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';
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
}

/** A saved checkpoint. */
export interface Checkpoint extends Required<CheckpointInput> {
  version: 1;
  /** Increases by one with every save to the same store. */
  sequence: number;
  /** Wall-clock ms of the save. */
  savedAt: number;
}

/** Durable storage of the latest checkpoint. */
export interface CheckpointStore {
  save(input: CheckpointInput): Promise<Checkpoint>;
  /** The latest checkpoint, or null if none was ever saved; a damaged one throws {@link CheckpointError}. */
  load(): Promise<Checkpoint | null>;
}

const FORMAT = 'streamnorm-checkpoint';
const FILE = 'checkpoint.json';

interface Header {
  format: string;
  version: number;
  sha256: string;
  bytes: number;
}

/**
 * Keeps the latest checkpoint in `dir/checkpoint.json`, replaced atomically: the new content goes to a
 * temporary file in the same directory, which is fsynced, renamed over the old file (atomic on POSIX), and
 * then the directory is fsynced so the rename itself survives a power loss. A crash at any point leaves either
 * the old or the new checkpoint, never a mix. The file is a header line (format, version, SHA-256 and length
 * of the payload) and a payload line, so damage is detected and reported as a {@link CheckpointError} instead of
 * being read as an empty or partial state. Saves through one store are serialized.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly dir: string;
  readonly path: string;
  private chain: Promise<unknown> = Promise.resolve();
  private sequence: number | null = null;
  private tmpCounter = 0;

  constructor(dir: string) {
    if (typeof dir !== 'string' || dir.length === 0)
      throw new CheckpointError(`checkpoint dir must be a path, got ${String(dir)}`);
    this.dir = dir;
    this.path = join(dir, FILE);
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
    let buf: Buffer;
    try {
      buf = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new CheckpointError(`cannot read checkpoint ${this.path}`, { cause: err, retriable: true });
    }
    const cp = parseCheckpoint(buf, this.path);
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
    const cp: Checkpoint = {
      version: 1,
      sequence: this.sequence + 1,
      savedAt: Date.now(),
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
    const header: Header = { format: FORMAT, version: 1, sha256: sha256(body), bytes: body.length };
    const data = Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), body, Buffer.from('\n')]);
    const tmp = join(this.dir, `${FILE}.${process.pid}.${++this.tmpCounter}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true });
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
      const dh = await open(this.dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new CheckpointError(`cannot write checkpoint ${this.path}`, { cause: err, retriable: true });
    }
    this.sequence = cp.sequence;
    return cp;
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
  if (header.version !== 1) throw corrupt(path, `unsupported version ${header.version}`);
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
  if (!obj(cp) || cp.version !== 1 || !obj(cp.models) || !obj(cp.offsets) || !Number.isInteger(cp.sequence))
    throw corrupt(path, 'payload lacks version, sequence, models or offsets');
  for (const [k, v] of Object.entries(cp.offsets))
    if (typeof v !== 'string' || !/^\d+$/.test(v))
      throw corrupt(path, `offset ${k} = ${JSON.stringify(v)} is not a decimal string`);
  return cp;
}
