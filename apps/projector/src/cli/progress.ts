/**
 * Progress of a long replay (rebuild, verify): on a terminal, one bar redrawn in place (events done
 * of total, rate, ETA); otherwise (a log file, CI) a plain line every few seconds, so that the
 * output stays readable where \r is not.
 */

export type ProgressOutput = Readonly<{ isTTY?: boolean; columns?: number; write: (text: string) => unknown }>;

export type ProgressOptions = Readonly<{
  /** Milliseconds, monotonic enough: Date.now by default. */
  now?: () => number;
  /** How often a plain line is written at most. */
  lineIntervalMs?: number;
}>;

const REDRAW_INTERVAL_MS = 100;
const LINE_INTERVAL_MS = 5000;
/** The bar takes what the line leaves, within these bounds. */
const BAR_WIDTH = { min: 10, max: 30 };

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export const duration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

export type ProgressFigures = Readonly<{ done: number; total: number; fraction: number; perSecond: number; etaSeconds: number }>;

/** The figures a progress report shows, from events done, the total and the seconds since the start. */
export const figures = (done: number, total: number, elapsedSeconds: number): ProgressFigures => {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const perSecond = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  return { done, total, fraction, perSecond, etaSeconds: perSecond > 0 ? Math.max(0, total - done) / perSecond : Infinity };
};

const describe = (f: ProgressFigures): string =>
  `${count(f.done)}/${count(f.total)} events (${Math.floor(f.fraction * 100)}%), ${count(f.perSecond)} events/s, ETA ${duration(f.etaSeconds)}`;

export const bar = (fraction: number, width = BAR_WIDTH.max): string => {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
};

export class Progress {
  private readonly now: () => number;
  private readonly started: number;
  private lastOutput = -Infinity;
  private latest: ProgressFigures | null = null;
  private latestShown = false;

  constructor(
    private readonly label: string,
    private readonly output: ProgressOutput,
    private readonly options: ProgressOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  update(done: number, total: number): void {
    const at = this.now();
    this.latest = figures(done, total, (at - this.started) / 1000);
    this.latestShown = false;
    const interval = this.output.isTTY ? REDRAW_INTERVAL_MS : (this.options.lineIntervalMs ?? LINE_INTERVAL_MS);
    if (at - this.lastOutput < interval) return;
    this.lastOutput = at;
    this.print(this.latest);
  }

  /** The last figures, then a summary line with the total time. */
  finish(summary = 'done'): void {
    if (this.latest && !this.latestShown) this.print(this.latest);
    const seconds = (this.now() - this.started) / 1000;
    this.output.write(`${this.output.isTTY ? '\n' : ''}${this.label}: ${summary} in ${duration(seconds)}\n`);
  }

  private print(f: ProgressFigures): void {
    this.latestShown = true;
    if (!this.output.isTTY) {
      this.output.write(`${this.label}: ${describe(f)}\n`);
      return;
    }
    const text = describe(f);
    const width = (this.output.columns ?? 80) - 1;
    const barWidth = Math.max(BAR_WIDTH.min, Math.min(BAR_WIDTH.max, width - this.label.length - text.length - 4));
    const line = `${this.label} ${bar(f.fraction, barWidth)} ${text}`;
    this.output.write(`\r${line.slice(0, width).padEnd(width)}`);
  }
}
