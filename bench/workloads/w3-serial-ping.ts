import { withScratchDatabase } from '../harness.ts';
import { ms, ratio, type Section } from '../report.ts';
import { type LatencySummary, medianSummary, summarizeLatencies } from '../stats.ts';
import type { SuiteContext } from '../suite.ts';

/**
 * W3 serial ping: one worker, one job at a time: enqueue a job, wait until the worker's claim returns it,
 * then enqueue the next. Measures the idle path (wake-up or poll, claim round trip) without queueing.
 */
export async function w3SerialPing(context: SuiteContext): Promise<Section> {
  const { profile, systems } = context;
  const { samples } = profile.w3;
  const results = new Map<string, LatencySummary | string>();
  for (const system of systems) {
    const perRep: LatencySummary[] = [];
    try {
      for (let rep = 1; rep <= profile.reps; rep++) {
        const latencies = await withScratchDatabase(context.adminUrl, system.name, async (databaseUrl) => {
          const instance = await system.open(databaseUrl);
          const seen = new Map<string, number>();
          const waiting = new Map<string, (at: number) => void>();
          const listener = await instance.startListener(1, (ids) => {
            const at = performance.now();
            for (const id of ids) {
              const resolve = waiting.get(id);
              if (resolve) resolve(at);
              else seen.set(id, at);
            }
          });
          try {
            const measured: number[] = [];
            for (let i = 0; i < samples; i++) {
              const sent = performance.now();
              const [id] = await instance.enqueue(1);
              const leased =
                seen.get(id!) ??
                (await new Promise<number>((resolve, reject) => {
                  const timer = setTimeout(
                    () => reject(new Error(`job ${id} not claimed within 10 s`)),
                    10_000,
                  );
                  waiting.set(id!, (at) => {
                    clearTimeout(timer);
                    resolve(at);
                  });
                }));
              waiting.delete(id!);
              measured.push(leased - sent);
            }
            return measured;
          } finally {
            await listener.stop();
            await instance.close();
          }
        });
        const summary = summarizeLatencies(latencies);
        perRep.push(summary);
        context.record({
          kind: 'run',
          workload: 'w3',
          system: system.name,
          rep,
          samples,
          latencyMs: summary,
        });
        context.log(`w3 ${system.name} rep ${rep}: p50 ${ms(summary.p50)} p99 ${ms(summary.p99)} ms`);
      }
      const summary = medianSummary(perRep);
      results.set(system.name, summary);
      context.record({ kind: 'summary', workload: 'w3', system: system.name, samples, latencyMs: summary });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results.set(system.name, `failed: ${message}`);
      context.record({ kind: 'summary', workload: 'w3', system: system.name, error: message });
    }
  }
  const ours = results.get('jobengine');
  const table = [
    '| system | p50 ms | p95 ms | p99 ms | max ms | mean ms | p50 jobengine / system |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const system of systems) {
    const s = results.get(system.name);
    if (typeof s !== 'object') {
      table.push(`| ${system.name} | ${s} | | | | | |`);
      continue;
    }
    const vs = typeof ours === 'object' && system.name !== 'jobengine' ? ratio(ours.p50, s.p50) : '';
    table.push(
      `| ${system.name} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${ms(s.mean)} | ${vs} |`,
    );
  }
  return {
    id: 'w3',
    title: 'W3 serial ping: one job at a time',
    settings: [
      `${samples.toLocaleString('en-US')} samples per repetition, one worker claiming one job at a time; latency = enqueue call start → the worker's claim returning the job`,
      'Idle waits as in W2: jobengine and pg-boss poll every 10 ms, graphile-worker is woken by LISTEN/NOTIFY',
    ],
    table,
    notes: [],
  };
}
