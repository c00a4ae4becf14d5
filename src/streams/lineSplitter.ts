/**
 * Splits text arriving in chunks into lines in linear time: each character is scanned once, and a line that
 * spans many chunks is joined once, when its end arrives (not re-split with the text accumulated so far on
 * every chunk). A line longer than `maxChars` is not accumulated: the rest of it is skipped as it streams by,
 * and it is reported as too long with its length and first characters.
 */

/** One line: its text, or, when it was too long, its length and head. `lineNo` counts from 1. */
export type SplitLine =
  { lineNo: number; text: string } | { lineNo: number; tooLong: true; chars: number; head: string };

export interface LineSplitterOptions {
  /** Longest line kept (characters, without the line break). */
  maxChars: number;
  /** Characters kept as the head of a too-long line (default 256). */
  headChars?: number;
}

export class LineSplitter {
  private readonly maxChars: number;
  private readonly headChars: number;
  private parts: string[] = [];
  private partChars = 0;
  /** In a too-long line: its head and how many characters it has so far. */
  private skipping: { head: string; chars: number } | null = null;
  private lineNo = 0;
  /** Characters examined so far (each once): the work done, for tests and benchmarks. */
  scanned = 0;
  /** Characters copied into joined lines so far (each at most once). */
  joined = 0;

  constructor(options: LineSplitterOptions) {
    this.maxChars = options.maxChars;
    this.headChars = options.headChars ?? 256;
  }

  /** The complete lines in `chunk` (with what came before it); keeps the unfinished tail for later. */
  push(chunk: string): SplitLine[] {
    const out: SplitLine[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf('\n', pos);
      const end = nl < 0 ? chunk.length : nl;
      this.scanned += end - pos + (nl < 0 ? 0 : 1);
      this.append(chunk, pos, end);
      if (nl < 0) break;
      out.push(this.finish());
      pos = nl + 1;
    }
    return out;
  }

  /** The last line, if the text did not end with a line break. */
  end(): SplitLine | null {
    if (this.skipping === null && this.partChars === 0 && this.parts.length === 0) return null;
    return this.finish();
  }

  private append(chunk: string, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    if (this.skipping !== null) {
      this.skipping.chars += n;
      return;
    }
    if (this.partChars + n > this.maxChars) {
      const have = this.parts.join('');
      this.skipping = {
        head: (have + chunk.slice(from, from + this.headChars)).slice(0, this.headChars),
        chars: this.partChars + n,
      };
      this.parts = [];
      this.partChars = 0;
      return;
    }
    this.parts.push(chunk.slice(from, to));
    this.partChars += n;
  }

  private finish(): SplitLine {
    const lineNo = ++this.lineNo;
    if (this.skipping !== null) {
      const { head, chars } = this.skipping;
      this.skipping = null;
      return { lineNo, tooLong: true, chars, head };
    }
    let text = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
    if (this.parts.length > 1) this.joined += text.length;
    this.parts = [];
    this.partChars = 0;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { lineNo, text };
  }
}
