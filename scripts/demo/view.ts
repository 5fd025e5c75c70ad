import { stripVTControlCharacters } from 'node:util';
import type { WorkerStats } from '../../sdk/worker/src/index.ts';
import type { DagJob, DeadLetterStats, Run, RunDag, RunStatus } from './api.ts';
import type { InjectedFailure, InjectedFailures } from './handlers.ts';

/** Terminal output of the demo: the live view (ANSI redraw on a TTY, a line per change otherwise) and the summary. */

export interface TrackedRun {
  /** 1-based position in the submission. */
  index: number;
  id: string;
  /** e.g. `15:00–16:00Z`. */
  window: string;
  /** Local clock (ms) when submitted and when first seen terminal. */
  submittedAt: number;
  endedAt: number | undefined;
  run: Run;
  dag: RunDag | undefined;
}

export interface WorkerSnapshot {
  workerId: string;
  stats: WorkerStats;
}

export interface Snapshot {
  elapsedMs: number;
  runs: TrackedRun[];
  workers: WorkerSnapshot[];
  injected: InjectedFailures;
  /** Most recent last. */
  failures: InjectedFailure[];
}

const TERMINAL_RUN: ReadonlySet<string> = new Set(['succeeded', 'failed', 'canceled']);
export const isTerminalRun = (status: string) => TERMINAL_RUN.has(status);

// --- styling -------------------------------------------------------------------------------------------

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  underline: [4, 24],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;
export type StyleName = keyof typeof CODES;

export class Style {
  constructor(readonly color: boolean) {}

  paint(text: string, ...styles: (StyleName | false | undefined)[]): string {
    if (!this.color) return text;
    let out = text;
    for (const style of styles) {
      if (!style) continue;
      const [open, close] = CODES[style];
      out = `\x1b[${open}m${out}\x1b[${close}m`;
    }
    return out;
  }
}

/** Visible width, ANSI sequences excluded (every glyph used here is one column wide). */
export const visibleLength = (text: string) => [...stripVTControlCharacters(text)].length;

const padVisible = (text: string, width: number, align: 'left' | 'right' = 'left') => {
  const pad = ' '.repeat(Math.max(0, width - visibleLength(text)));
  return align === 'left' ? text + pad : pad + text;
};

// --- glyphs ----------------------------------------------------------------------------------------------

const JOB_GLYPHS: Record<string, [string, StyleName]> = {
  pending: ['·', 'gray'],
  queued: ['○', 'blue'],
  throttled: ['≈', 'yellow'],
  leased: ['◔', 'cyan'],
  running: ['◐', 'cyan'],
  succeeded: ['✔', 'green'],
  failed: ['✖', 'red'],
  canceled: ['⊘', 'magenta'],
  dead_lettered: ['☠', 'red'],
};

const RUN_STYLE: Record<RunStatus, StyleName> = {
  planning: 'gray',
  running: 'cyan',
  succeeded: 'green',
  failed: 'red',
  canceled: 'magenta',
};

export const LEGEND =
  '· pending ○ queued ↻ retry due ≈ throttled ◔ leased ◐ running ✔ succeeded ✖ failed ⊘ canceled ☠ dead letter';

function jobGlyph(job: DagJob, style: Style): string {
  // A queued job that already ran is a retry waiting out its backoff.
  const retrying = job.status === 'queued' && job.attempt > 0;
  const [glyph, color] = retrying
    ? ['↻', 'yellow' as const]
    : (JOB_GLYPHS[job.status] ?? ['?', 'gray' as const]);
  if (!style.color) return job.onCriticalPath ? `${glyph}*` : glyph;
  return style.paint(
    glyph,
    color,
    job.status === 'dead_lettered' && 'bold',
    job.onCriticalPath && 'underline',
  );
}

// --- per-run numbers -------------------------------------------------------------------------------------

export interface RunCounts {
  total: number;
  succeeded: number;
  /** failed + dead-lettered. */
  failed: number;
  canceled: number;
  deadLetters: number;
  /** Attempts beyond each job's first. */
  retries: number;
}

export function countJobs(tracked: TrackedRun): RunCounts {
  const jobs = tracked.dag?.jobs ?? [];
  const counts: RunCounts = {
    total: jobs.length,
    succeeded: 0,
    failed: 0,
    canceled: 0,
    deadLetters: 0,
    retries: 0,
  };
  for (const job of jobs) {
    if (job.status === 'succeeded') counts.succeeded++;
    if (job.status === 'failed' || job.status === 'dead_lettered') counts.failed++;
    if (job.status === 'canceled') counts.canceled++;
    if (job.status === 'dead_lettered') counts.deadLetters++;
    counts.retries += Math.max(0, job.attempt - 1);
  }
  if (counts.total === 0) counts.total = tracked.run.jobs.total;
  return counts;
}

/** Server-side duration (started → finished); while running, the local clock since submission. */
export function runDurationMs(tracked: TrackedRun, now: number): number {
  const { run } = tracked;
  const start = Date.parse(run.startedAt ?? run.createdAt);
  if (run.finishedAt) return Date.parse(run.finishedAt) - start;
  return (tracked.endedAt ?? now) - tracked.submittedAt;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
export const shortId = (id: string) => `${id.slice(0, 8)}…${id.slice(-4)}`;

// --- DAG line ----------------------------------------------------------------------------------------------

/** `fetch-feed ✔ → parse ✔ → normalize ✔◐○○ → merge · → export ·`: one group per depth, in topological order. */
export function dagLine(dag: RunDag, style: Style): string {
  const byDepth = new Map<number, DagJob[]>();
  for (const job of [...dag.jobs].sort((a, b) => a.topoIndex - b.topoIndex)) {
    const group = byDepth.get(job.depth) ?? [];
    group.push(job);
    byDepth.set(job.depth, group);
  }
  const groups = [...byDepth.entries()].sort(([a], [b]) => a - b).map(([, jobs]) => jobs);
  return groups
    .map((jobs) => {
      const label = groupLabel(jobs.map((job) => job.key));
      const critical = jobs.length === 1 && jobs[0]!.onCriticalPath;
      const glyphs = jobs.map((job) => jobGlyph(job, style)).join('');
      return `${style.paint(label, 'dim', critical && style.color && 'underline')} ${glyphs}`;
    })
    .join(style.paint(' → ', 'gray'));
}

/** The shared stem of a fan-out's keys (`normalize-0..3` → `normalize`), else the keys. */
function groupLabel(keys: string[]): string {
  if (keys.length === 1) return keys[0]!;
  let prefix = keys[0]!;
  for (const key of keys) while (!key.startsWith(prefix)) prefix = prefix.slice(0, -1);
  prefix = prefix.replace(/[-_.:]+$/, '');
  return prefix || keys.join(',');
}

// --- live view (TTY) -----------------------------------------------------------------------------------

/**
 * The live frame. Two lines per run (summary, then the DAG by depth); when the terminal has fewer than
 * `rows` lines for that, one line per run, unfinished runs first, and "… N more" past what fits, so the
 * frame never scrolls (a redraw can only move up within the screen).
 */
export function renderLive(
  snapshot: Snapshot,
  header: string,
  style: Style,
  options: { timeoutMs: number; rows?: number | undefined; finished?: boolean },
  now = Date.now(),
): string[] {
  const rows = options.rows ?? Number.POSITIVE_INFINITY;
  const workers = ['', workerLine(snapshot, style)];
  const tail: string[] = [];
  const critical = snapshot.runs.find((r) => r.dag && r.dag.criticalPath.length > 0)?.dag?.criticalPath;
  if (critical) {
    const mark = style.color ? style.paint('underlined', 'underline') : '*';
    tail.push(style.paint(`critical path (${mark}): ${critical.join(' → ')}`, 'gray'));
  }
  tail.push(style.paint(LEGEND, 'gray'));
  const left = Math.max(0, options.timeoutMs - snapshot.elapsedMs);
  tail.push(
    style.paint(
      options.finished
        ? `finished in ${seconds(snapshot.elapsedMs)}`
        : `elapsed ${seconds(snapshot.elapsedMs)} · gives up in ${seconds(left)} · Ctrl-C stops the workers`,
      'gray',
    ),
  );
  const head = [header, ''];
  // Keep one spare row: the cursor sits below the frame.
  const budget = rows - 1 - head.length - workers.length - tail.length;
  const failures = snapshot.failures.slice(-4).map((f) => `  ${failureText(f, snapshot.runs, style)}`);
  const full = snapshot.runs.flatMap((tracked) => [
    runLine(tracked, style, now),
    `   ${tracked.dag && tracked.dag.jobs.length > 0 ? dagLine(tracked.dag, style) : style.paint('planning…', 'gray')}`,
  ]);
  let runs: string[];
  let shownFailures: string[] = [];
  if (full.length <= budget) {
    runs = full;
    shownFailures = failures.slice(Math.max(0, failures.length - (budget - full.length)));
  } else {
    runs = compactRuns(snapshot.runs, style, now, Math.max(1, budget));
  }
  return [...head, ...runs, ...workers, ...shownFailures, ...tail];
}

function runLine(tracked: TrackedRun, style: Style, now: number): string {
  const counts = countJobs(tracked);
  const status = tracked.run.status;
  const statusText = style.paint(status.padEnd(9), RUN_STYLE[status], isTerminalRun(status) && 'bold');
  const tally = [
    style.paint(`✔ ${counts.succeeded}`, counts.succeeded > 0 && 'green'),
    style.paint(`✖ ${counts.failed}`, counts.failed > 0 && 'red'),
    style.paint(`⊘ ${counts.canceled}`, counts.canceled > 0 && 'magenta'),
    style.paint(`of ${counts.total}`, 'gray'),
    style.paint(`↻ ${counts.retries}`, counts.retries > 0 && 'yellow'),
    style.paint(`☠ ${counts.deadLetters}`, counts.deadLetters > 0 && 'red'),
  ].join('  ');
  return (
    `${style.paint(`run ${tracked.index}`, 'bold')}  ${style.paint(shortId(tracked.id), 'gray')}  ${tracked.window}  ` +
    `${statusText} ${tally}  ${style.paint(seconds(runDurationMs(tracked, now)).padStart(6), 'gray')}`
  );
}

/** One line per run: `run 12  running    ✔✔◐○····  ✔ 2 ✖ 0 ⊘ 0  1.2s`; unfinished runs first. */
function compactRuns(runs: TrackedRun[], style: Style, now: number, budget: number): string[] {
  const order = [
    ...runs.filter((r) => !isTerminalRun(r.run.status)),
    ...runs.filter((r) => isTerminalRun(r.run.status)),
  ];
  const shown = order.length <= budget ? order : order.slice(0, budget - 1);
  const width = String(runs.length).length;
  const lines = shown
    .sort((a, b) => a.index - b.index)
    .map((tracked) => {
      const counts = countJobs(tracked);
      const status = tracked.run.status;
      const glyphs = tracked.dag
        ? [...tracked.dag.jobs]
            .sort((a, b) => a.topoIndex - b.topoIndex)
            .map((job) => jobGlyph(job, style))
            .join('')
        : style.paint('planning…', 'gray');
      return (
        `${style.paint(`run ${String(tracked.index).padStart(width)}`, 'bold')}  ` +
        `${style.paint(status.padEnd(9), RUN_STYLE[status], isTerminalRun(status) && 'bold')} ${glyphs}  ` +
        `✔ ${counts.succeeded} ✖ ${counts.failed} ⊘ ${counts.canceled} ↻ ${counts.retries}  ` +
        style.paint(seconds(runDurationMs(tracked, now)), 'gray')
      );
    });
  if (shown.length < order.length) {
    const hidden = order.slice(shown.length);
    const finished = hidden.filter((r) => isTerminalRun(r.run.status)).length;
    lines.push(style.paint(`… ${hidden.length} more run(s), ${finished} of them finished`, 'gray'));
  }
  return lines;
}

export function workerTotals(workers: WorkerSnapshot[]): WorkerStats {
  const total: WorkerStats = {
    leased: 0,
    succeeded: 0,
    failed: 0,
    leaseLost: 0,
    completionErrors: 0,
    inFlight: 0,
  };
  for (const { stats } of workers) {
    for (const key of Object.keys(total) as (keyof WorkerStats)[]) total[key] += stats[key];
  }
  return total;
}

function workerLine(snapshot: Snapshot, style: Style): string {
  const t = workerTotals(snapshot.workers);
  const parts = [
    style.paint(`workers ×${snapshot.workers.length}`, 'bold'),
    `leased ${t.leased}`,
    style.paint(`✔ ${t.succeeded}`, 'green'),
    style.paint(`✖ ${t.failed}`, t.failed > 0 && 'red'),
    `in flight ${t.inFlight}`,
  ];
  if (t.leaseLost > 0) parts.push(style.paint(`lease lost ${t.leaseLost}`, 'yellow'));
  if (t.completionErrors > 0) parts.push(style.paint(`undelivered ${t.completionErrors}`, 'red'));
  parts.push(
    style.paint(
      `injected: ${snapshot.injected.UPSTREAM_TIMEOUT} UPSTREAM_TIMEOUT, ${snapshot.injected.MALFORMED_FEED} MALFORMED_FEED`,
      'gray',
    ),
  );
  return parts.join('  ');
}

/** `✖ run 1 normalize-3 attempt 1: UPSTREAM_TIMEOUT (upstream) → retry` */
function failureText(failure: InjectedFailure, runs: TrackedRun[], style: Style): string {
  const run = runs.find((r) => r.id === failure.runId);
  const where = run ? `run ${run.index}` : `run ${shortId(failure.runId)}`;
  const next = failure.willRetry
    ? style.paint('→ retry', 'yellow')
    : style.paint(
        failure.code === 'MALFORMED_FEED' ? '→ dead letter' : '→ attempts used up: dead letter',
        'red',
      );
  return (
    `${style.paint(failure.willRetry ? '✖' : '☠', 'red')} ${where} ${failure.key.padEnd(11)} attempt ${failure.attempt}: ` +
    `${style.paint(failure.code, 'bold')} (${failure.errorClass}) ${next}`
  );
}

/** Redraws a block of lines in place: moves up over the previous block (wrapped rows included) and clears. */
export class LiveScreen {
  #rows = 0;
  #last = '';

  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(lines: string[]): void {
    const text = lines.join('\n');
    if (text === this.#last) return;
    this.#last = text;
    const columns = Math.max(20, this.out.columns ?? 100);
    const up = this.#rows > 0 ? `\x1b[${this.#rows}F` : '';
    this.out.write(`${up}\x1b[J${text}\n`);
    this.#rows = lines.reduce(
      (rows, line) => rows + Math.max(1, Math.ceil(visibleLength(line) / columns)),
      0,
    );
  }

  hideCursor() {
    this.out.write('\x1b[?25l');
  }

  showCursor() {
    this.out.write('\x1b[?25h');
  }
}

// --- line per change (not a TTY) ------------------------------------------------------------------------

/** Prints one line per observed change: run status, and each job state transition seen between polls. */
export class ChangeLog {
  readonly #jobs = new Map<string, { status: string; attempt: number }>();
  readonly #runs = new Map<string, string>();

  constructor(
    private readonly print: (line: string) => void,
    private readonly style: Style,
    /** The latest failure a handler injected into this job, if any. */
    private readonly failureOf: (jobId: string) => InjectedFailure | undefined,
  ) {}

  observe(tracked: TrackedRun, elapsedMs: number): void {
    const at = this.style.paint(`[${seconds(elapsedMs).padStart(6)}]`, 'gray');
    const who = `run ${tracked.index} ${this.style.paint(shortId(tracked.id), 'gray')}`;
    const status = tracked.run.status;
    const statusChanged = this.#runs.get(tracked.id) !== status;
    this.#runs.set(tracked.id, status);
    const runLine = () => {
      const counts = countJobs(tracked);
      const detail =
        status === 'planning'
          ? `submitted (${tracked.window})`
          : isTerminalRun(status)
            ? `${counts.succeeded}/${counts.total} succeeded, ${counts.failed} failed, ${counts.canceled} canceled, ` +
              `${counts.retries} retries, ${counts.deadLetters} dead letters`
            : `${counts.total} jobs planned, critical path ${tracked.dag?.criticalPath.join(' → ') ?? '?'}`;
      this.print(`${at} ${who} ${this.style.paint(status, RUN_STYLE[status], 'bold')}: ${detail}`);
    };
    // A run's start before its jobs move; its end after them.
    if (statusChanged && !isTerminalRun(status)) runLine();
    for (const job of tracked.dag?.jobs ?? []) {
      const previous = this.#jobs.get(job.id);
      if (previous && previous.status === job.status && previous.attempt === job.attempt) continue;
      this.#jobs.set(job.id, { status: job.status, attempt: job.attempt });
      // The first sight of a job in its initial state is not news.
      if (!previous && (job.status === 'pending' || job.status === 'queued') && job.attempt === 0) continue;
      this.print(`${at} ${who} ${job.key.padEnd(12)} ${this.#transition(job, previous)}`);
    }
    if (statusChanged && isTerminalRun(status)) runLine();
  }

  #transition(job: DagJob, previous: { status: string; attempt: number } | undefined): string {
    const from = previous ? `${previous.status} → ` : '';
    const failure = this.failureOf(job.id);
    const cause =
      failure && failure.attempt === job.attempt ? ` · ${failure.code} (${failure.errorClass})` : '';
    if (job.status === 'queued' && job.attempt > 0) {
      return `${from}${this.style.paint('queued for retry', 'yellow')} · attempt ${job.attempt} failed${cause}`;
    }
    const [, color] = JOB_GLYPHS[job.status] ?? ['?', 'gray'];
    const attempt = job.attempt > 0 ? this.style.paint(` (attempt ${job.attempt})`, 'gray') : '';
    let why = job.status === 'dead_lettered' || job.status === 'failed' ? cause : '';
    // A failure and its retry can both fall between two polls: say what the new attempt follows.
    if (!why && previous && failure && failure.attempt < job.attempt && failure.attempt >= previous.attempt) {
      why = ` · after attempt ${failure.attempt} failed · ${failure.code} (${failure.errorClass})`;
    }
    return `${from}${this.style.paint(job.status, color, job.status === 'dead_lettered' && 'bold')}${attempt}${why}`;
  }
}

// --- summary ---------------------------------------------------------------------------------------------

export function renderSummary(
  runs: TrackedRun[],
  workers: WorkerSnapshot[],
  injected: InjectedFailures,
  deadLetters: DeadLetterStats | undefined,
  style: Style,
  now = Date.now(),
): string[] {
  const header = ['run', 'window', 'status', 'duration', 'jobs ✔/✖/⊘', 'retries', 'dead letters'];
  const rows = runs.map((tracked) => {
    const counts = countJobs(tracked);
    const status = tracked.run.status;
    return [
      tracked.id,
      tracked.window,
      style.paint(status, RUN_STYLE[status], 'bold'),
      seconds(runDurationMs(tracked, now)),
      `${counts.succeeded}/${counts.failed}/${counts.canceled} of ${counts.total}`,
      String(counts.retries),
      String(counts.deadLetters),
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[column]!))),
  );
  const right = new Set([3, 5, 6]);
  const format = (cells: string[]) =>
    `  ${cells.map((cell, column) => padVisible(cell, widths[column]!, right.has(column) ? 'right' : 'left')).join('   ')}`;
  const lines = [style.paint(format(header), 'bold'), ...rows.map(format)];

  const t = workerTotals(workers);
  lines.push('');
  lines.push(
    `  workers: ${workers.length} · leased ${t.leased} · succeeded ${t.succeeded} · failed ${t.failed} ` +
      `(injected ${injected.UPSTREAM_TIMEOUT} × UPSTREAM_TIMEOUT, ${injected.MALFORMED_FEED} × MALFORMED_FEED)` +
      (t.leaseLost > 0 ? ` · lease lost ${t.leaseLost}` : '') +
      (t.completionErrors > 0 ? ` · undelivered completions ${t.completionErrors}` : ''),
  );
  if (deadLetters) {
    const top = deadLetters.topErrors
      .slice(0, 3)
      .map((e) => `${e.errorCode} on ${e.jobType} ×${e.count}`)
      .join(', ');
    lines.push(
      `  dead letters in this tenant: ${deadLetters.counts.open} open, ${deadLetters.counts.replayed} replayed, ` +
        `${deadLetters.counts.discarded} discarded${top ? ` · top: ${top}` : ''}`,
    );
  }
  return lines;
}
