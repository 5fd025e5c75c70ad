import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient, LeaseLostError, Worker } from '../../sdk/worker/src/index.ts';
import { type E2e, expectEnvelope, ISO, poll, startE2e, UUID } from './helpers.ts';

/**
 * The runs API end to end (DESIGN §6, §8, §10): DAG submission and asynchronous planning, the DAG view
 * (topological order with key tie-breaks, edges, critical path), validation errors, lists, and cancel - with
 * a real SDK worker executing a run to the end.
 */

/** The demo pipeline, submitted in an order unlike the topological one so the planner has to sort it. */
const demoDag = (prefix: string) => [
  { key: 'export', type: `${prefix}.export`, dependsOn: ['merge'], payload: { format: 'csv' } },
  { key: 'merge', type: `${prefix}.merge`, dependsOn: ['normalize-c', 'normalize-a', 'normalize-b'] },
  { key: 'normalize-c', type: `${prefix}.normalize`, dependsOn: ['parse'], payload: { shard: 'c' } },
  { key: 'normalize-a', type: `${prefix}.normalize`, dependsOn: ['parse'], payload: { shard: 'a' } },
  { key: 'normalize-b', type: `${prefix}.normalize`, dependsOn: ['parse'], payload: { shard: 'b' } },
  { key: 'parse', type: `${prefix}.parse`, dependsOn: ['fetch'] },
  { key: 'fetch', type: `${prefix}.fetch`, payload: { url: 'https://feeds.example/advisories.json' } },
];
const DEMO_ORDER = ['fetch', 'parse', 'normalize-a', 'normalize-b', 'normalize-c', 'merge', 'export'];
const DEMO_EDGES = [
  { parent: 'fetch', child: 'parse' },
  { parent: 'parse', child: 'normalize-a' },
  { parent: 'parse', child: 'normalize-b' },
  { parent: 'parse', child: 'normalize-c' },
  { parent: 'normalize-a', child: 'merge' },
  { parent: 'normalize-b', child: 'merge' },
  { parent: 'normalize-c', child: 'merge' },
  { parent: 'merge', child: 'export' },
];
const DEMO_CRITICAL_PATH = ['fetch', 'parse', 'normalize-a', 'merge', 'export'];

describe('runs API over HTTP', () => {
  let e: E2e;
  let tokenA: string;
  let sdk: JobEngineClient;

  const submit = async (body: unknown) => {
    const res = await e.call('POST', '/api/v1/runs', { body });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    return res.json as { id: string; status: string };
  };
  const getRun = async (id: string) => (await e.call('GET', `/api/v1/runs/${id}`)).json;
  const planned = (id: string) =>
    poll(
      () => getRun(id),
      (run) => run.status !== 'planning',
      { what: `run ${id} planned` },
    );
  const dagOf = async (id: string) => {
    const res = await e.call('GET', `/api/v1/runs/${id}/dag`);
    expect(res.status).toBe(200);
    return res.json;
  };

  beforeAll(async () => {
    e = await startE2e({ tenant: 'runs-a' });
    tokenA = await e.runtime.token({ tenants: ['runs-a'] });
    sdk = new JobEngineClient({ baseUrl: e.runtime.url, token: tokenA, tenant: 'runs-a' });
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('submits the demo DAG (202, planning), plans it asynchronously and shows it in topological order', async () => {
    const res = await e.call('POST', '/api/v1/runs', {
      body: { jobs: demoDag('demo'), labels: { pipeline: 'advisories' }, priority: 5 },
      headers: { 'X-Correlation-Id': 'corr-demo-1' },
    });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({
      id: expect.stringMatching(UUID),
      kind: 'adhoc',
      status: 'planning',
      priority: 5,
      correlationId: 'corr-demo-1',
      labels: { pipeline: 'advisories' },
      dagDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      createdBy: 'e2e-tester',
      createdAt: expect.stringMatching(ISO),
    });
    expect(res.headers.get('location')).toBe(`/api/v1/runs/${res.json.id}`);

    const run = await planned(res.json.id);
    expect(run).toMatchObject({
      status: 'running',
      jobs: { total: 7, succeeded: 0, failed: 0, canceled: 0 },
      criticalPath: DEMO_CRITICAL_PATH,
      startedAt: expect.stringMatching(ISO),
      finishedAt: null,
    });

    const dag = await dagOf(res.json.id);
    expect(dag.run.id).toBe(res.json.id);
    expect(dag.jobs.map((j: { key: string }) => j.key)).toEqual(DEMO_ORDER);
    expect(dag.jobs.map((j: { topoIndex: number }) => j.topoIndex)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(dag.jobs.map((j: { depth: number }) => j.depth)).toEqual([0, 1, 2, 2, 2, 3, 4]);
    expect(
      dag.jobs
        .filter((j: { onCriticalPath: boolean }) => j.onCriticalPath)
        .map((j: { key: string }) => j.key),
    ).toEqual(DEMO_CRITICAL_PATH);
    expect(dag.jobs.map((j: { status: string }) => j.status)).toEqual([
      'queued',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    expect(dag.jobs.every((j: { id: string; attempt: number }) => UUID.test(j.id) && j.attempt === 0)).toBe(
      true,
    );
    expect(dag.edges).toEqual(DEMO_EDGES);
    expect(dag.criticalPath).toEqual(DEMO_CRITICAL_PATH);

    // Planning is deterministic: the same DAG again gets the same digest, order and critical path.
    const again = await submit({ jobs: demoDag('demo'), labels: { pipeline: 'advisories' }, priority: 5 });
    await planned(again.id);
    const dag2 = await dagOf(again.id);
    expect(dag2.run.dagDigest).toBe(dag.run.dagDigest);
    expect(dag2.jobs.map((j: { key: string }) => j.key)).toEqual(DEMO_ORDER);
    expect(dag2.edges).toEqual(DEMO_EDGES);
    // tidy up: this second run is not executed
    expect((await e.call('POST', `/api/v1/runs/${again.id}:cancel`)).status).toBe(200);
  });

  it('breaks topological ties by job key, not by depth or submission order', async () => {
    const run = await submit({
      jobs: [
        { key: 'x', type: 'tie.t' },
        { key: 'a', type: 'tie.t', dependsOn: ['x'] },
        { key: 'c', type: 'tie.t', dependsOn: ['m', 'b'] },
        { key: 'm', type: 'tie.t' },
        { key: 'b', type: 'tie.t' },
      ],
    });
    await planned(run.id);
    const dag = await dagOf(run.id);
    // ready {b, m, x} → b; {m, x} → m; {c, x} → c; {x} → x; {a} → a
    expect(dag.jobs.map((j: { key: string }) => j.key)).toEqual(['b', 'm', 'c', 'x', 'a']);
    expect(dag.edges).toEqual([
      { parent: 'b', child: 'c' },
      { parent: 'm', child: 'c' },
      { parent: 'x', child: 'a' },
    ]);
    // the longest chains have length 2 (b→c, m→c, x→a): the tie goes to the smallest tail key, 'a'
    expect(dag.criticalPath).toEqual(['x', 'a']);
    expect((await e.call('POST', `/api/v1/runs/${run.id}:cancel`)).status).toBe(200);
  });

  it('runs the demo DAG to success with an SDK worker, children starting only after all parents finished', async () => {
    const run = await submit({ jobs: demoDag('exec') });
    await planned(run.id);
    const started = new Map<string, number>();
    const finished = new Map<string, number>();
    let tick = 0;
    const handler = async (job: { key: string; attempt: number; idempotencyKey: string; jobId: string }) => {
      started.set(job.key, ++tick);
      expect(job.idempotencyKey).toBe(`orch-job-${job.jobId}-${job.attempt}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      finished.set(job.key, ++tick);
      return { result: { key: job.key } };
    };
    const worker = new Worker({
      client: sdk,
      workerId: 'e2e-demo-worker',
      concurrency: 4,
      pollIntervalMs: 20,
      maxPollIntervalMs: 100,
      handlers: {
        'exec.fetch': async (job, ctx) => {
          await ctx.progress({ percent: 50, message: 'downloading' });
          return handler(job);
        },
        'exec.parse': handler,
        'exec.normalize': handler,
        'exec.merge': handler,
        'exec.export': handler,
      },
    });
    worker.start();
    try {
      const done = await poll(
        () => getRun(run.id),
        (r) => r.status !== 'running',
        { timeoutMs: 30_000, what: 'demo run to finish' },
      );
      expect(done).toMatchObject({
        status: 'succeeded',
        jobs: { total: 7, succeeded: 7, failed: 0, canceled: 0 },
        finishedAt: expect.stringMatching(ISO),
      });
    } finally {
      await worker.stop({ graceful: true, timeoutMs: 5_000 });
    }
    for (const { parent, child } of DEMO_EDGES) {
      expect(started.get(child)!, `${child} started after ${parent} finished`).toBeGreaterThan(
        finished.get(parent)!,
      );
    }
    expect(worker.stats()).toMatchObject({ leased: 7, succeeded: 7, failed: 0, leaseLost: 0 });
    const dag = await dagOf(run.id);
    expect(dag.jobs.map((j: { status: string }) => j.status)).toEqual(Array(7).fill('succeeded'));
    const fetchJob = (await e.call('GET', `/api/v1/jobs/${dag.jobs[0].id}`)).json;
    expect(fetchJob).toMatchObject({ status: 'succeeded', result: { key: 'fetch' }, lease: null });
    const history = (await e.call('GET', `/api/v1/jobs/${dag.jobs[0].id}/history`)).json;
    expect(history.items.map((h: { transition: string }) => h.transition)).toEqual([
      'plan',
      'lease',
      'start',
      'succeed',
    ]);
    const runEvents = await e.t.admin.query(
      `SELECT event_type FROM events WHERE subject_kind = 'run' AND subject_id = $1 ORDER BY seq`,
      [run.id],
    );
    expect(runEvents.rows.map((r) => r.event_type)).toEqual(['run.running', 'run.succeeded']);
  });

  describe('rejects an invalid DAG with 400 and the envelope, writing nothing', () => {
    const job = (key: string, dependsOn: string[] = []) => ({ key, type: 'bad.t', dependsOn });
    const cases: [string, () => unknown, RegExp][] = [
      [
        'a three-job cycle',
        () => ({ jobs: [job('a', ['c']), job('b', ['a']), job('c', ['b'])] }),
        /cycle: (a → b → c → a|b → c → a → b|c → a → b → c)$/,
      ],
      [
        'a cycle behind a valid root, naming only the cycle',
        () => ({
          jobs: [job('root'), job('x', ['root', 'z']), job('y', ['x']), job('z', ['y']), job('tail', ['z'])],
        }),
        /cycle: (x → y → z → x|y → z → x → y|z → x → y → z)$/,
      ],
      ['an unknown dependency', () => ({ jobs: [job('a', ['ghost'])] }), /invalid dependencies/],
      ['duplicate keys', () => ({ jobs: [job('a'), job('b'), job('a')] }), /unique/],
      ['a self-dependency', () => ({ jobs: [job('a', ['a'])] }), /invalid dependencies/],
      [
        'a dependency listed twice',
        () => ({ jobs: [job('a'), job('b', ['a', 'a'])] }),
        /invalid dependencies/,
      ],
      [
        'more than 10,000 jobs',
        () => ({ jobs: Array.from({ length: 10_001 }, (_, i) => job(`j${i}`)) }),
        /invalid request body/,
      ],
      ['no jobs', () => ({ jobs: [] }), /invalid request body/],
      [
        'more than 100 dependencies of one job',
        () => ({
          jobs: [
            ...Array.from({ length: 101 }, (_, i) => job(`p${i}`)),
            job(
              'child',
              Array.from({ length: 101 }, (_, i) => `p${i}`),
            ),
          ],
        }),
        /invalid request body/,
      ],
      [
        'a payload over 256 KiB',
        () => ({ jobs: [{ key: 'a', type: 'bad.t', payload: { blob: 'x'.repeat(300 * 1024) } }] }),
        /payload too large/,
      ],
      [
        'a source of no one',
        () => ({ jobs: [job('a')], sourceId: '00000000-0000-4000-8000-000000000000' }),
        /unknown source/,
      ],
    ];
    it.each(cases)('%s', async (_name, body, message) => {
      const before = await e.t.admin.query(
        'SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM jobs)::int AS jobs',
      );
      const res = await e.call('POST', '/api/v1/runs', { body: body() });
      expectEnvelope(res, 400, 'VALIDATION_FAILED');
      expect(res.json.error.message).toMatch(message);
      const after = await e.t.admin.query(
        'SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM jobs)::int AS jobs',
      );
      expect(after.rows[0]).toEqual(before.rows[0]);
    });

    it('names each problem in the details', async () => {
      const unknown = await e.call('POST', '/api/v1/runs', { body: { jobs: [job('a', ['ghost'])] } });
      expect(unknown.json.error.details).toEqual([
        { path: 'jobs.0.dependsOn', message: "unknown job key 'ghost'" },
      ]);
      const self = await e.call('POST', '/api/v1/runs', { body: { jobs: [job('a'), job('b', ['b'])] } });
      expect(self.json.error.details).toEqual([
        { path: 'jobs.1.dependsOn', message: "'b' depends on itself" },
      ]);
      const dup = await e.call('POST', '/api/v1/runs', {
        body: { jobs: [job('b'), job('a'), job('b'), job('a')] },
      });
      expect(dup.json.error.details).toEqual([
        { path: 'jobs', message: "duplicate key 'a'" },
        { path: 'jobs', message: "duplicate key 'b'" },
      ]);
    });

    /**
     * domain/dag.ts documents findCycle as "a cycle ... starting from its smallest key", and the cycle of
     * a→b→c is reported as `b → c → a → b`: the walk starts at the smallest key but the reported rotation
     * starts wherever the back edge closed. See the report for the fix.
     */
    it('reports a cycle starting from its smallest key, as findCycle documents', async () => {
      const res = await e.call('POST', '/api/v1/runs', {
        body: { jobs: [job('a', ['c']), job('b', ['a']), job('c', ['b'])] },
      });
      expect(res.json.error.message).toBe('the dependencies form a cycle: a → b → c → a');
    });
  });

  it('accepts exactly 10,000 jobs and plans them', async () => {
    const jobs = Array.from({ length: 10_000 }, (_, i) => ({
      key: `k${String(i).padStart(5, '0')}`,
      type: 'wide.t',
      dependsOn: i === 0 ? [] : ['k00000'],
    }));
    const run = await submit({ jobs });
    const done = await planned(run.id);
    expect(done).toMatchObject({ status: 'running', jobs: { total: 10_000 } });
    const counts = await e.t.admin.query(
      `SELECT count(*)::int AS jobs, count(*) FILTER (WHERE status = 'pending')::int AS pending,
              (SELECT count(*)::int FROM dag_edges WHERE run_id = $1) AS edges
         FROM jobs WHERE run_id = $1`,
      [run.id],
    );
    expect(counts.rows[0]).toEqual({ jobs: 10_000, pending: 9_999, edges: 9_999 });
    expect((await e.call('POST', `/api/v1/runs/${run.id}:cancel`)).json).toMatchObject({
      status: 'canceled',
      jobs: { total: 10_000, canceled: 10_000 },
    });
  });

  it('lists runs with filters and opaque page tokens, in creation order', async () => {
    const source = await e.call('POST', '/api/v1/sources', {
      body: { name: 'feed', type: 'advisory_feed', upstreamHost: 'feed.example' },
    });
    expect(source.status).toBe(201);
    const withSource: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await submit({ jobs: [{ key: 'only', type: 'list.t' }], sourceId: source.json.id });
      withSource.push(run.id);
    }
    for (const id of withSource) await planned(id);

    const all = (await e.call('GET', '/api/v1/runs?page_size=500')).json.items as {
      id: string;
      createdAt: string;
    }[];
    // creation order, ending with the id: ids ascend (UUIDv7) and so do creation times
    for (let i = 1; i < all.length; i++) {
      expect(all[i - 1]!.id < all[i]!.id).toBe(true);
      expect(all[i - 1]!.createdAt <= all[i]!.createdAt).toBe(true);
    }

    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const page = await e.call(
        'GET',
        `/api/v1/runs?source_id=${source.json.id}&page_size=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items.map((r: { id: string }) => r.id));
      token = page.json.next_page_token;
      pages++;
    } while (token);
    expect(seen).toEqual(withSource);
    expect(pages).toBe(3);

    const succeeded = (await e.call('GET', '/api/v1/runs?status=succeeded')).json.items;
    expect(succeeded.length).toBeGreaterThanOrEqual(1);
    expect(succeeded.every((r: { status: string }) => r.status === 'succeeded')).toBe(true);
    const canceled = (await e.call('GET', '/api/v1/runs?status=canceled&kind=adhoc')).json.items;
    expect(canceled.length).toBeGreaterThanOrEqual(3);
    expect(
      canceled.every((r: { status: string; kind: string }) => r.status === 'canceled' && r.kind === 'adhoc'),
    ).toBe(true);
    expect((await e.call('GET', '/api/v1/runs?kind=backfill')).json).toEqual({
      items: [],
      next_page_token: null,
    });

    const first = await e.call('GET', `/api/v1/runs?source_id=${source.json.id}&page_size=1`);
    expectEnvelope(
      await e.call(
        'GET',
        `/api/v1/runs?status=running&page_token=${encodeURIComponent(first.json.next_page_token)}`,
      ),
      400,
      'INVALID_PAGE_TOKEN',
    );
    expectEnvelope(await e.call('GET', '/api/v1/runs?status=sleeping'), 400, 'VALIDATION_FAILED');
    expectEnvelope(await e.call('GET', '/api/v1/runs?source_id=nope'), 400, 'VALIDATION_FAILED');
  });

  it('cancels a running run: every unfinished job is canceled and the lease holder gets LEASE_LOST', async () => {
    const run = await submit({ jobs: demoDag('cancel') });
    await planned(run.id);
    const { leases } = await sdk.lease({ workerId: 'w-cancel', types: ['cancel.fetch'], leaseSeconds: 60 });
    expect(leases).toHaveLength(1);
    const lease = leases[0]!;
    expect(lease.runId).toBe(run.id);
    expect(await sdk.progress(lease.jobId, { leaseId: lease.leaseId, progress: { percent: 10 } })).toEqual({
      jobId: lease.jobId,
      status: 'running',
    });

    const canceled = await e.call('POST', `/api/v1/runs/${run.id}:cancel`, {
      headers: { 'X-Stella-Operator-Reason': 'bad upstream snapshot' },
    });
    expect(canceled.status).toBe(200);
    expect(canceled.json).toMatchObject({
      id: run.id,
      status: 'canceled',
      jobs: { total: 7, succeeded: 0, failed: 0, canceled: 7 },
      finishedAt: expect.stringMatching(ISO),
    });
    const dag = await dagOf(run.id);
    expect(dag.jobs.map((j: { status: string }) => j.status)).toEqual(Array(7).fill('canceled'));

    const job = (await e.call('GET', `/api/v1/jobs/${lease.jobId}`)).json;
    expect(job).toMatchObject({ status: 'canceled', reason: 'bad upstream snapshot', lease: null });

    await expect(sdk.heartbeat(lease.leaseId, { leaseSeconds: 60 })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      sdk.progress(lease.jobId, { leaseId: lease.leaseId, progress: { percent: 90 } }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      sdk.completeOne(lease.jobId, { leaseId: lease.leaseId, outcome: 'succeeded', result: { late: true } }),
    ).rejects.toMatchObject({ name: 'LeaseLostError', status: 409, code: 'LEASE_LOST' });
    expectEnvelope(
      await e.call('POST', '/api/v1/worker/completions', {
        body: { completions: [{ jobId: lease.jobId, leaseId: lease.leaseId, outcome: 'succeeded' }] },
      }),
      409,
      'LEASE_LOST',
    );
    // the late completion changed nothing
    const after = (await e.call('GET', `/api/v1/jobs/${lease.jobId}`)).json;
    expect(after).toMatchObject({ status: 'canceled', result: null });
    const history = (await e.call('GET', `/api/v1/jobs/${lease.jobId}/history`)).json.items;
    expect(history.map((h: { transition: string }) => h.transition)).toEqual([
      'plan',
      'lease',
      'start',
      'cancel',
    ]);
    expect(history[3]).toMatchObject({ from: 'running', to: 'canceled', reason: 'bad upstream snapshot' });
    // nothing of the canceled run can be leased any more
    expect(
      (await sdk.lease({ workerId: 'w-cancel', types: ['cancel.parse', 'cancel.normalize', 'cancel.fetch'] }))
        .leases,
    ).toEqual([]);

    const runEvents = await e.t.admin.query(
      `SELECT event_type, data->>'reason' AS reason FROM events
        WHERE subject_kind = 'run' AND subject_id = $1 ORDER BY seq`,
      [run.id],
    );
    expect(runEvents.rows).toEqual([
      { event_type: 'run.running', reason: null },
      { event_type: 'run.canceled', reason: 'bad upstream snapshot' },
    ]);

    expectEnvelope(await e.call('POST', `/api/v1/runs/${run.id}:cancel`), 409, 'ILLEGAL_TRANSITION');
    expectEnvelope(
      await e.call('POST', `/api/v1/runs/${run.id}:cancel`, { body: { reason: 'again' } }),
      409,
      'ILLEGAL_TRANSITION',
    );
  });

  it('answers 404 for unknown and malformed run ids', async () => {
    const unknown = '00000000-0000-4000-8000-000000000001';
    expectEnvelope(await e.call('GET', `/api/v1/runs/${unknown}`), 404, 'NOT_FOUND');
    expectEnvelope(await e.call('GET', `/api/v1/runs/${unknown}/dag`), 404, 'NOT_FOUND');
    expectEnvelope(await e.call('POST', `/api/v1/runs/${unknown}:cancel`), 404, 'NOT_FOUND');
    expectEnvelope(await e.call('GET', '/api/v1/runs/not-a-uuid'), 404, 'NOT_FOUND');
    expectEnvelope(await e.call('POST', '/api/v1/runs/not-a-uuid:cancel'), 404, 'NOT_FOUND');
    expectEnvelope(await e.call('POST', `/api/v1/runs/${unknown}:explode`), 404, 'NOT_FOUND');
  });
});
