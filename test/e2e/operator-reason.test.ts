import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2e, expectEnvelope, startE2e } from './helpers.ts';

/**
 * Operator notes over HTTP (DESIGN §8): X-Stella-Operator-Reason (≤256) and X-Stella-Operator-Ticket (≤128)
 * on operator mutations are validated (400 VALIDATION_FAILED naming the header) and recorded in the data
 * of the events those mutations write.
 */
describe('operator reason and ticket over HTTP', () => {
  let e: E2e;
  const note = (reason?: string, ticket?: string) => ({
    headers: {
      ...(reason === undefined ? {} : { 'X-Stella-Operator-Reason': reason }),
      ...(ticket === undefined ? {} : { 'X-Stella-Operator-Ticket': ticket }),
    },
  });
  const createJob = async (type: string) => {
    const res = await e.call('POST', '/api/v1/jobs', { body: { type } });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json as { id: string; runId: string };
  };
  const eventData = async (eventType: string, subjectId: string) =>
    (
      await e.t.admin.query(`SELECT data FROM events WHERE event_type = $1 AND subject_id = $2`, [
        eventType,
        subjectId,
      ])
    ).rows.map((r) => r.data);
  const headerDetail = (header: string) => ({
    error: expect.objectContaining({ details: [{ path: `headers.${header}`, message: expect.any(String) }] }),
  });

  beforeAll(async () => {
    e = await startE2e({ tenant: 'ops-a' });
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('refuses a reason over 256 characters, a ticket over 128 and blank values, changing nothing', async () => {
    const job = await createJob('reason.limits');
    const cancel = (reason?: string, ticket?: string) =>
      e.call('POST', `/api/v1/runs/${job.runId}:cancel`, note(reason, ticket));

    const longReason = await cancel('r'.repeat(257));
    expectEnvelope(longReason, 400, 'VALIDATION_FAILED');
    expect(longReason.json).toMatchObject(headerDetail('X-Stella-Operator-Reason'));
    const longTicket = await cancel('fine', 't'.repeat(129));
    expectEnvelope(longTicket, 400, 'VALIDATION_FAILED');
    expect(longTicket.json).toMatchObject(headerDetail('X-Stella-Operator-Ticket'));
    expectEnvelope(await cancel('   '), 400, 'VALIDATION_FAILED');
    expectEnvelope(await cancel(undefined, ''), 400, 'VALIDATION_FAILED');
    // the same rules on every operator mutation
    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${job.id}:prioritize`, {
        ...note('p'.repeat(257)),
        body: { priority: 5 },
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${job.id}:retry`, note('ok', 't'.repeat(129))),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await e.call('POST', '/api/v1/deadletter:replay', { ...note('r'.repeat(300)), body: { dryRun: true } }),
      400,
      'VALIDATION_FAILED',
    );
    expect((await e.call('GET', `/api/v1/runs/${job.runId}`)).json).toMatchObject({ status: 'running' });
    expect((await e.call('GET', `/api/v1/jobs/${job.id}`)).json).toMatchObject({
      status: 'queued',
      priority: 0,
    });

    // exactly at the limits is fine
    const atLimits = await cancel('r'.repeat(256), 't'.repeat(128));
    expect(atLimits.status, JSON.stringify(atLimits.json)).toBe(200);
  });

  it('records the reason and ticket in the run.canceled event and on the canceled jobs', async () => {
    const job = await createJob('reason.cancel');
    const res = await e.call(
      'POST',
      `/api/v1/runs/${job.runId}:cancel`,
      note('bad upstream snapshot', 'OPS-4711'),
    );
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ status: 'canceled' });
    expect(await eventData('run.canceled', job.runId)).toEqual([
      expect.objectContaining({
        id: job.runId,
        status: 'canceled',
        reason: 'bad upstream snapshot',
        ticket: 'OPS-4711',
      }),
    ]);
    expect(await eventData('job.canceled', job.id)).toEqual([
      expect.objectContaining({ reason: 'bad upstream snapshot', ticket: 'OPS-4711' }),
    ]);
    expect((await e.call('GET', `/api/v1/jobs/${job.id}`)).json).toMatchObject({
      reason: 'bad upstream snapshot',
    });
  });

  it('takes the cancel reason from the body or the header; both must agree', async () => {
    const viaBody = await createJob('reason.body');
    const res = await e.call('POST', `/api/v1/jobs/${viaBody.id}:cancel`, {
      ...note(undefined, 'OPS-1'),
      body: { reason: 'duplicate submission' },
    });
    expect(res.json).toMatchObject({ status: 'canceled', reason: 'duplicate submission' });
    expect(await eventData('job.canceled', viaBody.id)).toEqual([
      expect.objectContaining({ reason: 'duplicate submission', ticket: 'OPS-1' }),
    ]);

    const both = await createJob('reason.both');
    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${both.id}:cancel`, {
        ...note('header says'),
        body: { reason: 'body says' },
      }),
      400,
      'VALIDATION_FAILED',
    );
    const agreeing = await e.call('POST', `/api/v1/jobs/${both.id}:cancel`, {
      ...note('same'),
      body: { reason: 'same' },
    });
    expect(agreeing.json).toMatchObject({ status: 'canceled', reason: 'same' });

    // without either, the default reason and no ticket
    const plain = await createJob('reason.none');
    await e.call('POST', `/api/v1/runs/${plain.runId}:cancel`);
    expect(await eventData('run.canceled', plain.runId)).toEqual([
      expect.objectContaining({ reason: 'canceled_by_operator', ticket: null }),
    ]);
  });

  it('records the note on prioritize, retry, dead-letter replay and discard events', async () => {
    const queued = await createJob('reason.prio');
    await e.call('POST', `/api/v1/jobs/${queued.id}:prioritize`, {
      ...note('customer escalation', 'SUP-9'),
      body: { priority: 40 },
    });
    expect(await eventData('job.prioritized', queued.id)).toEqual([
      expect.objectContaining({ priority: 40, reason: 'customer escalation', ticket: 'SUP-9' }),
    ]);
    await e.call('POST', `/api/v1/jobs/${queued.id}:retry`, note('retry now'));
    expect(await eventData('job.retry_requested', queued.id)).toEqual([
      expect.objectContaining({ reason: 'retry now', ticket: null }),
    ]);

    const deadLetter = async (type: string) => {
      const job = await e.call('POST', '/api/v1/jobs', { body: { type, retry: { maxAttempts: 1 } } });
      const leased = await e.call('POST', '/api/v1/worker/leases', {
        body: { workerId: 'w-ops', types: [type] },
      });
      const lease = leased.json.leases[0];
      await e.call('POST', `/api/v1/worker/jobs/${lease.jobId}:complete`, {
        body: { leaseId: lease.leaseId, outcome: 'failed', error: { retryable: false, errorCode: 'BROKEN' } },
      });
      const letters = await e.call('GET', `/api/v1/deadletter?job_type=${type}`);
      expect(letters.json.items).toHaveLength(1);
      return { jobId: job.json.id as string, id: letters.json.items[0].id as string };
    };

    const replayed = await deadLetter('reason.replay');
    const replay = await e.call('POST', `/api/v1/deadletter/${replayed.id}:replay`, {
      ...note('fixed the parser', 'OPS-77'),
      body: {},
    });
    expect(replay.status, JSON.stringify(replay.json)).toBe(201);
    expect(await eventData('dead_letter.replayed', replayed.id)).toEqual([
      expect.objectContaining({ reason: 'fixed the parser', ticket: 'OPS-77' }),
    ]);

    const bulk = await deadLetter('reason.bulk');
    const bulkRes = await e.call('POST', '/api/v1/deadletter:replay', {
      ...note('bulk after outage', 'INC-3'),
      body: { filter: { jobType: 'reason.bulk' }, dryRun: false },
    });
    expect(bulkRes.json).toMatchObject({ replayed: [{ deadLetterId: bulk.id }] });
    expect(await eventData('dead_letter.replayed', bulk.id)).toEqual([
      expect.objectContaining({ reason: 'bulk after outage', ticket: 'INC-3' }),
    ]);

    const discarded = await deadLetter('reason.discard');
    const discard = await e.call('POST', `/api/v1/deadletter/${discarded.id}:discard`, {
      ...note(undefined, 'OPS-78'),
      body: { reason: 'obsolete advisory' },
    });
    expect(discard.status, JSON.stringify(discard.json)).toBe(200);
    expect(await eventData('dead_letter.discarded', discarded.id)).toEqual([
      expect.objectContaining({ reason: 'obsolete advisory', ticket: 'OPS-78' }),
    ]);
  });

  it('records the note on source changes', async () => {
    const created = await e.call('POST', '/api/v1/sources', {
      ...note('onboard NVD', 'OPS-5'),
      body: { name: 'nvd', type: 'advisory.feed', upstreamHost: 'services.nvd.nist.gov' },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(await eventData('source.created', created.json.id)).toEqual([
      expect.objectContaining({ name: 'nvd', reason: 'onboard NVD', ticket: 'OPS-5' }),
    ]);
    expectEnvelope(
      await e.call('PATCH', `/api/v1/sources/${created.json.id}`, {
        ...note('x'.repeat(257)),
        body: { enabled: false },
      }),
      400,
      'VALIDATION_FAILED',
    );
  });
});
