import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type BenchSystem, type BurnDownResult, runBurnDown, type Spread, spreadOf } from './harness.ts';
import { describeMachine } from './machine.ts';

/**
 * W1 burn-down: lease + complete throughput of each system over a matrix of claim batch sizes.
 *
 *   npx tsx bench/lease-throughput.ts [--jobs 20000] [--workers 8] [--batches 1,10,100] [--reps 3]
 *     [--systems jobengine,graphile-worker,pg-boss] [--timeout 600] [--quotas]
 *
 * `--quotas` runs JobEngine with flow control active: its bench tenant gets a quota on the bench job type
 * (a token bucket and a weight) that never binds, so every lease reads the quota, locks a token shard and
 * spends tokens (docs/adr/0010-flow-control.md). Compare with the same command without it.
 *
 * DATABASE_URL is the admin connection used to create and drop one scratch database per run. Prints a
 * markdown table on stdout (progress on stderr) and appends JSON lines to
 * bench/results/<date>-lease-throughput.jsonl.
 */
const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    workers: { type: 'string', default: '8' },
    batches: { type: 'string', default: '1,10,100' },
    reps: { type: 'string', default: '3' },
    systems: { type: 'string', default: 'jobengine,graphile-worker,pg-boss' },
    timeout: { type: 'string', default: '600' },
    quotas: { type: 'boolean', default: false },
  },
  strict: true,
});

const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const jobs = positiveInteger('jobs', args.jobs);
const workers = positiveInteger('workers', args.workers);
const batchSizes = args.batches.split(',').map((batch) => positiveInteger('batches', batch));
const reps = positiveInteger('reps', args.reps);
const timeoutMs = positiveInteger('timeout', args.timeout) * 1000;
const systemNames = args.systems.split(',').map((name) => name.trim());
// Read by bench/systems/jobengine.ts when it preloads.
if (args.quotas) process.env.BENCH_JOBENGINE_QUOTAS = '1';

const systems: BenchSystem[] = [];
for (const name of systemNames) {
  const system = await loadSystem(name);
  if (system) systems.push(system);
}

const runId = new Date().toISOString();
const resultsDir = new URL('./results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const resultsFile = new URL(`${runId.slice(0, 10)}-lease-throughput.jsonl`, resultsDir);
const record = (line: Record<string, unknown>) =>
  appendFileSync(resultsFile, `${JSON.stringify({ runId, ...line })}\n`);

const machine = await describeMachine(adminUrl, ['pg', 'graphile-worker', 'pg-boss']);
record({
  kind: 'machine',
  command: `npx tsx bench/lease-throughput.ts ${process.argv.slice(2).join(' ')}`.trim(),
  options: { jobs, workers, batchSizes, reps, timeoutMs, quotas: args.quotas },
  systems: Object.fromEntries(systems.map((system) => [system.name, system.version])),
  ...machine,
});

interface Cell {
  system: string;
  batching: string;
  batchSize: number;
  jobsPerSecond: Spread | null;
  error: string | null;
}
const cells: Cell[] = [];

for (const system of systems) {
  for (const batchSize of batchSizes) {
    const batching = system.batching(batchSize);
    if (batching === null) {
      console.error(`${system.name}: cannot claim ${batchSize} jobs at a time, skipping that batch size`);
      continue;
    }
    const measured: BurnDownResult[] = [];
    let error: string | null = null;
    for (let rep = 1; rep <= reps && error === null; rep++) {
      try {
        const result = await runBurnDown(system, { adminUrl, jobs, workers, batchSize, timeoutMs });
        measured.push(result);
        record({ kind: 'run', system: system.name, batching, batchSize, workers, jobs, rep, ...result });
        console.error(
          `${system.name} batch ${batchSize} rep ${rep}/${reps}: ${Math.round(result.jobsPerSecond)} jobs/s ` +
            `(${Math.round(result.elapsedMs)} ms)`,
        );
      } catch (failure) {
        error = failure instanceof Error ? failure.message : String(failure);
        record({ kind: 'run', system: system.name, batching, batchSize, workers, jobs, rep, error });
        console.error(`${system.name} batch ${batchSize} rep ${rep}/${reps} FAILED: ${error}`);
      }
    }
    const jobsPerSecond = measured.length ? spreadOf(measured.map((run) => run.jobsPerSecond)) : null;
    cells.push({ system: system.name, batching, batchSize, jobsPerSecond, error });
    record({
      kind: 'summary',
      system: system.name,
      batching,
      batchSize,
      workers,
      jobs,
      reps,
      jobsPerSecond,
      error,
    });
  }
}

const rate = (value: number) => Math.round(value).toLocaleString('en-US');
console.log(
  `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, load ${machine.loadAverage.toFixed(2)} at start; ` +
    `${machine.postgres.split(' on ')[0]}; ` +
    `Node ${machine.node}; ${systems.map((system) => `${system.name} ${system.version}`).join(', ')}; ` +
    `median of ${reps}\n`,
);
console.log('| system | batching | batch size | workers | jobs | median jobs/s | min | max |');
console.log('|---|---|--:|--:|--:|--:|--:|--:|');
for (const cell of cells) {
  const numbers = cell.jobsPerSecond
    ? [rate(cell.jobsPerSecond.median), rate(cell.jobsPerSecond.min), rate(cell.jobsPerSecond.max)]
    : [`failed: ${cell.error}`, '', ''];
  console.log(
    `| ${cell.system} | ${cell.batching} | ${cell.batchSize} | ${workers} | ${jobs} | ${numbers.join(' | ')} |`,
  );
}
console.error(`results appended to ${resultsFile.pathname}`);
if (cells.some((cell) => cell.error !== null)) process.exitCode = 1;

async function loadSystem(name: string): Promise<BenchSystem | null> {
  const module = new URL(`./systems/${name}.ts`, import.meta.url);
  if (!existsSync(module)) {
    if (name === 'jobengine') {
      console.error('jobengine: bench/systems/jobengine.ts does not exist yet, skipping it');
      return null;
    }
    throw new Error(`unknown system '${name}': no bench/systems/${name}.ts`);
  }
  const { benchSystem } = (await import(module.href)) as { benchSystem?: BenchSystem };
  if (!benchSystem) throw new Error(`bench/systems/${name}.ts does not export benchSystem`);
  return benchSystem;
}

function positiveInteger(option: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${option} must be a positive integer, got '${text}'`);
  return value;
}
