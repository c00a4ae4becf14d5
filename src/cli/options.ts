/** Flag value parsers shared by the subcommands: a bad value is a one-line usage error naming the flag. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { DatasetError, DecodeError } from '../errors.js';
import type { DeadLetter } from '../streams/event.js';
import { INPUT_FORMATS, type InputFormat, type InputSpec } from '../streams/inputFile.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected an integer >= 0');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function rate01(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1)
    throw new InvalidArgumentError('expected a number in [0, 1)');
  return n;
}

/** `max` or a positive speed factor (1 = recorded pace). */
export function speed(value: string): 'max' | number {
  if (value === 'max') return 'max';
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError("expected 'max' or a positive number");
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535)
    throw new InvalidArgumentError('expected a port number in [0, 65535]');
  return n;
}

/** `--format`: auto or one of the input formats. */
export function inputFormat(value: string): InputFormat | 'auto' {
  if (value === 'auto' || (INPUT_FORMATS as readonly string[]).includes(value))
    return value as InputFormat | 'auto';
  throw new InvalidArgumentError(`expected auto, ${INPUT_FORMATS.join(', ')}`);
}

/** Flags of the commands that read an event file (replay, compare, produce). */
export interface InputFlags {
  format?: InputFormat | 'auto';
  csvColumns?: string;
  csvHeader?: boolean;
  csvDelimiter?: string;
  deadLetters?: string;
  strict?: boolean;
}

/** Adds the input-format flags (see docs in the README's "Bring your own data"). */
export function addInputOptions(cmd: Command, opts: { strict?: boolean } = {}): Command {
  cmd
    .option(
      '--format <format>',
      'input file format: auto (default: CSV unless lines start with {), recording (streamnorm record), jsonl (one event per line), csv',
      inputFormat,
    )
    .option(
      '--csv-columns <mapping>',
      'CSV columns of each event field, 0-based indices or header names, A..B ranges: e.g. x=1..8,y=9,key=0 or y=label (default: y/label/target/class by header, else the last column; x: the other columns)',
    )
    .option(
      '--csv-header',
      "the CSV's first row is a header (default: when one of its cells is not a number)",
    )
    .option('--no-csv-header', "the CSV's first row is data")
    .option('--csv-delimiter <char>', 'CSV field delimiter (default ,)')
    .option(
      '--dead-letters <file>',
      'also write every line that does not decode to this JSON Lines file ({line, reason, detail, raw})',
    );
  if (opts.strict !== false)
    cmd.option(
      '--strict',
      'stop at the first line that does not decode (exit code 3) instead of skipping it',
    );
  return cmd;
}

export function inputSpecFromFlags(flags: InputFlags): InputSpec {
  return {
    ...(flags.format === undefined ? {} : { format: flags.format }),
    ...(flags.csvColumns === undefined ? {} : { csvColumns: flags.csvColumns }),
    ...(flags.csvHeader === undefined ? {} : { csvHeader: flags.csvHeader }),
    ...(flags.csvDelimiter === undefined ? {} : { csvDelimiter: flags.csvDelimiter }),
  };
}

/** Dead letters printed one per line on stderr before only the count is reported. */
export const DEAD_LETTER_LINES = 20;

/**
 * Reports the lines of an input file that did not decode: the first {@link DEAD_LETTER_LINES} on stderr with
 * their line number and reason, all of them in `--dead-letters FILE` (JSON Lines), and a summary by reason.
 */
export class DeadLetterReport {
  private count = 0;
  private readonly byReason = new Map<string, number>();
  private fd: number | null = null;

  constructor(
    private readonly command: string,
    private readonly file: string,
    private readonly path?: string,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {
    if (path !== undefined) {
      try {
        this.fd = openSync(path, 'w');
      } catch (err) {
        throw new DatasetError(
          `--dead-letters: cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
          { cause: err },
        );
      }
    }
  }

  add(line: number | undefined, letter: Pick<DeadLetter, 'reason' | 'detail' | 'raw'>): void {
    this.count++;
    this.byReason.set(letter.reason, (this.byReason.get(letter.reason) ?? 0) + 1);
    if (this.count <= DEAD_LETTER_LINES)
      this.stderr.write(
        `streamnorm: ${this.command}: line ${line ?? '?'}: ${letter.reason}: ${letter.detail.slice(0, 200)}\n`,
      );
    if (this.fd !== null)
      writeSync(
        this.fd,
        JSON.stringify({
          line: line ?? null,
          reason: letter.reason,
          detail: letter.detail,
          raw: letter.raw,
        }) + '\n',
      );
  }

  get total(): number {
    return this.count;
  }

  /** The strict-mode error for a bad line. */
  strictError(line: number | undefined, letter: Pick<DeadLetter, 'reason' | 'detail'>): DecodeError {
    return new DecodeError(
      letter.reason,
      `line ${line ?? '?'} of ${this.file}: ${letter.reason}: ${letter.detail} (--strict stops at the first bad line)`,
    );
  }

  /** Print the summary line (when there were dead letters) and close the file. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (this.count === 0) return;
    const reasons = [...this.byReason.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    const more = this.count > DEAD_LETTER_LINES ? `, ${this.count - DEAD_LETTER_LINES} not shown` : '';
    const where = this.path === undefined ? ' (--dead-letters FILE keeps them all)' : `, all in ${this.path}`;
    this.stderr.write(
      `streamnorm: ${this.command}: ${this.count} dead letter${this.count === 1 ? '' : 's'} in ${this.file} (${reasons}${more})${where}\n`,
    );
  }
}

/** A deprecated flag: still works for one release, with a warning naming its replacement. */
export function warnDeprecated(old: string, replacement: string): void {
  process.stderr.write(`streamnorm: warning: ${old} is deprecated, use ${replacement}\n`);
}
