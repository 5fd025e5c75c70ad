import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../layers/core/src/domain/canonical-json.ts';
import type { CallContext } from '../../layers/core/src/services/context.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { callAs, testServices } from '../support/services.ts';

/**
 * The audit log on real PostgreSQL: every operator mutation appends an entry in its own transaction (who,
 * scopes, reason, ticket, request id, target, before/after digests); the worker bridge does not. Reading
 * filters and pages it; artifacts registered by workers are read back per run and per digest.
 */
describe('audit log and artifacts', () => {
  let t: TestDatabase;
  let s: ReturnType<typeof testServices>;
  const tenant = 'audited';
  const op: CallContext = {
    ...callAs(tenant, 'bob'),
    requestId: 'req-42',
    note: { reason: 'cleanup', ticket: 'INC-9' },
  };
  const worker = callAs(tenant, 'worker-svc');

  beforeAll(async () => {
    t = await createTestDatabase();
    s = testServices(t.db);
  });
  afterAll(async () => {
    s.planQueue.close();
    await t.drop();
  });

  const actions = async () =>
    (
      await t.admin.query<{ action: string; target_kind: string; target_id: string }>(
        'SELECT action, target_kind, target_id FROM audit_log WHERE tenant_id = $1 ORDER BY position',
        [tenant],
      )
    ).rows;

  async function deadLetteredJob(type: string) {
    const job = await s.jobs.submit(op, {
      type,
      payload: {},
      priority: 0,
      key: 'job',
      retry: { maxAttempts: 1 },
    });
    const [lease] = await s.leasing.lease(worker, { workerId: 'w', types: [type], max: 1, leaseSeconds: 60 });
    await s.leasing.complete(worker, [
      {
        jobId: lease!.jobId,
        leaseId: lease!.leaseId,
        outcome: 'failed',
        error: { retryable: false, errorCode: 'BROKEN', errorClass: 'unknown' },
        artifacts: [],
      },
    ]);
    const letters = await s.deadLetters.list(op, { page_size: 500, job_type: type });
    return { job, deadLetterId: letters.items[0]!.id };
  }

  it('records each operator mutation, and no worker-bridge call', async () => {
    const source = await s.sources.create(op, {
      name: 'feed',
      type: 'advisory_feed',
      upstreamHost: 'feed.example',
      config: {},
      enabled: true,
    });
    const updated = await s.sources.update(op, source.id, { enabled: false }, null);
    const run = await s.runs.submit(op, {
      priority: 0,
      jobs: [{ key: 'a', type: 'aud.run', payload: {}, dependsOn: [] }],
    });
    await s.runs.cancel(op, run.id);
    const job = await s.jobs.submit(op, { type: 'aud.job', payload: {}, priority: 0, key: 'job' });
    await s.jobs.prioritize(op, job.id, 7);
    await s.jobs.cancel(op, job.id);
    await s.jobs.retry(op, job.id);
    const replayed = await deadLetteredJob('aud.dl1');
    await s.deadLetters.replay(op, replayed.deadLetterId, undefined);
    const discarded = await deadLetteredJob('aud.dl2');
    await s.deadLetters.discard(op, discarded.deadLetterId);
    const matched = await deadLetteredJob('aud.dl3');
    await s.deadLetters.replayMatching(op, { filter: { jobType: 'aud.dl3' }, limit: 10, dryRun: true });
    await s.deadLetters.replayMatching(op, { filter: { jobType: 'aud.dl3' }, limit: 10, dryRun: false });
    const packRun = await s.packRuns.create(
      { ...op, projectId: 'p1' },
      { pack: 'scan@1.0', params: {}, priority: 0 },
    );

    expect(await actions()).toEqual([
      { action: 'source.create', target_kind: 'source', target_id: source.id },
      { action: 'source.update', target_kind: 'source', target_id: source.id },
      { action: 'run.submit', target_kind: 'run', target_id: run.id },
      { action: 'run.cancel', target_kind: 'run', target_id: run.id },
      { action: 'job.submit', target_kind: 'job', target_id: job.id },
      { action: 'job.prioritize', target_kind: 'job', target_id: job.id },
      { action: 'job.cancel', target_kind: 'job', target_id: job.id },
      { action: 'job.retry', target_kind: 'job', target_id: job.id },
      { action: 'job.submit', target_kind: 'job', target_id: replayed.job.id },
      { action: 'dead_letter.replay', target_kind: 'dead_letter', target_id: replayed.deadLetterId },
      { action: 'job.submit', target_kind: 'job', target_id: discarded.job.id },
      { action: 'dead_letter.discard', target_kind: 'dead_letter', target_id: discarded.deadLetterId },
      { action: 'job.submit', target_kind: 'job', target_id: matched.job.id },
      { action: 'dead_letter.replay', target_kind: 'dead_letter', target_id: matched.deadLetterId },
      { action: 'pack_run.create', target_kind: 'pack_run', target_id: packRun.id },
    ]);
    const page = await s.auditLog.list(op, { page_size: 2, action: 'source.update' });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      tenantId: tenant,
      position: 2,
      actor: { subject: 'bob', scopes: ['orch:operate', 'orch:read'] },
      reason: 'cleanup',
      ticket: 'INC-9',
      requestId: 'req-42',
      correlationId: `corr-${tenant}`,
      target: { kind: 'source', id: source.id },
      beforeDigest: digestOf(source),
      afterDigest: digestOf(updated),
    });
  });

  it('filters by action, target, actor and time, and pages in chain order', async () => {
    const all = [];
    let token: string | undefined;
    do {
      const page = await s.auditLog.list(op, { page_size: 4, ...(token ? { page_token: token } : {}) });
      all.push(...page.items);
      token = page.next_page_token ?? undefined;
    } while (token);
    expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
    for (const [i, e] of all.entries()) if (i > 0) expect(e.prevHash).toBe(all[i - 1]!.entryHash);
    const jobId = all.find((e) => e.action === 'job.prioritize')!.target.id!;
    expect(
      (await s.auditLog.list(op, { page_size: 50, target_kind: 'job', target_id: jobId })).items.map(
        (e) => e.action,
      ),
    ).toEqual(['job.submit', 'job.prioritize', 'job.cancel', 'job.retry']);
    expect((await s.auditLog.list(op, { page_size: 50, actor: 'nobody' })).items).toEqual([]);
    const later = new Date(Date.parse(all.at(-1)!.occurredAt) + 1).toISOString();
    expect((await s.auditLog.list(op, { page_size: 50, from: later })).items).toEqual([]);
    expect((await s.auditLog.list(op, { page_size: 50, to: later })).items).toHaveLength(all.length);
    expect((await s.auditLog.list(callAs('someone-else'), { page_size: 50 })).items).toEqual([]);
    await expect(
      s.auditLog.list(op, {
        page_size: 4,
        action: 'job.cancel',
        page_token: (await s.auditLog.list(op, { page_size: 1 })).next_page_token!,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PAGE_TOKEN' });
  });

  it("reads a run's artifacts and every registration of a digest; artifacts cannot change", async () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const run = await s.runs.submit(op, {
      priority: 0,
      jobs: [
        { key: 'a', type: 'art.a', payload: {}, dependsOn: [] },
        { key: 'b', type: 'art.b', payload: {}, dependsOn: [] },
      ],
    });
    await s.runs.plan(tenant, run.id);
    for (const type of ['art.a', 'art.b']) {
      const [lease] = await s.leasing.lease(worker, {
        workerId: 'w',
        types: [type],
        max: 1,
        leaseSeconds: 60,
      });
      await s.leasing.complete(worker, [
        {
          jobId: lease!.jobId,
          leaseId: lease!.leaseId,
          outcome: 'succeeded',
          artifacts: [
            { uri: `s3://b/${type}`, digest, sizeBytes: 5, mediaType: 'text/plain', kind: 'report' },
            {
              uri: `s3://b/${type}.log`,
              digest: `sha256:${type === 'art.a' ? 'd'.repeat(64) : 'e'.repeat(64)}`,
              sizeBytes: 1,
              mediaType: 'text/plain',
              kind: 'log',
            },
          ],
        },
      ]);
    }
    const first = await s.artifacts.listForRun(op, run.id, { page_size: 3 });
    expect(first.items).toHaveLength(3);
    const second = await s.artifacts.listForRun(op, run.id, {
      page_size: 3,
      page_token: first.next_page_token!,
    });
    expect(second).toMatchObject({
      items: [expect.objectContaining({ runId: run.id })],
      next_page_token: null,
    });
    const found = await s.artifacts.byDigest(op, digest.toUpperCase().replace('SHA256', 'sha256'));
    expect(found).toMatchObject({ digest, more: false });
    expect(found.registrations.map((r) => r.uri)).toEqual(['s3://b/art.a', 's3://b/art.b']);
    await expect(s.artifacts.byDigest(callAs('other-tenant'), digest)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(s.artifacts.byDigest(op, 'sha256:nothex')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      s.artifacts.listForRun(callAs('other-tenant'), run.id, { page_size: 5 }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(t.admin.query(`UPDATE artifacts SET uri = 'x' WHERE digest = $1`, [digest])).rejects.toThrow(
      /append-only/,
    );
  });
});
