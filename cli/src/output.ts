/**
 * What the CLI prints: tables and key/value blocks for people, one JSON document (or one JSON line per
 * streamed item) with `--json` for scripts. Results go to stdout, diagnostics to stderr.
 */

export interface Output {
  json: boolean;
  /** stdout is a terminal: progress redraws in place */
  tty: boolean;
  line(text?: string): void;
  error(text: string): void;
  /** --json: the value as one document; otherwise `human()` */
  result(value: unknown, human: () => void): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    tty: process.stdout.isTTY === true && !json,
    line: (text = '') => process.stdout.write(`${text}\n`),
    error: (text) => process.stderr.write(`${text}\n`),
    result(value, human) {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else human();
    },
  };
}

export type Column<T> = [header: string, cell: (row: T) => unknown];

/** A plain left-aligned table; cells are stringified, objects as compact JSON. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  const cells = rows.map((row) => columns.map(([, cell]) => text(cell(row))));
  const widths = columns.map(([header], i) =>
    Math.min(60, Math.max(header.length, ...cells.map((r) => r[i]!.length))),
  );
  const format = (values: string[]) =>
    values
      .map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(columns.map(([header]) => header.toUpperCase())), ...cells.map(format)];
}

/** Columns for a resource of unknown shape: id first, then its scalar fields (at most `max`). */
export function genericColumns(
  rows: readonly Record<string, unknown>[],
  max = 7,
): Column<Record<string, unknown>>[] {
  const names: string[] = [];
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      if (!names.includes(name) && (value === null || typeof value !== 'object')) names.push(name);
    }
  }
  names.sort((a, b) => (a === 'id' ? -1 : b === 'id' ? 1 : 0));
  return names.slice(0, max).map((name) => [name, (row) => row[name]]);
}

export function keyValues(value: Record<string, unknown>): string[] {
  const width = Math.max(0, ...Object.keys(value).map((k) => k.length));
  return Object.entries(value).map(([k, v]) => `${k.padEnd(width)}  ${text(v)}`);
}

export function text(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** `[########------------]  12/40  30%` */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total} ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

/** Redraws a block of lines in place on a terminal; elsewhere prints only blocks that changed. */
export class LiveBlock {
  private previous: string[] = [];
  constructor(private readonly out: Output) {}

  draw(lines: string[]): void {
    if (!this.out.tty) {
      const key = lines.join('\n');
      if (key !== this.previous.join('\n')) for (const line of lines) this.out.line(line);
      this.previous = lines;
      return;
    }
    if (this.previous.length > 0) process.stdout.write(`\x1b[${this.previous.length}F\x1b[J`);
    process.stdout.write(`${lines.join('\n')}\n`);
    this.previous = lines;
  }
}
