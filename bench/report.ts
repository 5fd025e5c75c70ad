import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import type { MachineDescription } from './machine.ts';
import type { Profile } from './profile.ts';

/** One workload's part of the report: what was run and its table of medians. */
export interface Section {
  id: string;
  title: string;
  /** Settings of this workload, one line each. */
  settings: string[];
  /** Markdown table lines (header, separator, rows). */
  table: string[];
  notes: string[];
  seconds?: number;
}

/**
 * Writes a suite run's JSON lines as they are measured (so a crash keeps what was done) and the markdown
 * report at the end, both named by the run's start time: bench/results/<YYYY-MM-DDTHHMM>-suite.jsonl and
 * -report.md.
 */
export class Recorder {
  readonly runId = new Date().toISOString();
  readonly stamp = `${this.runId.slice(0, 10)}T${this.runId.slice(11, 16).replace(':', '')}`;
  readonly jsonlPath: string;

  constructor(private readonly directory: URL) {
    mkdirSync(directory, { recursive: true });
    this.jsonlPath = new URL(`${this.stamp}-suite.jsonl`, directory).pathname;
  }

  record(line: Record<string, unknown>): void {
    appendFileSync(this.jsonlPath, `${JSON.stringify({ runId: this.runId, ...line })}\n`);
  }

  writeReport(run: {
    command: string;
    machine: MachineDescription;
    profile: Profile;
    sections: Section[];
    embedded: boolean;
  }): { path: string; markdown: string } {
    const { machine } = run;
    const lines = [
      `# Benchmark report ${this.runId.slice(0, 16).replace('T', ' ')} UTC`,
      '',
      '```sh',
      run.command,
      '```',
      '',
      `- Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; 1-min load average ${machine.loadAverage.toFixed(2)} at start`,
      `- PostgreSQL: ${machine.postgres.split(' on ')[0]} (${run.embedded ? 'embedded, started for the run' : 'the server at DATABASE_URL'}), default settings; every system in a fresh database per repetition`,
      `- Node ${machine.node}; ${Object.entries(machine.packages)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ')}; JobEngine commit ${machine.commit ?? 'unknown'}`,
      `- Profile \`${run.profile.name}\`: ${run.profile.reps} repetitions per cell, tables show medians (min-max where given)`,
      `- Raw results: \`${this.stamp}-suite.jsonl\` (one \`machine\` line, \`run\` lines per repetition, \`summary\` lines per table row)`,
      '',
    ];
    for (const section of run.sections) {
      lines.push(`## ${section.title}`, '');
      for (const setting of section.settings) lines.push(`- ${setting}`);
      if (section.seconds !== undefined) lines.push(`- Wall time: ${Math.round(section.seconds)} s`);
      lines.push('');
      if (section.table.length) lines.push(...section.table, '');
      for (const note of section.notes) lines.push(note, '');
    }
    const markdown = `${lines.join('\n').trimEnd()}\n`;
    const path = new URL(`${this.stamp}-report.md`, this.directory).pathname;
    writeFileSync(path, markdown);
    return { path, markdown };
  }
}

/** Thousands separators, no decimals: 12,345. */
export const rate = (value: number) => Math.round(value).toLocaleString('en-US');
/** Milliseconds with one decimal below 100. */
export const ms = (value: number) =>
  value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
/** A ratio like 0.42×. */
export const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}×`;
