import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { MemoryQueue } from '../../layers/core/src/adapters/in-process/memory-queue.ts';
import { Database } from '../../layers/core/src/adapters/postgres/database.ts';
import { migrateDatabase } from '../../layers/core/src/adapters/postgres/migrate.ts';
import { systemClock, uuidV7Ids } from '../../layers/core/src/adapters/system.ts';
import { CreateRunBody } from '../../layers/core/src/api/runs.ts';
import { CursorCodec } from '../../layers/core/src/domain/cursor.ts';
import { createServices } from '../../layers/core/src/runtime.ts';
import { openWs } from '../../test/e2e/stream-clients.ts';
import { startLocalRuntime } from '../../test/support/local-runtime.ts';
import { withScratchDatabase } from '../harness.ts';
import { ms, rate, type Section } from '../report.ts';
import { median, summarizeLatencies } from '../stats.ts';
import type { SuiteContext } from '../suite.ts';

const TENANT = 'bench';

/**
 * Control plane (JobEngine): planning a large DAG through the real planner path, REST throughput through
 * the local runtime (`local/main.ts` as a child process, as `npm start` runs it) with autocannon, and
 * WebSocket fan-out of events to many subscribers.
 */
export async function controlPlane(context: SuiteContext): Promise<Section> {
  const { profile } = context;
  const settings = profile.controlPlane;
  const rows: string[] = [];
  const planning = { submit: [] as number[], plan: [] as number[] };
  const rest = new Map<string, { rps: number[]; p99: number[]; p50: number[]; errors: number }>();
  const ws = { p50: [] as number[], p99: [] as number[], max: [] as number[], delivered: 0, expected: 0 };

  for (let rep = 1; rep <= profile.reps; rep++) {
    const plan = await withScratchDatabase(context.adminUrl, 'jobengine_plan', (url) =>
      planDag(url, settings.dagJobs),
    );
    planning.submit.push(plan.submitMs);
    planning.plan.push(plan.planMs);
    context.record({ kind: 'run', workload: 'control-plane', part: 'plan', rep, ...plan });
    context.log(
      `plan ${settings.dagJobs} jobs rep ${rep}: submit ${ms(plan.submitMs)} ms, plan ${ms(plan.planMs)} ms`,
    );

    await withScratchDatabase(context.adminUrl, 'jobengine_cp', async (url) => {
      await migrateDatabase(url);
      const runtime = await startLocalRuntime(url);
      try {
        const token = await runtime.token({ tenants: [TENANT], expiresIn: '2h' });
        const headers = {
          authorization: `Bearer ${token}`,
          'x-stella-tenant': TENANT,
          'content-type': 'application/json',
        };
        const created = await fetch(`${runtime.url}/api/v1/jobs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ type: 'bench.noop', payload: { n: 1 } }),
        });
        if (created.status !== 201) throw new Error(`POST /jobs: ${created.status} ${await created.text()}`);
        const job = (await created.json()) as { id: string };
        const targets = [
          {
            name: 'GET /api/v1/jobs/{id}',
            method: 'GET' as const,
            path: `/api/v1/jobs/${job.id}`,
            body: undefined,
          },
          {
            name: 'POST /api/v1/jobs',
            method: 'POST' as const,
            path: '/api/v1/jobs',
            body: JSON.stringify({ type: 'bench.noop', payload: { n: 1 } }),
          },
        ];
        for (const target of targets) {
          // Warm-up, not recorded: the runtime loads each handler module on its first request.
          await autocannon({
            url: runtime.url,
            connections: 4,
            duration: 2,
            requests: [
              {
                method: target.method,
                path: target.path,
                headers,
                ...(target.body ? { body: target.body } : {}),
                setupRequest: (request) => ({
                  ...request,
                  headers: {
                    ...request.headers,
                    ...(target.body ? { 'idempotency-key': randomUUID() } : {}),
                  },
                }),
              },
            ],
          });
          const result = await autocannon({
            url: runtime.url,
            connections: settings.restConnections,
            duration: settings.restSeconds,
            requests: [
              {
                method: target.method,
                path: target.path,
                headers,
                ...(target.body ? { body: target.body } : {}),
                // Every POST carries its own Idempotency-Key, as clients send them.
                setupRequest: (request) => ({
                  ...request,
                  headers: {
                    ...request.headers,
                    ...(target.body ? { 'idempotency-key': randomUUID() } : {}),
                  },
                }),
              },
            ],
          });
          const errors = result.non2xx + result.errors + result.timeouts;
          const cell = rest.get(target.name) ?? { rps: [], p99: [], p50: [], errors: 0 };
          cell.rps.push(result.requests.average);
          cell.p99.push(result.latency.p99);
          cell.p50.push(result.latency.p50);
          cell.errors += errors;
          rest.set(target.name, cell);
          context.record({
            kind: 'run',
            workload: 'control-plane',
            part: 'rest',
            endpoint: target.name,
            rep,
            requestsPerSecond: result.requests.average,
            latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
            non2xx: result.non2xx,
            errors: result.errors,
            timeouts: result.timeouts,
          });
          context.log(
            `rest ${target.name} rep ${rep}: ${rate(result.requests.average)} req/s, p99 ${result.latency.p99} ms, ${errors} errors`,
          );
        }
        const fanout = await fanOut(runtime.url, runtime.wsUrl, token, settings);
        ws.p50.push(fanout.p50);
        ws.p99.push(fanout.p99);
        ws.max.push(fanout.max);
        ws.delivered += fanout.delivered;
        ws.expected += fanout.expected;
        context.record({ kind: 'run', workload: 'control-plane', part: 'ws-fanout', rep, ...fanout });
        context.log(
          `ws fan-out rep ${rep}: ${fanout.delivered}/${fanout.expected} delivered, p50 ${fanout.p50} p99 ${fanout.p99} ms`,
        );
      } finally {
        await runtime.stop();
      }
    });
  }

  rows.push('| measurement | median | spread (min-max) |', '|---|--:|--:|');
  const spread = (values: number[], format: (v: number) => string) =>
    `${format(Math.min(...values))}-${format(Math.max(...values))}`;
  rows.push(
    `| plan ${rate(settings.dagJobs)}-job DAG: submit (validate + record) ms | ${ms(median(planning.submit))} | ${spread(planning.submit, ms)} |`,
  );
  rows.push(
    `| plan ${rate(settings.dagJobs)}-job DAG: planner (expand into jobs and edges) ms | ${ms(median(planning.plan))} | ${spread(planning.plan, ms)} |`,
  );
  for (const [name, cell] of rest) {
    rows.push(`| ${name}: requests/s | ${rate(median(cell.rps))} | ${spread(cell.rps, rate)} |`);
    rows.push(
      `| ${name}: p50 / p99 ms | ${median(cell.p50)} / ${median(cell.p99)} | p99 ${spread(cell.p99, String)} |`,
    );
  }
  rows.push(
    `| WebSocket fan-out to ${rate(settings.wsSubscribers)}: delivery p50 / p99 ms | ${median(ws.p50)} / ${median(ws.p99)} | p99 ${spread(ws.p99, String)} |`,
  );
  rows.push(
    `| WebSocket fan-out: events delivered | ${ws.delivered.toLocaleString('en-US')} / ${ws.expected.toLocaleString('en-US')} | |`,
  );
  context.record({
    kind: 'summary',
    workload: 'control-plane',
    planning: { submitMs: median(planning.submit), planMs: median(planning.plan), jobs: settings.dagJobs },
    rest: Object.fromEntries(
      [...rest].map(([name, cell]) => [
        name,
        {
          requestsPerSecond: median(cell.rps),
          p50: median(cell.p50),
          p99: median(cell.p99),
          errors: cell.errors,
        },
      ]),
    ),
    wsFanout: {
      subscribers: settings.wsSubscribers,
      p50: median(ws.p50),
      p99: median(ws.p99),
      delivered: ws.delivered,
      expected: ws.expected,
    },
  });
  const restErrors = [...rest].filter(([, cell]) => cell.errors > 0);
  return {
    id: 'control-plane',
    title: 'Control plane: planner, REST, WebSocket fan-out',
    settings: [
      `Planner: a ${rate(settings.dagJobs)}-job DAG (layers of 100 jobs, each job depending on 2 jobs of the layer above, ${rate(2 * (settings.dagJobs - 100))} edges) through RunsService.submit (validation, cycle check, record) then RunsService.plan (the planner: jobs, edges, topological order, critical path) in a fresh database`,
      `REST: autocannon ${settings.restConnections} connections × ${settings.restSeconds} s per endpoint (after a 2 s warm-up) against local/main.ts (child process, INFO logging, as \`npm start\`), JWT auth and tenant header on every request, a fresh Idempotency-Key on every POST`,
      `WebSocket: ${rate(settings.wsSubscribers)} subscribers (one connection each) to source.created; ${settings.wsEvents} events written over REST at ${settings.wsRate}/s; delivery latency = receive time − the event's occurredAt (same clock, ms precision)`,
    ],
    table: rows,
    notes: restErrors.length
      ? [
          `Non-2xx responses or errors: ${restErrors.map(([name, cell]) => `${name} ${cell.errors}`).join(', ')}.`,
        ]
      : [],
  };
}

/** A layered DAG: `jobs` jobs in layers of 100, each job after two of the layer above. */
function layeredDag(jobs: number) {
  const width = 100;
  const key = (index: number) => `j${index}`;
  return CreateRunBody.parse({
    jobs: Array.from({ length: jobs }, (_, index) => {
      const layer = Math.floor(index / width);
      const column = index % width;
      const above = (layer - 1) * width;
      return {
        key: key(index),
        type: 'bench.step',
        payload: { index },
        dependsOn: layer === 0 ? [] : [key(above + column), key(above + ((column + 1) % width))],
      };
    }),
  });
}

async function planDag(databaseUrl: string, jobs: number) {
  await migrateDatabase(databaseUrl);
  const db = Database.connect(databaseUrl, {
    appRole: 'jobengine_app',
    systemRole: 'jobengine_system',
    max: 2,
    statementTimeoutMs: 300_000,
  });
  try {
    const services = createServices({
      db,
      clock: systemClock,
      ids: uuidV7Ids,
      cursors: new CursorCodec('bench-plan-cursor-secret'),
      planQueue: new MemoryQueue(),
    });
    const input = layeredDag(jobs);
    const call = {
      tenantId: TENANT,
      projectId: null,
      correlationId: 'bench-plan',
      actor: { subject: 'bench', scopes: ['orch:operate'] },
    };
    const t0 = performance.now();
    const run = await services.runs.submit(call, input);
    const t1 = performance.now();
    const outcome = await services.runs.plan(TENANT, run.id);
    const t2 = performance.now();
    if (outcome !== 'planned') throw new Error(`planner answered ${outcome}`);
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM jobs WHERE run_id = $1',
      [run.id],
    );
    if (rows[0]!.n !== jobs) throw new Error(`planned ${rows[0]!.n} jobs, expected ${jobs}`);
    return { jobs, submitMs: t1 - t0, planMs: t2 - t1 };
  } finally {
    await db.close();
  }
}

async function fanOut(
  baseUrl: string,
  wsUrl: string,
  token: string,
  settings: { wsSubscribers: number; wsEvents: number; wsRate: number },
) {
  const samples: number[] = [];
  const clients = [];
  for (let i = 0; i < settings.wsSubscribers; i += 50) {
    clients.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, settings.wsSubscribers - i) }, async () => {
          const client = await openWs(wsUrl, {
            token,
            tenant: TENANT,
            onItem: (item) => samples.push(Date.now() - Date.parse(String(item.event?.occurredAt))),
          });
          await client.request(
            { action: 'subscribe', filters: { eventTypes: ['source.created'] } },
            'subscribed',
          );
          return client;
        }),
      )),
    );
  }
  try {
    const started = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < settings.wsEvents; i++) {
      const wait = started + (i * 1000) / settings.wsRate - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(
        fetch(`${baseUrl}/api/v1/sources`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'x-stella-tenant': TENANT,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            name: `fanout-${i}-${randomUUID()}`,
            type: 'advisory-feed',
            upstreamHost: 'feeds.example',
            config: {},
          }),
        }).then(async (response) => {
          if (response.status !== 201)
            throw new Error(`create source: ${response.status} ${await response.text()}`);
        }),
      );
    }
    await Promise.all(pending);
    const expected = settings.wsEvents * settings.wsSubscribers;
    const deadline = performance.now() + 30_000;
    while (samples.length < expected && performance.now() < deadline) await sleep(20);
    const summary = summarizeLatencies(samples.length ? samples : [Number.NaN]);
    return {
      subscribers: settings.wsSubscribers,
      delivered: samples.length,
      expected,
      p50: summary.p50,
      p99: summary.p99,
      max: summary.max,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}
