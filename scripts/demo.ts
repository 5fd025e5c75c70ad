import { setTimeout as delay } from 'node:timers/promises';
import { JobEngineClient, type Logger, Worker } from '../sdk/worker/src/index.ts';
import { ApiError, ControlPlane, type DeadLetterStats, type Source } from './demo/api.ts';
import { buildRuns, DEMO_SOURCE, SHARDS } from './demo/feed.ts';
import { createHandlers, type InjectedFailure } from './demo/handlers.ts';
import { type DemoOptions, parseOptions, USAGE, UsageError } from './demo/options.ts';
import {
  ChangeLog,
  countJobs,
  isTerminalRun,
  LiveScreen,
  renderLive,
  renderSummary,
  runDurationMs,
  Style,
  type TrackedRun,
  type WorkerSnapshot,
} from './demo/view.ts';

/**
 * `npm run demo`: a guided tour of JobEngine against a running `npm start`.
 *
 * 1. ensures a source `nvd-demo` exists, so jobs carry a sourceId;
 * 2. submits N advisory-ingestion runs (fetch-feed → parse → normalize-0..3 → merge → export);
 * 3. works them with in-process SDK workers that simulate work, report progress, produce artifacts and
 *    inject failures (retryable upstream timeouts, the odd permanently malformed feed);
 * 4. polls each run's DAG and shows it live until every run is finished, then prints a summary.
 *
 * See docs/demo.md.
 */

const JOB_TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'dead_lettered']);
/** A finished run whose jobs are not all terminal yet is watched this much longer for a final picture. */
const SETTLE_MS = 3_000;

const startedAt = Date.now();
let options: DemoOptions | undefined;
try {
  options = parseOptions(process.argv.slice(2), process.env, process.stdout.isTTY === true);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  if (!error.message.includes('JOBENGINE_TOKEN')) console.error('\nRun with --help for the options.');
  process.exit(2);
}
if (!options) {
  console.log(USAGE);
  process.exit(0);
}
process.exitCode = await main(options);

async function main(opts: DemoOptions): Promise<number> {
  const style = new Style(opts.color);
  const say = (line = '') => {
    if (!opts.json) console.log(line);
  };
  const api = new ControlPlane({ baseUrl: opts.url, token: opts.token, tenant: opts.tenant });
  const screen = opts.live ? new LiveScreen(process.stdout) : undefined;
  const failures: InjectedFailure[] = [];
  const lastFailure = new Map<string, InjectedFailure>();
  const changes = new ChangeLog(
    (line) => say(line),
    style,
    (jobId) => lastFailure.get(jobId),
  );
  const workerLog = collectingLogger();
  const { handlers, injected } = createHandlers({
    failureRate: opts.failureRate,
    onFailure: (failure) => {
      failures.push(failure);
      lastFailure.set(failure.jobId, failure);
    },
  });
  const workers: Worker[] = [];
  const tracked: TrackedRun[] = [];
  let source: Source | undefined;

  const interrupted = new AbortController();
  const onSignal = () => {
    if (interrupted.signal.aborted) process.exit(130); // second Ctrl-C: no more waiting
    interrupted.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (screen) process.once('exit', () => screen.showCursor());

  const workerSnapshots = (): WorkerSnapshot[] =>
    workers.map((worker, i) => ({ workerId: workerId(i), stats: worker.stats() }));
  const stopWorkers = async (timeoutMs: number) => {
    await Promise.all(workers.map((worker) => worker.stop({ graceful: true, timeoutMs })));
  };

  try {
    // 1. the control plane is there, the token works, the source exists.
    await api.ready().catch((error: unknown) => {
      if (error instanceof ApiError && error.status === undefined) {
        throw new ApiError(
          error.code,
          `${error.message}. Is the control plane running? Start it with \`npm start\` (it prints the URL and a token).`,
          undefined,
          undefined,
          error.route,
        );
      }
      throw error;
    });
    const ensured = await api.ensureSource(DEMO_SOURCE);
    source = ensured.source;
    say(
      `${style.paint('JobEngine demo', 'bold')} · ${opts.url} · tenant ${style.paint(opts.tenant, 'bold')} · ` +
        `source ${source.name} ${style.paint(source.id, 'gray')} (${ensured.created ? 'created' : 'reused'})`,
    );
    if (!source.enabled || source.paused || source.circuit.state !== 'closed') {
      say(
        style.paint(
          `  note: the source is ${[!source.enabled && 'disabled', source.paused && `paused (${source.pauseReason ?? 'no reason'})`, source.circuit.state !== 'closed' && `circuit ${source.circuit.state}`].filter(Boolean).join(', ')}: its jobs may wait`,
          'yellow',
        ),
      );
    }

    // 2. workers first, so the first jobs are leased as soon as they are planned.
    const client = new JobEngineClient({
      baseUrl: opts.url,
      token: opts.token,
      tenant: opts.tenant,
      retry: { maxAttempts: 5, baseMs: 100, capMs: 2_000 },
      timeoutMs: 10_000,
    });
    for (let i = 0; i < opts.workers; i++) {
      workers.push(
        new Worker({
          client,
          workerId: workerId(i),
          handlers,
          concurrency: opts.concurrency,
          leaseSeconds: 30,
          // Children become ready the moment a parent completes: keep the idle poll short for the show.
          pollIntervalMs: 100,
          maxPollIntervalMs: 1_000,
          logger: workerLog.logger,
        }).start(),
      );
    }
    say(
      `${opts.workers} SDK worker${opts.workers === 1 ? '' : 's'} × concurrency ${opts.concurrency}, ` +
        `failure rate ${opts.failureRate} per attempt · submitting ${opts.runs} run${opts.runs === 1 ? '' : 's'} ` +
        `of ${SHARDS + 4} jobs`,
    );
    say();

    // 3. submit the runs.
    for (const [i, body] of buildRuns(opts.runs, source.id, new Date()).entries()) {
      const run = await api.submitRun(body);
      const window = body.labels?.window?.split('/') ?? [];
      tracked.push({
        index: i + 1,
        id: run.id,
        window: `${window[0]?.slice(11, 16) ?? '?'}–${window[1]?.slice(11, 16) ?? '?'}Z`,
        submittedAt: Date.now(),
        endedAt: undefined,
        run,
        dag: undefined,
      });
    }

    // 4. watch until every run is finished.
    const header = style.paint(
      `runs in tenant ${opts.tenant} · polling GET /api/v1/runs/{id}/dag every ${opts.pollMs} ms`,
      'gray',
    );
    screen?.hideCursor();
    let timedOut = false;
    for (;;) {
      const now = Date.now();
      const watching = tracked.filter((t) => !settled(t, now));
      if (watching.length === 0) break;
      if (now - startedAt > opts.timeoutMs) {
        timedOut = true;
        break;
      }
      if (interrupted.signal.aborted) break;
      await Promise.all(
        watching.map(async (t) => {
          const dag = await api.dag(t.id);
          t.dag = dag;
          t.run = dag.run;
          if (isTerminalRun(dag.run.status)) t.endedAt ??= Date.now();
        }),
      );
      const snapshot = {
        elapsedMs: Date.now() - startedAt,
        runs: tracked,
        workers: workerSnapshots(),
        injected,
        failures,
      };
      if (screen) {
        const frame = { timeoutMs: opts.timeoutMs, rows: process.stdout.rows };
        screen.draw(renderLive(snapshot, header, style, frame));
      } else for (const t of tracked) changes.observe(t, snapshot.elapsedMs);
      await delay(opts.pollMs, undefined, { signal: interrupted.signal }).catch(() => {});
    }
    if (screen) {
      const elapsedMs = Date.now() - startedAt;
      const snapshot = { elapsedMs, runs: tracked, workers: workerSnapshots(), injected, failures };
      const frame = { timeoutMs: opts.timeoutMs, rows: process.stdout.rows, finished: !timedOut };
      if (!interrupted.signal.aborted) screen.draw(renderLive(snapshot, header, style, frame));
      screen.showCursor();
    }

    // 5. stop the workers (jobs of other runs they hold finish or are handed back), then the summary.
    await stopWorkers(interrupted.signal.aborted ? 3_000 : 10_000);
    const deadLetters = await api.deadLetterStats().catch(() => undefined);
    const workersAtEnd = workerSnapshots();
    const unfinished = tracked.filter((t) => !isTerminalRun(t.run.status));

    if (opts.json) {
      console.log(
        JSON.stringify(
          jsonReport(opts, source, tracked, workersAtEnd, injected, deadLetters, {
            timedOut,
            interrupted: interrupted.signal.aborted,
            workerLog: workerLog.entries,
            failures,
          }),
          null,
          2,
        ),
      );
    } else {
      say();
      for (const line of renderSummary(tracked, workersAtEnd, injected, deadLetters, style)) say(line);
      if (workerLog.entries.length > 0) {
        say();
        say(style.paint('  worker log (warnings and errors):', 'yellow'));
        for (const entry of workerLog.entries.slice(0, 10)) say(`    ${entry}`);
      }
      say();
      for (const line of nextSteps(opts, tracked, deadLetters)) say(line);
    }

    if (interrupted.signal.aborted) {
      console.error(
        `\ninterrupted: ${unfinished.length} run(s) still going on the server; ` +
          `cancel one with POST /api/v1/runs/{id}:cancel`,
      );
      return 130;
    }
    if (timedOut) {
      console.error(
        `\ntimed out after ${opts.timeoutMs / 1000}s: ${unfinished.length} run(s) not finished ` +
          `(${unfinished.map((t) => `${t.id} ${t.run.status}`).join(', ')}). Are other jobs or a throttle holding ` +
          `the queue? Look at GET /api/v1/jobs?run_id=<id>.`,
      );
      return 1;
    }
    return 0;
  } catch (error) {
    screen?.showCursor();
    await stopWorkers(3_000).catch(() => {});
    reportError(error, opts);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function workerId(index: number): string {
  return `demo-worker-${index + 1}.${process.pid}`;
}

/** A run is settled once it is terminal and its jobs are too (or have had SETTLE_MS to get there). */
function settled(t: TrackedRun, now: number): boolean {
  if (!isTerminalRun(t.run.status) || t.dag === undefined) return false;
  const jobsDone = t.dag.jobs.every((job) => JOB_TERMINAL.has(job.status));
  return jobsDone || now - (t.endedAt ?? now) > SETTLE_MS;
}

function collectingLogger(): { logger: Logger; entries: string[] } {
  const entries: string[] = [];
  const seen = new Map<string, number>();
  const record = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    const error = attributes?.error;
    const detail =
      error instanceof Error
        ? `: ${(error as Error & { code?: string }).code ?? error.name} ${error.message}`
        : attributes?.code
          ? `: ${String(attributes.code)}`
          : '';
    const line = `${level} ${message}${detail}`;
    const count = (seen.get(line) ?? 0) + 1;
    seen.set(line, count);
    if (count === 1 && entries.length < 100) entries.push(line);
  };
  const ignore = () => {};
  return { logger: { debug: ignore, info: ignore, warn: record('warn'), error: record('error') }, entries };
}

function nextSteps(
  opts: DemoOptions,
  tracked: TrackedRun[],
  deadLetters: DeadLetterStats | undefined,
): string[] {
  const curl = `curl -s -H "Authorization: Bearer $JOBENGINE_TOKEN" -H "X-Stella-Tenant: ${opts.tenant}" ${opts.url}`;
  const example = tracked.find((t) => t.run.status === 'failed') ?? tracked[0];
  const lines = ['  Where to look next:'];
  lines.push(`    ${curl}/api/v1/deadletter/stats`);
  if (deadLetters && deadLetters.counts.open > 0) {
    lines.push(`    ${curl}/api/v1/deadletter?status=open`);
    lines.push(
      '      replay one: POST /api/v1/deadletter/{id}:replay (a new job with replayOf; history is kept)',
    );
  }
  if (example) {
    lines.push(`    ${curl}/api/v1/runs/${example.id}/dag`);
    lines.push(`    ${curl}/api/v1/jobs?run_id=${example.id}`);
    lines.push('      each job: GET /api/v1/jobs/{id}/history (every transition, attempt and lease)');
  }
  lines.push(`    The Console shows the same runs, jobs and dead letters live: ${opts.url}/console/`);
  if (example) lines.push(`    From the CLI: npm run cli -- --tenant ${opts.tenant} runs dag ${example.id}`);
  return lines;
}

function jsonReport(
  opts: DemoOptions,
  source: Source,
  tracked: TrackedRun[],
  workers: WorkerSnapshot[],
  injected: ReturnType<typeof createHandlers>['injected'],
  deadLetters: DeadLetterStats | undefined,
  extra: { timedOut: boolean; interrupted: boolean; workerLog: string[]; failures: InjectedFailure[] },
) {
  return {
    ok: !extra.timedOut && !extra.interrupted,
    timedOut: extra.timedOut,
    interrupted: extra.interrupted,
    url: opts.url,
    tenant: opts.tenant,
    elapsedMs: Date.now() - startedAt,
    source: { id: source.id, name: source.name },
    runs: tracked.map((t) => {
      const counts = countJobs(t);
      return {
        id: t.id,
        status: t.run.status,
        window: t.run.labels.window ?? null,
        durationMs: runDurationMs(t, Date.now()),
        jobs: {
          total: counts.total,
          succeeded: counts.succeeded,
          failed: counts.failed,
          canceled: counts.canceled,
        },
        retries: counts.retries,
        deadLetters: counts.deadLetters,
        criticalPath: t.dag?.criticalPath ?? [],
        jobStates: Object.fromEntries(
          (t.dag?.jobs ?? []).map((job) => [job.key, { status: job.status, attempt: job.attempt }]),
        ),
      };
    }),
    workers: {
      count: opts.workers,
      concurrency: opts.concurrency,
      failureRate: opts.failureRate,
      injected,
      failures: extra.failures,
      perWorker: workers,
    },
    deadLetterStats: deadLetters ?? null,
    workerLog: extra.workerLog,
  };
}

function reportError(error: unknown, opts: DemoOptions): void {
  if (error instanceof ApiError) {
    if (opts.json) {
      console.log(JSON.stringify({ ok: false, error: { ...error.toJSON(), route: error.route } }, null, 2));
    }
    console.error(
      `\nerror: ${error.route} → ${error.status ?? 'no answer'} ${error.code}: ${error.message}` +
        (error.traceId ? `\n       trace_id ${error.traceId}` : ''),
    );
    if (error.status === 401) {
      console.error(
        '       The token was refused. `npm start` prints a development token for its data directory; ' +
          'copy the `export JOBENGINE_TOKEN=...` line it printed (tokens last 30 days).',
      );
    }
    if (error.status === 403)
      console.error('       The token does not grant this tenant or scope (--tenant).');
    return;
  }
  if (opts.json) {
    console.log(
      JSON.stringify({ ok: false, error: { code: 'DEMO_FAILED', message: String(error) } }, null, 2),
    );
  }
  console.error('\nerror:', error);
}
