import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import pg from 'pg';
import { packageVersion } from './package-version.ts';

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  /** 1-minute load average when the benchmark started: other work on the machine skews the numbers. */
  loadAverage: number;
  postgres: string;
  node: string;
  packages: Record<string, string>;
  /** Commit of the working tree measured, with `+dirty` when it has uncommitted changes. */
  commit: string | null;
}

/** What the numbers were measured on, recorded next to them so they can be compared later. */
export async function describeMachine(
  adminUrl: string,
  packages: readonly string[],
): Promise<MachineDescription> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'bench-machine' });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string }>('select version() as version');
    const processors = cpus();
    return {
      cpuModel: processors[0]?.model.trim() ?? 'unknown',
      cores: processors.length,
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      loadAverage: loadavg()[0]!,
      postgres: rows[0]!.version,
      node: process.version,
      packages: Object.fromEntries(packages.map((name) => [name, packageVersion(name)])),
      commit: gitCommit(),
    };
  } finally {
    await client.end();
  }
}

function gitCommit(): string | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain') ? '+dirty' : '');
  } catch {
    return null;
  }
}
