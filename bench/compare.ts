import { readFileSync } from 'node:fs';
import { compareHeadlines, type Headline, headlines } from './reproducibility.ts';

/**
 * Reproducibility check: compares the headline numbers of two suite runs (every workload's summary
 * table: W1 jobs/s, W2/W3 latency percentiles, W5, W6, control plane) one by one.
 *
 *   npx tsx bench/compare.ts bench/results/<first>-suite.jsonl bench/results/<second>-suite.jsonl [--tolerance 0.2]
 *
 * Prints markdown tables (second ÷ first per number, and the W1 jobengine / peer ratios) and exits
 * non-zero when any number moved by more than the tolerance.
 */
const [firstPath, secondPath, flag, value] = process.argv.slice(2);
if (!firstPath || !secondPath)
  throw new Error('usage: compare.ts <first.jsonl> <second.jsonl> [--tolerance 0.2]');
const tolerance = flag === '--tolerance' ? Number(value) : 0.2;
const percent = `±${Math.round(tolerance * 100)}%`;

const first = headlines(readFileSync(firstPath, 'utf8'));
const second = headlines(readFileSync(secondPath, 'utf8'));
const compared = compareHeadlines(first, second, tolerance);
const show = (v: number) =>
  Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString();

console.log(`| workload | number | first | second | second ÷ first | within ${percent} |`);
console.log('|---|---|--:|--:|--:|:-:|');
for (const c of compared) {
  console.log(
    `| ${c.workload} | ${c.metric} | ${show(c.value)} | ${show(c.second)} | ${c.ratio.toFixed(2)} | ${c.within ? 'yes' : '**no**'} |`,
  );
}
console.log('');
for (const workload of [...new Set(compared.map((c) => c.workload))]) {
  const rows = compared.filter((c) => c.workload === workload);
  console.log(`- ${workload}: ${rows.filter((c) => c.within).length} of ${rows.length} within ${percent}`);
}

// The jobengine / peer ratio of one run is what the reports quote, so it is compared too: a change in
// the machine's load moves every system alike.
const w1 = (runs: Headline[]) =>
  new Map(runs.filter((h) => h.workload === 'w1').map((h) => [h.metric, h.value]));
const [a, b] = [w1(first), w1(second)];
const peers = [...new Set([...a.keys()].map((metric) => metric.split(' ')[0]!))].filter(
  (name) => name !== 'jobengine',
);
console.log(
  `\n| W1 cell | peer | first jobengine / peer | second jobengine / peer | second ÷ first | within ${percent} |`,
);
console.log('|---|---|--:|--:|--:|:-:|');
let ratiosOutside = 0;
let ratiosCompared = 0;
for (const metric of a.keys()) {
  if (!metric.startsWith('jobengine ')) continue;
  const cell = metric.slice('jobengine '.length);
  for (const peer of peers) {
    const r1 = a.get(metric)! / (a.get(`${peer} ${cell}`) ?? Number.NaN);
    const r2 = (b.get(metric) ?? Number.NaN) / (b.get(`${peer} ${cell}`) ?? Number.NaN);
    if (!Number.isFinite(r1) || !Number.isFinite(r2)) continue;
    ratiosCompared++;
    const ok = Math.abs(r2 / r1 - 1) <= tolerance;
    if (!ok) ratiosOutside++;
    console.log(
      `| ${cell.replace(' jobs/s', '')} | ${peer} | ${r1.toFixed(2)}× | ${r2.toFixed(2)}× | ${(r2 / r1).toFixed(2)} | ${ok ? 'yes' : '**no**'} |`,
    );
  }
}
console.log(
  `\n${ratiosCompared - ratiosOutside} of ${ratiosCompared} jobengine / peer ratios within ${percent}.`,
);
const outside = compared.filter((c) => !c.within).length;
console.log(`${compared.length - outside} of ${compared.length} numbers within ${percent}.`);
if (outside > 0) process.exitCode = 1;
