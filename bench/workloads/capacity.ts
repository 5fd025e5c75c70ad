import { readdirSync, readFileSync } from 'node:fs';

/**
 * The newest W1 median per system at the given workers × batch, from bench/results/*-suite.jsonl: the
 * capacity W2 and W4 load against when W1 did not run in the same invocation.
 */
export function latestCapacity(
  workers: number,
  batchSize: number,
): Map<string, { jobsPerSecond: number; runId: string }> {
  const directory = new URL('../results/', import.meta.url);
  const found = new Map<string, { jobsPerSecond: number; runId: string }>();
  let files: string[] = [];
  try {
    files = readdirSync(directory).filter((name) => name.endsWith('-suite.jsonl'));
  } catch {
    return found;
  }
  for (const file of files.sort()) {
    for (const line of readFileSync(new URL(file, directory), 'utf8').split('\n')) {
      if (!line.includes('"workload":"w1"') || !line.includes('"kind":"summary"')) continue;
      const row = JSON.parse(line) as {
        runId: string;
        system: string;
        workers: number;
        batchSize: number;
        jobsPerSecond: { median: number } | null;
      };
      if (row.workers !== workers || row.batchSize !== batchSize || !row.jobsPerSecond) continue;
      const previous = found.get(row.system);
      if (!previous || previous.runId <= row.runId) {
        found.set(row.system, { jobsPerSecond: row.jobsPerSecond.median, runId: row.runId });
      }
    }
  }
  return found;
}
