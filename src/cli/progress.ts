/**
 * Progress for replays and comparisons: a cli-progress bar with rate and ETA when stderr is a terminal,
 * plain lines (at most one every `intervalMs`, plus the last) when it is not, so logs and CI output stay
 * readable.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Advance to `value` (absolute) of `total`. */
  update(value: number): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  /** Force the plain-line mode or the bar (default: bar when stderr is a TTY). */
  tty?: boolean;
  stream?: NodeJS.WriteStream;
  intervalMs?: number;
  /** Print nothing at all. */
  quiet?: boolean;
}

function fmtEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const unit = opts.unit ?? 'items';
  if (opts.quiet) return { update: () => undefined, stop: () => undefined };
  const started = performance.now();
  if (opts.tty ?? stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`,
        stream,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.total, 0, { rate: '0' });
    return {
      update(value) {
        const s = (performance.now() - started) / 1000;
        bar.update(value, { rate: s > 0 ? (value / s).toFixed(1) : '0' });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const interval = opts.intervalMs ?? 5000;
  let last = performance.now();
  let lastValue = -1;
  const line = (value: number): void => {
    const s = (performance.now() - started) / 1000;
    const rate = s > 0 ? value / s : 0;
    const pct = opts.total > 0 ? Math.floor((100 * value) / opts.total) : 100;
    const eta = rate > 0 ? (opts.total - value) / rate : Number.NaN;
    stream.write(
      `${opts.label}: ${value}/${opts.total} ${unit} (${pct}%) ${rate.toFixed(1)}/s ETA ${fmtEta(eta)}\n`,
    );
    lastValue = value;
  };
  return {
    update(value) {
      const now = performance.now();
      if (value >= opts.total || now - last >= interval) {
        last = now;
        if (value !== lastValue) line(value);
      }
    },
    stop() {
      // the final line was printed when the total was reached; nothing else to flush
    },
  };
}
