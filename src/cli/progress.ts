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

/** `42s`, `6m09s`, `6h10m`: rounded to whole seconds first, so 369m59.6s is 6h10m, never 369m60s. */
export function fmtEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const unit = opts.unit ?? 'items';
  if (opts.quiet) return { update: () => undefined, stop: () => undefined };
  const started = performance.now();
  if (opts.tty ?? stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {etaText}`,
        stream,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.total, 0, { rate: '0', etaText: '?' });
    return {
      update(value) {
        const s = (performance.now() - started) / 1000;
        const rate = s > 0 ? value / s : 0;
        bar.update(value, {
          rate: rate.toFixed(1),
          etaText: fmtEta(rate > 0 ? (opts.total - value) / rate : Number.NaN),
        });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const interval = opts.intervalMs ?? 5000;
  let last = performance.now();
  let lastValue = -1;
  let latest = 0;
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
      latest = value;
      const now = performance.now();
      if (value >= opts.total || now - last >= interval) {
        last = now;
        if (value !== lastValue) line(value);
      }
    },
    stop() {
      // where the count fell short of the total (dead letters, a header row, Ctrl-C), say where it ended
      if (lastValue !== latest) line(latest);
    },
  };
}
