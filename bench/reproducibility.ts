/**
 * Reproducibility of a suite run (ISSUE acceptance: "a rerun reproduces it within ±20%"): the headline
 * numbers of each workload, read from the `summary` lines of a `*-suite.jsonl`, and their comparison
 * with another run's. Pure: `bench/compare.ts` is the command around it.
 */

/** One headline number of a report: `workload` groups it, `metric` names it uniquely within the run. */
export interface Headline {
  workload: string;
  metric: string;
  value: number;
}

type Summary = Record<string, unknown> & { kind?: string; workload?: string };

const number = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

const loadLabel = (load: unknown) => `${Math.round(Number(load) * 100)}%`;

/** The headline numbers of one suite run, from the lines of its JSONL file (other lines are ignored). */
export function headlines(jsonl: string): Headline[] {
  const out: Headline[] = [];
  const push = (workload: string, metric: string, value: unknown) => {
    const n = number(value);
    if (n !== undefined) out.push({ workload, metric, value: n });
  };
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as Summary;
    if (row.kind !== 'summary') continue;
    const system = String(row.system ?? 'jobengine');
    switch (row.workload) {
      case 'w1':
        push(
          'w1',
          `${system} K=${row.workers} B=${row.batchSize} jobs/s`,
          field(row.jobsPerSecond, 'median'),
        );
        break;
      case 'w2':
        for (const p of ['p50', 'p95', 'p99'])
          push('w2', `${system} load ${loadLabel(row.load)} ${p} ms`, field(row.latencyMs, p));
        break;
      case 'w3':
        for (const p of ['p50', 'p99']) push('w3', `${system} ${p} ms`, field(row.latencyMs, p));
        break;
      case 'w4':
        push('w4', `${system} p99 ms`, field(row.latencyMs, 'p99'));
        break;
      case 'w5':
        push('w5', `${row.keys} keys decisions/s`, field(row.decisionsPerSecond, 'median'));
        push('w5', `${row.keys} keys admitted/theoretical`, field(row.admittedRatio, 'median'));
        break;
      case 'w6':
        push('w6', 're-lease ms', row.medianLastReleaseMs);
        push('w6', 'duplicate successes', row.duplicateSuccesses);
        break;
      case 'control-plane': {
        push('control-plane', 'plan 10k-job DAG ms', field(row.planning, 'planMs'));
        push('control-plane', 'submit 10k-job DAG ms', field(row.planning, 'submitMs'));
        const rest = field(row, 'rest');
        for (const route of Object.keys((rest as Record<string, unknown>) ?? {})) {
          push('control-plane', `${route} requests/s`, field(field(rest, route), 'requestsPerSecond'));
          push('control-plane', `${route} p99 ms`, field(field(rest, route), 'p99'));
        }
        push('control-plane', 'WebSocket fan-out p99 ms', field(row.wsFanout, 'p99'));
        break;
      }
    }
  }
  return out;
}

export interface Comparison extends Headline {
  second: number;
  /** second ÷ first; 1 when both are zero (duplicate successes). */
  ratio: number;
  within: boolean;
}

/** Pairs the numbers both runs have and checks each against the tolerance (0.2 = ±20%). */
export function compareHeadlines(first: Headline[], second: Headline[], tolerance: number): Comparison[] {
  const later = new Map(second.map((h) => [`${h.workload}/${h.metric}`, h.value]));
  const out: Comparison[] = [];
  for (const h of first) {
    const b = later.get(`${h.workload}/${h.metric}`);
    if (b === undefined) continue;
    const ratio = h.value === 0 && b === 0 ? 1 : b / h.value;
    out.push({ ...h, second: b, ratio, within: Math.abs(ratio - 1) <= tolerance });
  }
  return out;
}
