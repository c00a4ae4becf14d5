/**
 * Event files as users have them: Kafka-envelope recordings (what `streamnorm record` writes), plain JSON
 * Lines of events, and CSV with a column mapping. Every format becomes the same stream of {@link RawMessage}s,
 * each tied to the 1-based line it came from ({@link inputLineOf}), so a bad line is a dead letter that names
 * its line, whatever the format.
 *
 * CSV is parsed by csv-parse (RFC 4180: quoted fields, embedded commas and newlines); the mapping of columns to
 * the event's fields is {@link CsvColumns}.
 */
import { closeSync, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { parse as parseCsvStream, type Info } from 'csv-parse';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { Observable } from 'rxjs';
import { ConfigError, DatasetError } from '../errors.js';
import { RejectedValue } from './decodeEvents.js';
import type { EventOrigin, RawMessage } from './event.js';
import { fromRecording, recordingLineOf } from './fromRecording.js';
import { asRecordedMessage, fromRecordedMessage } from './recordedMessage.js';

export type InputFormat = 'recording' | 'jsonl' | 'csv';
export const INPUT_FORMATS: readonly InputFormat[] = ['recording', 'jsonl', 'csv'];

/** A column by 0-based index or by header name. */
export type ColumnRef = number | string;
/** An inclusive range of columns, `A..B`. */
export type ColumnRange = [from: ColumnRef, to: ColumnRef];

/**
 * Which CSV columns make which event field. Written `x=1..8,y=9,key=0` (see {@link parseCsvColumns}):
 * columns are 0-based indices (as pandas' `usecols` and `iloc`) or header names, `A..B` is an inclusive range
 * (of indices, or of header names by their position), and a list continues until the next `field=`.
 */
export interface CsvColumns {
  x?: (ColumnRef | ColumnRange)[];
  y?: ColumnRef;
  key?: ColumnRef;
  id?: ColumnRef;
  ts?: ColumnRef;
}

export interface InputSpec {
  /** Default `'auto'`: CSV unless the first non-empty line starts with `{`; a recording if that line is an envelope. */
  format?: InputFormat | 'auto';
  /** CSV column mapping (text as {@link parseCsvColumns} reads it, or parsed). Default: see {@link resolveCsvColumns}. */
  csvColumns?: string | CsvColumns;
  /** Whether the CSV's first row is a header (default: it is when one of its cells is not a number). */
  csvHeader?: boolean;
  /** CSV field delimiter (default `,`). */
  csvDelimiter?: string;
}

const FIELDS = ['x', 'y', 'key', 'id', 'ts'] as const;
type Field = (typeof FIELDS)[number];

/** Header names taken as the label when no mapping says which column it is (case-insensitive). */
export const LABEL_NAMES = ['y', 'label', 'target', 'class'];

function ref(text: string, where: string): ColumnRef {
  const t = text.trim();
  if (t === '') throw new ConfigError(`--csv-columns: empty column in '${where}'`);
  return /^\d+$/.test(t) ? Number(t) : t;
}

/**
 * Parse a column mapping: `x=1..8,y=9,key=0`, `y=label` (x: every other column), `x=a,b,c,y=species,id=name`.
 * Fields: x (list), y, key, id, ts.
 */
export function parseCsvColumns(text: string): CsvColumns {
  const out: CsvColumns = {};
  let field: Field | null = null;
  const xs: (ColumnRef | ColumnRange)[] = [];
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    let item = part;
    if (eq >= 0) {
      const name = part.slice(0, eq).trim();
      if (!(FIELDS as readonly string[]).includes(name))
        throw new ConfigError(
          `--csv-columns: unknown field '${name}' in '${part}' (expected ${FIELDS.join(', ')})`,
        );
      field = name as Field;
      if (field in out) throw new ConfigError(`--csv-columns: field '${field}' given twice`);
      item = part.slice(eq + 1);
    } else if (field === null) {
      throw new ConfigError(`--csv-columns: '${part}' has no field (write e.g. x=1..8,y=9)`);
    }
    const range = item.split('..');
    if (field === 'x') {
      if (range.length === 2) xs.push([ref(range[0], part), ref(range[1], part)]);
      else if (range.length === 1) xs.push(ref(item, part));
      else throw new ConfigError(`--csv-columns: bad range '${item}'`);
      out.x = xs;
    } else {
      if (range.length !== 1 || field in out)
        throw new ConfigError(`--csv-columns: field '${field}' takes one column, got '${part}'`);
      out[field] = ref(item, part);
    }
  }
  return out;
}

/** The columns of each field as indices into a row. */
export interface ResolvedColumns {
  x: number[];
  y: number | null;
  key: number | null;
  id: number | null;
  ts: number | null;
  /** Column names (header) or `column N`, for messages. */
  names: string[];
}

/**
 * Resolve a mapping against the first row's width and the header (null when there is none). Without a mapping:
 * id, ts and key by header name, y the column named y, label, target or class (without a header: the last
 * column), x every other column. With a mapping that leaves x out, x is every column no other field uses.
 * Given the first data row, x leaves out the columns whose value there is not a number (names, categories).
 */
export function resolveCsvColumns(
  spec: CsvColumns | undefined,
  header: string[] | null,
  width: number,
  firstRow?: readonly string[],
): ResolvedColumns {
  const names = header ?? Array.from({ length: width }, (_, i) => `column ${i}`);
  const index = (r: ColumnRef): number => {
    if (typeof r === 'number') {
      if (r >= width)
        throw new ConfigError(
          `--csv-columns: column ${r} does not exist (the first row has ${width} columns)`,
        );
      return r;
    }
    if (header === null)
      throw new ConfigError(`--csv-columns: column '${r}' is a name, but the CSV has no header row`);
    const i = header.indexOf(r);
    if (i < 0) {
      const lower = header.findIndex((h) => h.toLowerCase() === r.toLowerCase());
      if (lower >= 0) return lower;
      throw new ConfigError(`--csv-columns: no column named '${r}' (header: ${header.join(', ')})`);
    }
    return i;
  };
  const byName = (candidates: string[]): number | null => {
    if (header === null) return null;
    const i = header.findIndex((h) => candidates.includes(h.trim().toLowerCase()));
    return i < 0 ? null : i;
  };
  const out: ResolvedColumns = { x: [], y: null, key: null, id: null, ts: null, names };
  if (spec === undefined) {
    out.id = byName(['id']);
    out.ts = byName(['ts', 'timestamp']);
    out.key = byName(['key']);
    out.y = header === null ? (width > 1 ? width - 1 : null) : byName(LABEL_NAMES);
  } else {
    for (const f of ['y', 'key', 'id', 'ts'] as const) {
      const r = spec[f];
      if (r !== undefined) out[f] = index(r);
    }
  }
  const used = new Set([out.y, out.key, out.id, out.ts].filter((v): v is number => v !== null));
  if (spec?.x !== undefined) {
    for (const r of spec.x) {
      if (Array.isArray(r)) {
        const [a, b] = [index(r[0]), index(r[1])];
        if (b < a) throw new ConfigError(`--csv-columns: range ${r[0]}..${r[1]} goes backwards`);
        for (let i = a; i <= b; i++) out.x.push(i);
      } else out.x.push(index(r));
    }
  } else {
    // as pandas' select_dtypes('number'): a column whose first value is text (a name, a category) is no feature
    for (let i = 0; i < width; i++)
      if (!used.has(i) && (firstRow === undefined || i >= firstRow.length || isNumberCell(firstRow[i])))
        out.x.push(i);
  }
  if (out.x.length === 0) throw new ConfigError('--csv-columns: no feature (x) columns');
  for (const i of out.x)
    if (used.has(i))
      throw new ConfigError(`--csv-columns: column ${names[i]} is both a feature (x) and another field`);
  return out;
}

function isNumberCell(s: string): boolean {
  const t = s.trim();
  return t !== '' && Number.isFinite(Number(t));
}

/** A CSV row (already split into cells) as the event object the decoder reads, or why it cannot be one. */
export function csvRowValue(
  cells: string[],
  cols: ResolvedColumns,
  line: number,
  raw: string,
): Record<string, unknown> | RejectedValue {
  const cell = (i: number, field: string): string | RejectedValue =>
    i < cells.length
      ? cells[i]
      : new RejectedValue(
          'missing_field',
          `${field}: the row has ${cells.length} columns, ${cols.names[i]} is missing`,
          raw,
        );
  const num = (i: number, field: string): number | RejectedValue => {
    const c = cell(i, field);
    if (c instanceof RejectedValue) return c;
    const t = c.trim();
    const n = Number(t);
    if (t === '' || Number.isNaN(n))
      return new RejectedValue(
        field === 'y' ? 'bad_label' : 'bad_shape',
        `${field}: ${cols.names[i]} is ${JSON.stringify(c)}, not a number`,
        raw,
      );
    if (!Number.isFinite(n))
      return new RejectedValue('non_finite', `${field}: ${cols.names[i]} is ${c}`, raw);
    return n;
  };
  const x: number[] = new Array<number>(cols.x.length);
  for (let j = 0; j < cols.x.length; j++) {
    const v = num(cols.x[j], `x[${j}]`);
    if (v instanceof RejectedValue) return v;
    x[j] = v;
  }
  const event: Record<string, unknown> = { id: String(line), ts: 0, x };
  if (cols.id !== null) {
    const v = cell(cols.id, 'id');
    if (v instanceof RejectedValue) return v;
    event.id = v;
  }
  if (cols.ts !== null) {
    const v = num(cols.ts, 'ts');
    if (v instanceof RejectedValue) return v;
    event.ts = v;
  }
  if (cols.key !== null) {
    const v = cell(cols.key, 'key');
    if (v instanceof RejectedValue) return v;
    event.key = v;
  }
  if (cols.y !== null) {
    const c = cell(cols.y, 'y');
    if (c instanceof RejectedValue) return c;
    // an empty label is an unlabelled event (predicted, not learned), as pandas reads it as NaN
    if (c.trim() !== '') {
      const v = num(cols.y, 'y');
      if (v instanceof RejectedValue) return v;
      event.y = v;
    }
  }
  return event;
}

/** The first non-empty line of a file (at most 1 MiB is read). */
function firstLine(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new DatasetError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  try {
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    for (const l of text.split('\n')) if (l.trim() !== '') return l.trim();
    return '';
  } finally {
    closeSync(fd);
  }
}

/** The format of a file: `spec.format` unless `'auto'`, else from its first non-empty line. */
export function detectInputFormat(path: string, spec: InputSpec = {}): InputFormat {
  const f = spec.format ?? 'auto';
  if (f !== 'auto') {
    if (!INPUT_FORMATS.includes(f))
      throw new ConfigError(`--format: expected auto, ${INPUT_FORMATS.join(', ')}, got '${String(f)}'`);
    return f;
  }
  if (spec.csvColumns !== undefined) return 'csv';
  const line = firstLine(path);
  if (!line.startsWith('{')) return 'csv';
  try {
    return asRecordedMessage(JSON.parse(line)) === null ? 'jsonl' : 'recording';
  } catch {
    return 'jsonl';
  }
}

const lineNumbers = new WeakMap<EventOrigin, number>();

/** The 1-based line of the input file a message (or the dead letter or envelope it became) came from. */
export function inputLineOf(origin: EventOrigin): number | undefined {
  return lineNumbers.get(origin) ?? recordingLineOf(origin);
}

/** Topic named in the origin of the messages of a CSV or JSONL file (not a Kafka topic). */
export const FILE_TOPIC = { csv: '_csv', jsonl: '_jsonl', recording: '_recording' } as const;

function csvSpec(spec: InputSpec): CsvColumns | undefined {
  return typeof spec.csvColumns === 'string' ? parseCsvColumns(spec.csvColumns) : spec.csvColumns;
}

function csvOptions(spec: InputSpec): Record<string, unknown> {
  return {
    info: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: true,
    bom: true,
    delimiter: spec.csvDelimiter ?? ',',
  };
}

/** Start line of a record: csv-parse gives the line it ends on; quoted newlines are inside the record. */
function startLine(info: Info, raw: string): number {
  const body = raw.replace(/^[\r\n]+/, '').replace(/\r?\n$/, '');
  let nl = 0;
  for (let i = body.indexOf('\n'); i >= 0; i = body.indexOf('\n', i + 1)) nl++;
  return info.lines - nl;
}

function csvError(path: string, err: unknown): DatasetError {
  const e = err as { message?: string; lines?: number };
  return new DatasetError(
    `${path}: CSV cannot be parsed${e.lines === undefined ? '' : ` at line ${e.lines}`}: ${e.message ?? String(err)}`,
    { cause: err },
  );
}

/** Turns CSV records into raw messages: the first record fixes the header and the column mapping. */
class CsvMessages {
  private cols: ResolvedColumns | null = null;
  private readonly spec: CsvColumns | undefined;
  constructor(private readonly input: InputSpec) {
    this.spec = csvSpec(input);
  }

  private header: string[] | null | undefined = undefined;

  /** The message for one record, or null for a header row. */
  next(record: string[], info: Info, raw: string): RawMessage | null {
    const line = startLine(info, raw);
    if (this.header === undefined) {
      const isHeader = this.input.csvHeader ?? record.some((c) => c.trim() !== '' && !isNumberCell(c));
      this.header = isHeader ? record.map((c) => c.trim()) : null;
      if (isHeader) return null;
    }
    this.cols ??= resolveCsvColumns(
      this.spec,
      this.header,
      this.header?.length ?? record.length,
      this.header === null ? undefined : record,
    );
    const text = raw.replace(/^[\r\n]+/, '').replace(/\r?\n$/, '');
    const value = csvRowValue(record, this.cols, line, text);
    const origin: EventOrigin = {
      topic: FILE_TOPIC.csv,
      partition: 0,
      offset: String(line - 1),
      timestamp: value instanceof RejectedValue ? 0 : (value.ts as number),
    };
    lineNumbers.set(origin, line);
    return { origin, key: null, value, receivedAt: 0 };
  }
}

export interface FromInputFileOptions {
  /** `'max'` (default) or a factor of the recorded pace (recordings and JSONL with `ts`; CSV only at `'max'`). */
  speed?: 'max' | number;
}

/**
 * Read an event file in any {@link InputFormat} as a stream of raw messages, in file order. Recordings and
 * JSON Lines go through {@link fromRecording} (a line is an envelope or a bare event); CSV rows become event
 * objects by the column mapping, and a row that cannot be one becomes a {@link RejectedValue} (a dead letter
 * naming its line and column). A CSV that cannot be parsed at all (an unclosed quote) errors the stream.
 */
export function fromInputFile(
  path: string,
  spec: InputSpec = {},
  options: FromInputFileOptions = {},
): Observable<RawMessage> {
  const format = detectInputFormat(path, spec);
  if (format !== 'csv')
    return fromRecording(path, {
      speed: options.speed ?? 'max',
      badLineTopic: FILE_TOPIC[format],
    });
  if ((options.speed ?? 'max') !== 'max')
    throw new ConfigError('--speed: a CSV file is replayed at max speed only');
  const messages = new CsvMessages(spec);
  return new Observable<RawMessage>((subscriber) => {
    const file = createReadStream(path);
    const parser = parseCsvStream(csvOptions(spec));
    let stopped = false;
    (async () => {
      for await (const r of file.pipe(parser) as AsyncIterable<{
        record: string[];
        info: Info;
        raw: string;
      }>) {
        if (stopped) return;
        const m = messages.next(r.record, r.info, r.raw);
        if (m !== null) {
          m.receivedAt = Date.now();
          subscriber.next(m);
        }
      }
      if (!stopped) subscriber.complete();
    })().catch((err: unknown) => {
      if (stopped) return;
      const code = (err as { code?: string }).code;
      subscriber.error(code?.startsWith('CSV_') ? csvError(path, err) : err);
    });
    return () => {
      stopped = true;
      file.destroy();
      parser.destroy();
    };
  });
}

/** One message of a file read whole, with its line. */
export interface InputLine {
  line: number;
  message: RawMessage;
}

/**
 * Read an event file whole (for `compare` and `produce`, which hold the events in memory anyway): the same
 * messages as {@link fromInputFile}, with their lines.
 */
export function readInputFileSync(path: string, spec: InputSpec = {}): InputLine[] {
  const format = detectInputFormat(path, spec);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DatasetError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  const out: InputLine[] = [];
  if (format === 'csv') {
    let records: { record: string[]; info: Info; raw: string }[];
    try {
      records = parseCsvSync(text, csvOptions(spec)) as unknown as typeof records;
    } catch (err) {
      throw csvError(path, err);
    }
    const messages = new CsvMessages(spec);
    for (const r of records) {
      const m = messages.next(r.record, r.info, r.raw);
      if (m !== null) out.push({ line: lineNumbers.get(m.origin)!, message: m });
    }
    return out;
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() === '') continue;
    let parsed: unknown;
    let ok = true;
    try {
      parsed = JSON.parse(l);
    } catch {
      ok = false;
    }
    const rec = ok ? asRecordedMessage(parsed) : null;
    const message: RawMessage =
      rec !== null
        ? fromRecordedMessage(rec, 0)
        : {
            origin: { topic: FILE_TOPIC[format], partition: 0, offset: String(i), timestamp: 0 },
            key: null,
            value: l,
            receivedAt: 0,
          };
    lineNumbers.set(message.origin, i + 1);
    out.push({ line: i + 1, message });
  }
  return out;
}
