import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient } from '../../sdk/worker/src/index.ts';
import { type E2e, expectEnvelope, ISO, startE2e, UUID } from './helpers.ts';

/**
 * Dead letters end to end (DESIGN §2, §6, §8): produced by real failures through the worker bridge, then
 * listed, inspected, counted, replayed (one, by filter with a dry run, concurrently) and discarded.
 */
describe('dead letters over HTTP', () => {
  let e: E2e;
  let sdk: JobEngineClient;
  let sourceId: string;
  const TENANT = 'dl-a';
  /** dead letter id by a label given when it was produced */
  const letters = new Map<string, { id: string; jobId: string }>();

  const getJob = async (id: string) => (await e.call('GET', `/api/v1/jobs/${id}`)).json;
  const getLetter = async (id: string) => (await e.call('GET', `/api/v1/deadletter/${id}`)).json;
  const statuses = async () =>
    (await e.t.admin.query('SELECT id::text, status FROM dead_letters ORDER BY id')).rows as {
      id: string;
      status: string;
    }[];
  const jobCount = async () =>
    (await e.t.admin.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n as number;

  /** Submits a job, leases it and fails it for good: one open dead letter. */
  const produce = async (
    label: string,
    type: string,
    error: { errorCode: string; errorClass?: string; retryable?: boolean; message?: string },
    extra: Record<string, unknown> = {},
  ) => {
    const res = await e.call('POST', '/api/v1/jobs', {
      body: { type, payload: { label }, retry: { maxAttempts: 1 }, ...extra },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const { leases } = await sdk.lease({ workerId: 'w-dl', types: [type] });
    expect(leases).toHaveLength(1);
    const done = await sdk.completeOne(res.json.id, {
      leaseId: leases[0]!.leaseId,
      outcome: 'failed',
      error: { retryable: false, ...error },
    });
    expect(done.status).toBe('dead_lettered');
    const row = await e.t.admin.query('SELECT id::text FROM dead_letters WHERE job_id = $1', [res.json.id]);
    letters.set(label, { id: row.rows[0].id, jobId: res.json.id });
  };
  const letter = (label: string) => letters.get(label)!;

  beforeAll(async () => {
    e = await startE2e({ tenant: TENANT });
    sdk = new JobEngineClient({
      baseUrl: e.runtime.url,
      token: await e.runtime.token({ tenants: [TENANT] }),
      tenant: TENANT,
    });
    const source = await e.call('POST', '/api/v1/sources', {
      body: { name: 'nvd', type: 'advisory_feed', upstreamHost: 'nvd.example' },
    });
    sourceId = source.json.id;
    await produce('parse-1', 'dl.parse', {
      errorCode: 'SCHEMA_INVALID',
      errorClass: 'validation',
      message: 'no id',
    });
    await produce('fetch-1', 'dl.fetch', { errorCode: 'UPSTREAM_GONE', errorClass: 'upstream' });
    await produce('parse-2', 'dl.parse', { errorCode: 'SCHEMA_INVALID', errorClass: 'validation' });
    await produce('auth-1', 'dl.fetch', { errorCode: 'AUTH_DENIED', errorClass: 'auth' });
    await produce('fetch-2', 'dl.fetch', { errorCode: 'UPSTREAM_GONE', errorClass: 'upstream' });
    await produce('parse-3', 'dl.parse', { errorCode: 'SCHEMA_INVALID', errorClass: 'validation' });
    await produce('timeout-1', 'dl.export', { errorCode: 'TIMEOUT', retryable: true });
    await produce('source-1', 'dl.source', { errorCode: 'SRC_FAIL' }, { sourceId });
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('lists dead letters with filters, in creation order', async () => {
    const all = (await e.call('GET', '/api/v1/deadletter')).json;
    expect(all.next_page_token).toBeNull();
    expect(all.items.map((d: { id: string }) => d.id)).toEqual([...letters.values()].map((l) => l.id));
    const ids = (res: { json: { items: { id: string }[] } }) => res.json.items.map((d) => d.id);
    expect(ids(await e.call('GET', '/api/v1/deadletter?job_type=dl.fetch'))).toEqual([
      letter('fetch-1').id,
      letter('auth-1').id,
      letter('fetch-2').id,
    ]);
    expect(ids(await e.call('GET', '/api/v1/deadletter?job_type=dl.fetch&error_code=UPSTREAM_GONE'))).toEqual(
      [letter('fetch-1').id, letter('fetch-2').id],
    );
    expect(ids(await e.call('GET', `/api/v1/deadletter?source_id=${sourceId}`))).toEqual([
      letter('source-1').id,
    ]);
    expect(ids(await e.call('GET', '/api/v1/deadletter?status=open'))).toHaveLength(8);
    expect(ids(await e.call('GET', '/api/v1/deadletter?status=replayed'))).toEqual([]);
    expectEnvelope(await e.call('GET', '/api/v1/deadletter?status=lost'), 400, 'VALIDATION_FAILED');
    expectEnvelope(await e.call('GET', '/api/v1/deadletter?error_code=lower'), 400, 'VALIDATION_FAILED');
    const first = await e.call('GET', '/api/v1/deadletter?page_size=1');
    expect(first.json.items).toHaveLength(1);
    expectEnvelope(
      await e.call(
        'GET',
        `/api/v1/deadletter?job_type=dl.parse&page_token=${encodeURIComponent(first.json.next_page_token)}`,
      ),
      400,
      'INVALID_PAGE_TOKEN',
    );
  });

  /** Regression: at HEAD (cdcb930) page tokens lost the microseconds of `created_at`, so pages overlapped. */
  it('pages through dead letters without repeating one', async () => {
    for (const size of [1, 3]) {
      const seen: string[] = [];
      let token: string | null = null;
      for (let pages = 0; pages < 12; pages++) {
        const page = await e.call(
          'GET',
          `/api/v1/deadletter?page_size=${size}${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
        );
        expect(page.json.items.length).toBeLessThanOrEqual(size);
        seen.push(...page.json.items.map((d: { id: string }) => d.id));
        token = page.json.next_page_token;
        if (!token) break;
      }
      expect(seen, `page_size=${size}`).toEqual([...letters.values()].map((l) => l.id));
    }
  });

  it('shows one dead letter with its failure', async () => {
    const res = await e.call('GET', `/api/v1/deadletter/${letter('parse-1').id}`);
    expect(res.status).toBe(200);
    const job = await getJob(letter('parse-1').jobId);
    expect(res.json).toEqual({
      id: letter('parse-1').id,
      jobId: letter('parse-1').jobId,
      runId: job.runId,
      jobType: 'dl.parse',
      sourceId: null,
      errorCode: 'SCHEMA_INVALID',
      errorClass: 'validation',
      retryable: false,
      message: 'no id',
      attempts: 1,
      firstFailureAt: expect.stringMatching(ISO),
      lastFailureAt: expect.stringMatching(ISO),
      status: 'open',
      replayedJobId: null,
      resolvedBy: null,
      resolvedAt: null,
      createdAt: expect.stringMatching(ISO),
    });
    expect(await getLetter(letter('timeout-1').id)).toMatchObject({ retryable: true, errorClass: 'unknown' });
    expect(await getLetter(letter('source-1').id)).toMatchObject({ sourceId });
    expectEnvelope(
      await e.call('GET', '/api/v1/deadletter/00000000-0000-4000-8000-000000000000'),
      404,
      'NOT_FOUND',
    );
    expectEnvelope(await e.call('GET', '/api/v1/deadletter/nope'), 404, 'NOT_FOUND');
  });

  it('counts dead letters by status, with the oldest open one and the largest clusters first', async () => {
    const res = await e.call('GET', '/api/v1/deadletter/stats');
    expect(res.status).toBe(200);
    const oldest = await getLetter(letter('parse-1').id);
    expect(res.json).toEqual({
      counts: { open: 8, replayed: 0, discarded: 0 },
      oldestOpenAt: oldest.createdAt,
      topErrors: [
        {
          errorCode: 'SCHEMA_INVALID',
          jobType: 'dl.parse',
          errorClass: 'validation',
          count: 3,
          lastFailureAt: expect.stringMatching(ISO),
        },
        {
          errorCode: 'UPSTREAM_GONE',
          jobType: 'dl.fetch',
          errorClass: 'upstream',
          count: 2,
          lastFailureAt: expect.stringMatching(ISO),
        },
        {
          errorCode: 'AUTH_DENIED',
          jobType: 'dl.fetch',
          errorClass: 'auth',
          count: 1,
          lastFailureAt: expect.stringMatching(ISO),
        },
        {
          errorCode: 'SRC_FAIL',
          jobType: 'dl.source',
          errorClass: 'unknown',
          count: 1,
          lastFailureAt: expect.stringMatching(ISO),
        },
        {
          errorCode: 'TIMEOUT',
          jobType: 'dl.export',
          errorClass: 'unknown',
          count: 1,
          lastFailureAt: expect.stringMatching(ISO),
        },
      ],
    });
    const parse3 = await getLetter(letter('parse-3').id);
    expect(res.json.topErrors[0].lastFailureAt).toBe(parse3.lastFailureAt);
  });

  it('replays one dead letter: 201, a new job with replayOf at priority 50, the dead letter replayed; again → 409', async () => {
    const { id, jobId } = letter('auth-1');
    const res = await e.call('POST', `/api/v1/deadletter/${id}:replay`);
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      deadLetter: expect.objectContaining({
        id,
        status: 'replayed',
        replayedJobId: res.json.jobId,
        resolvedBy: 'e2e-tester',
        resolvedAt: expect.stringMatching(ISO),
      }),
      jobId: expect.stringMatching(UUID),
    });
    const replay = await getJob(res.json.jobId);
    expect(replay).toMatchObject({
      type: 'dl.fetch',
      status: 'queued',
      priority: 50,
      attempt: 0,
      payload: { label: 'auth-1' },
      replayOf: jobId,
    });
    expect(await getJob(jobId)).toMatchObject({ status: 'dead_lettered' });
    expect((await e.call('GET', `/api/v1/runs/${replay.runId}`)).json).toMatchObject({ kind: 'replay' });
    expect(
      (await e.call('GET', '/api/v1/runs?kind=replay')).json.items.map((r: { id: string }) => r.id),
    ).toContain(replay.runId);

    const jobsBefore = await jobCount();
    expectEnvelope(await e.call('POST', `/api/v1/deadletter/${id}:replay`), 409, 'ILLEGAL_TRANSITION');
    expect(await jobCount()).toBe(jobsBefore);

    // an explicit priority wins
    const withPriority = await e.call('POST', `/api/v1/deadletter/${letter('timeout-1').id}:replay`, {
      body: { priority: 80 },
    });
    expect(withPriority.status).toBe(201);
    expect((await getJob(withPriority.json.jobId)).priority).toBe(80);
    expectEnvelope(
      await e.call('POST', `/api/v1/deadletter/${letter('parse-1').id}:replay`, { body: { priority: 500 } }),
      400,
      'VALIDATION_FAILED',
    );

    const events = await e.t.admin.query(
      `SELECT idempotency_key, data->>'replayedJobId' AS replayed FROM events
        WHERE event_type = 'dead_letter.replayed' AND subject_id = $1`,
      [id],
    );
    expect(events.rows).toEqual([
      { idempotency_key: `orch-dead_letter.replayed-${id}`, replayed: res.json.jobId },
    ]);
  });

  it('replays by filter: a dry run only reports matches; the real run replays them', async () => {
    const before = await statuses();
    const jobsBefore = await jobCount();
    const dry = await e.call('POST', '/api/v1/deadletter:replay', {
      body: { filter: { errorCode: 'SCHEMA_INVALID' }, limit: 2 },
    });
    expect(dry.status).toBe(200);
    expect(dry.json).toEqual({
      dryRun: true,
      matched: 2,
      more: true,
      deadLetterIds: [letter('parse-1').id, letter('parse-2').id],
      replayed: [],
    });
    const dryAll = await e.call('POST', '/api/v1/deadletter:replay', {
      body: { filter: { jobType: 'dl.parse' }, dryRun: true },
    });
    expect(dryAll.json).toMatchObject({ dryRun: true, matched: 3, more: false });
    expect(await statuses()).toEqual(before);
    expect(await jobCount()).toBe(jobsBefore);

    const real = await e.call('POST', '/api/v1/deadletter:replay', {
      body: { filter: { errorCode: 'SCHEMA_INVALID', jobType: 'dl.parse' }, dryRun: false },
    });
    expect(real.status).toBe(200);
    const parseIds = ['parse-1', 'parse-2', 'parse-3'].map((l) => letter(l).id);
    expect(real.json).toMatchObject({ dryRun: false, matched: 3, more: false, deadLetterIds: parseIds });
    expect(real.json.replayed.map((r: { deadLetterId: string }) => r.deadLetterId)).toEqual(parseIds);
    for (const [i, label] of ['parse-1', 'parse-2', 'parse-3'].entries()) {
      const replayedJobId = real.json.replayed[i].jobId;
      expect(await getLetter(letter(label).id)).toMatchObject({ status: 'replayed', replayedJobId });
      expect(await getJob(replayedJobId)).toMatchObject({
        replayOf: letter(label).jobId,
        priority: 50,
        status: 'queued',
      });
    }
    expect(await jobCount()).toBe(jobsBefore + 3);
    // nothing open matches any more
    const again = await e.call('POST', '/api/v1/deadletter:replay', {
      body: { filter: { errorCode: 'SCHEMA_INVALID' }, dryRun: false },
    });
    expect(again.json).toEqual({ dryRun: false, matched: 0, more: false, deadLetterIds: [], replayed: [] });
    // a createdBefore in the past matches nothing
    const old = await e.call('POST', '/api/v1/deadletter:replay', {
      body: { filter: { createdBefore: '2000-01-01T00:00:00Z' } },
    });
    expect(old.json).toMatchObject({ matched: 0 });
    expectEnvelope(
      await e.call('POST', '/api/v1/deadletter:replay', { body: { filter: { colour: 'red' } } }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await e.call('POST', '/api/v1/deadletter:replay', { body: { limit: 0 } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('concurrent replays of one dead letter create exactly one job', async () => {
    await produce('race-1', 'dl.race', { errorCode: 'RACE' });
    const { id, jobId } = letter('race-1');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => e.call('POST', `/api/v1/deadletter/${id}:replay`)),
    );
    const statusCodes = results.map((r) => r.status).sort();
    expect(statusCodes).toEqual([201, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) {
      expect(['ILLEGAL_TRANSITION', 'CONFLICT']).toContain(r.json.error.code);
    }
    const replays = await e.t.admin.query('SELECT id::text FROM jobs WHERE replay_of = $1', [jobId]);
    expect(replays.rows).toHaveLength(1);
    const winner = results.find((r) => r.status === 201)!;
    expect(replays.rows[0].id).toBe(winner.json.jobId);
    expect(await getLetter(id)).toMatchObject({ status: 'replayed', replayedJobId: winner.json.jobId });
  });

  it('concurrent replays by filter replay each dead letter once', async () => {
    await produce('bulk-1', 'dl.bulk', { errorCode: 'BULK' });
    await produce('bulk-2', 'dl.bulk', { errorCode: 'BULK' });
    await produce('bulk-3', 'dl.bulk', { errorCode: 'BULK' });
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        e.call('POST', '/api/v1/deadletter:replay', {
          body: { filter: { errorCode: 'BULK' }, dryRun: false },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const replayed = results.flatMap((r) => r.json.replayed as { deadLetterId: string }[]);
    expect(replayed.map((r) => r.deadLetterId).sort()).toEqual(
      ['bulk-1', 'bulk-2', 'bulk-3'].map((l) => letter(l).id).sort(),
    );
    const replays = await e.t.admin.query(
      `SELECT count(*)::int AS n FROM jobs WHERE replay_of = ANY($1::uuid[])`,
      [['bulk-1', 'bulk-2', 'bulk-3'].map((l) => letter(l).jobId)],
    );
    expect(replays.rows[0].n).toBe(3);
  });

  it('discards a dead letter; a second discard or a replay of it is 409', async () => {
    const { id } = letter('fetch-1');
    const res = await e.call('POST', `/api/v1/deadletter/${id}:discard`, {
      body: { reason: 'upstream retired' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id,
      status: 'discarded',
      replayedJobId: null,
      resolvedBy: 'e2e-tester',
      resolvedAt: expect.stringMatching(ISO),
    });
    expectEnvelope(await e.call('POST', `/api/v1/deadletter/${id}:discard`), 409, 'ILLEGAL_TRANSITION');
    expectEnvelope(await e.call('POST', `/api/v1/deadletter/${id}:replay`), 409, 'ILLEGAL_TRANSITION');
    expect(await getLetter(id)).toMatchObject({ status: 'discarded' });
    // a replayed one cannot be discarded either
    expectEnvelope(
      await e.call('POST', `/api/v1/deadletter/${letter('auth-1').id}:discard`),
      409,
      'ILLEGAL_TRANSITION',
    );
    const events = await e.t.admin.query(
      `SELECT idempotency_key FROM events WHERE event_type = 'dead_letter.discarded' AND subject_id = $1`,
      [id],
    );
    expect(events.rows).toEqual([{ idempotency_key: `orch-dead_letter.discarded-${id}` }]);

    const stats = (await e.call('GET', '/api/v1/deadletter/stats')).json;
    const open = (await e.t.admin.query(`SELECT count(*)::int AS n FROM dead_letters WHERE status = 'open'`))
      .rows[0].n;
    expect(stats.counts).toEqual({ open, replayed: 9, discarded: 1 });
    expect(stats.topErrors.map((c: { errorCode: string }) => c.errorCode)).toEqual([
      'SRC_FAIL',
      'UPSTREAM_GONE',
    ]);
  });

  it('answers 404 for unknown and malformed ids on replay and discard', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      expectEnvelope(await e.call('POST', `/api/v1/deadletter/${id}:replay`), 404, 'NOT_FOUND');
      expectEnvelope(await e.call('POST', `/api/v1/deadletter/${id}:discard`), 404, 'NOT_FOUND');
    }
  });
});
