import { readFileSync } from 'node:fs';

/**
 * Reproducibility check: compares the W1 medians of two suite runs cell by cell.
 *
 *   npx tsx bench/compare.ts bench/results/<first>-suite.jsonl bench/results/<second>-suite.jsonl [--tolerance 0.2]
 *
 * Prints a markdown table (second ÷ first per cell) and exits non-zero when a cell moved by more than the
 * tolerance.
 */
const [firstPath, secondPath, flag, value] = process.argv.slice(2);
if (!firstPath || !secondPath)
  throw new Error('usage: compare.ts <first.jsonl> <second.jsonl> [--tolerance 0.2]');
const tolerance = flag === '--tolerance' ? Number(value) : 0.2;

interface W1Summary {
  system: string;
  workers: number;
  batchSize: number;
  jobsPerSecond: { median: number } | null;
}

function w1Medians(path: string): Map<string, number> {
  const cells = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.includes('"workload":"w1"') || !line.includes('"kind":"summary"')) continue;
    const row = JSON.parse(line) as W1Summary;
    if (row.jobsPerSecond)
      cells.set(`${row.system} | ${row.workers} | ${row.batchSize}`, row.jobsPerSecond.median);
  }
  return cells;
}

const first = w1Medians(firstPath);
const second = w1Medians(secondPath);
const rate = (v: number) => Math.round(v).toLocaleString('en-US');
console.log(
  '| system | workers | batch | first jobs/s | second jobs/s | second ÷ first | within ±' +
    `${tolerance * 100}% |`,
);
console.log('|---|--:|--:|--:|--:|--:|:-:|');
let outside = 0;
let compared = 0;
for (const [cell, a] of first) {
  const b = second.get(cell);
  if (b === undefined) continue;
  compared++;
  const ratio = b / a;
  const ok = Math.abs(ratio - 1) <= tolerance;
  if (!ok) outside++;
  console.log(`| ${cell} | ${rate(a)} | ${rate(b)} | ${ratio.toFixed(2)} | ${ok ? 'yes' : '**no**'} |`);
}
console.log(`\n${compared - outside} of ${compared} cells within ±${tolerance * 100}%.\n`);

// On a shared machine the load moves every system alike; the jobengine / peer ratio of one run is the
// quantity the reports quote, so it is compared too.
const peers = [...new Set([...first.keys()].map((cell) => cell.split(' | ')[0]!))].filter(
  (name) => name !== 'jobengine',
);
console.log(
  `| workers | batch | peer | first jobengine / peer | second jobengine / peer | second ÷ first | within ±${tolerance * 100}% |`,
);
console.log('|--:|--:|---|--:|--:|--:|:-:|');
let ratiosOutside = 0;
let ratiosCompared = 0;
for (const cell of first.keys()) {
  const [system, workers, batch] = cell.split(' | ');
  if (system !== 'jobengine') continue;
  for (const peer of peers) {
    const key = (name: string) => `${name} | ${workers} | ${batch}`;
    const a = first.get(cell)! / (first.get(key(peer)) ?? Number.NaN);
    const b = (second.get(cell) ?? Number.NaN) / (second.get(key(peer)) ?? Number.NaN);
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    ratiosCompared++;
    const ok = Math.abs(b / a - 1) <= tolerance;
    if (!ok) ratiosOutside++;
    console.log(
      `| ${workers} | ${batch} | ${peer} | ${a.toFixed(2)}× | ${b.toFixed(2)}× | ${(b / a).toFixed(2)} | ${ok ? 'yes' : '**no**'} |`,
    );
  }
}
console.log(
  `\n${ratiosCompared - ratiosOutside} of ${ratiosCompared} jobengine / peer ratios within ±${tolerance * 100}%.`,
);
if (outside > 0) process.exitCode = 1;
