import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres } from '../local/embedded-postgres.ts';
import { freePort } from '../test/support/ports.ts';
import type { BenchSystem } from './harness.ts';
import { describeMachine } from './machine.ts';
import { type Profile, profileFor } from './profile.ts';
import { Recorder, type Section } from './report.ts';
import { controlPlane } from './workloads/control-plane.ts';
import { w1BurnDown } from './workloads/w1-burn-down.ts';
import { w2OpenLoop } from './workloads/w2-open-loop.ts';
import { w3SerialPing } from './workloads/w3-serial-ping.ts';
import { w4BloatSoak } from './workloads/w4-bloat-soak.ts';
import { w5RateLimiter } from './workloads/w5-rate-limiter.ts';
import { w6Crash } from './workloads/w6-crash.ts';

/**
 * The side-by-side benchmark suite (docs/benchmarks.md):
 *
 *   npx tsx bench/suite.ts [all|w1,w2,w3,w4,w5,w6,control-plane] [--quick] [--long] [--reps 3]
 *     [--systems jobengine,graphile-worker,pg-boss] [--jobs N] [--jobs-batch1 N] [--duration S]
 *
 * `all` runs W1-W3, W5, W6 and the control plane; W4 (the bloat soak) only with `--long` or when named.
 * DATABASE_URL is the admin connection of the PostgreSQL server (it must be allowed to create and drop
 * databases); unset, an embedded PostgreSQL is started for the run. Every system runs in a fresh
 * database per repetition. Results: JSON lines in bench/results/<stamp>-suite.jsonl and a markdown report
 * bench/results/<stamp>-report.md (also printed).
 */
export interface SuiteContext {
  adminUrl: string;
  profile: Profile;
  systems: BenchSystem[];
  record(line: Record<string, unknown>): void;
  log(message: string): void;
  /** jobs/s each system sustained in W1 at the W2 shape (workers × batch), filled by W1 when it ran. */
  capacity: Map<string, number>;
}

export type Workload = (context: SuiteContext) => Promise<Section>;

const WORKLOADS: Record<string, Workload> = {
  w1: w1BurnDown,
  w2: w2OpenLoop,
  w3: w3SerialPing,
  w4: w4BloatSoak,
  w5: w5RateLimiter,
  w6: w6Crash,
  'control-plane': controlPlane,
};

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    long: { type: 'boolean', default: false },
    reps: { type: 'string' },
    systems: { type: 'string', default: 'jobengine,graphile-worker,pg-boss' },
    jobs: { type: 'string' },
    'jobs-batch1': { type: 'string' },
    workers: { type: 'string' },
    batches: { type: 'string' },
    duration: { type: 'string' },
  },
  strict: true,
});

const requested = (positionals.length ? positionals.join(',') : 'all').split(',').map((name) => name.trim());
const names = requested.flatMap((name) =>
  name === 'all' ? ['w1', 'w2', 'w3', ...(args.long ? ['w4'] : []), 'w5', 'w6', 'control-plane'] : [name],
);
for (const name of names) if (!WORKLOADS[name]) throw new Error(`unknown workload '${name}'`);

const profile = profileFor({
  quick: args.quick,
  reps: args.reps,
  jobs: args.jobs,
  jobsBatch1: args['jobs-batch1'],
  workers: args.workers,
  batches: args.batches,
  duration: args.duration,
});
const systems: BenchSystem[] = [];
for (const name of args.systems.split(',').map((system) => system.trim())) {
  const module = (await import(new URL(`./systems/${name}.ts`, import.meta.url).href)) as {
    benchSystem: BenchSystem;
  };
  systems.push(module.benchSystem);
}

const server = await postgresServer();
const command = `npx tsx bench/suite.ts ${process.argv.slice(2).join(' ')}`.trim();
const recorder = new Recorder(new URL('./results/', import.meta.url));
let failed = false;
try {
  const machine = await describeMachine(server.adminUrl, ['pg', 'graphile-worker', 'pg-boss', 'autocannon']);
  recorder.record({
    kind: 'machine',
    command,
    workloads: names,
    profile,
    postgresSource: server.embedded ? 'embedded' : 'DATABASE_URL',
    systems: Object.fromEntries(systems.map((system) => [system.name, system.version])),
    ...machine,
  });
  const context: SuiteContext = {
    adminUrl: server.adminUrl,
    profile,
    systems,
    record: (line) => recorder.record(line),
    log: (message) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`),
    capacity: new Map(),
  };
  const sections: Section[] = [];
  for (const name of names) {
    const started = performance.now();
    context.log(`${name}: starting`);
    try {
      const section = await WORKLOADS[name]!(context);
      section.seconds = (performance.now() - started) / 1000;
      sections.push(section);
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      context.log(`${name}: FAILED ${message}`);
      recorder.record({ kind: 'failure', workload: name, error: message });
      sections.push({
        id: name,
        title: `${name}: failed`,
        settings: [],
        table: [],
        notes: [`Failed: ${message}`],
      });
    }
    context.log(`${name}: done in ${Math.round((performance.now() - started) / 1000)} s`);
    // Rewritten after every workload, so an interrupted run still leaves a report of what it measured.
    recorder.writeReport({ command, machine, profile, sections, embedded: server.embedded });
  }
  const report = recorder.writeReport({ command, machine, profile, sections, embedded: server.embedded });
  console.log(report.markdown);
  console.error(`results: ${recorder.jsonlPath}\nreport: ${report.path}`);
} finally {
  await server.stop();
}
if (failed) process.exitCode = 1;

async function postgresServer(): Promise<{ adminUrl: string; embedded: boolean; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) {
    return { adminUrl: process.env.DATABASE_URL, embedded: false, stop: async () => undefined };
  }
  console.error('DATABASE_URL unset: starting an embedded PostgreSQL for the run');
  const dataDir = await mkdtemp(join(tmpdir(), 'jobengine-bench-'));
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
  return {
    adminUrl: postgres.adminUrl,
    embedded: true,
    async stop() {
      await postgres.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
