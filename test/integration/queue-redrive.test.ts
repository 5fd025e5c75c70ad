import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryQueue } from '../../layers/core/src/adapters/in-process/memory-queue.ts';
import { QueuesService } from '../../layers/core/src/services/queues.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { callAs } from '../support/services.ts';

/**
 * Redrive of the in-process queues (what `npm start` runs): the same semantics as SQS without a move task
 * - receive, send back, acknowledge - and one audit entry per redrive in the caller's tenant chain.
 */
describe('queue redrive (in-process queues)', () => {
  let t: TestDatabase;
  let plan: MemoryQueue;
  let planDeadLetters: MemoryQueue;
  let service: QueuesService;

  beforeAll(async () => {
    t = await createTestDatabase();
    planDeadLetters = new MemoryQueue();
    plan = new MemoryQueue({ redrive: { maxReceiveCount: 1, deadLetterQueue: planDeadLetters } });
    service = new QueuesService({
      db: t.db,
      queues: {
        plan: { queue: plan, deadLetters: planDeadLetters },
        fanout: { queue: new MemoryQueue(), deadLetters: null, missing: 'set FANOUT_DLQ_URL' },
      },
    });
  });
  afterAll(async () => {
    plan.close();
    planDeadLetters.close();
    await t.drop();
  });

  const operator = { ...callAs('acme', 'ops'), note: { reason: 'planner fixed', ticket: 'OPS-9' } };

  it('moves dead-lettered messages back, bounded by maxMessages, and audits each redrive with its reason', async () => {
    // three messages that were received once and never acknowledged: the next delivery dead-letters them
    await plan.sendBatch(['{"runId":"a"}', '{"runId":"b"}', '{"runId":"c"}']);
    await plan.receive(10, 0);
    // force the redelivery that moves them (visibility 30 s: move the clock by hand)
    const realNow = Date.now;
    Date.now = () => realNow() + 31_000;
    try {
      expect(await plan.receive(10, 0)).toEqual([]);
    } finally {
      Date.now = realNow;
    }
    expect(await planDeadLetters.approximateSize()).toBe(3);

    expect(await service.redrive(operator, 'plan', { dryRun: true })).toEqual({
      queue: 'plan',
      dryRun: true,
      method: 'none',
      moved: 0,
      available: 3,
    });
    const first = await service.redrive(operator, 'plan', { dryRun: false, maxMessages: 2 });
    expect(first).toEqual({
      queue: 'plan',
      dryRun: false,
      method: 'receive-send-delete',
      moved: 2,
      available: 3,
    });
    const rest = await service.redrive(operator, 'plan', { dryRun: false });
    expect(rest).toMatchObject({ method: 'receive-send-delete', moved: 1, available: 1 });
    const back = await plan.receive(10, 0);
    expect(back.map((m) => m.body).sort()).toEqual(['{"runId":"a"}', '{"runId":"b"}', '{"runId":"c"}']);
    expect(await planDeadLetters.approximateSize()).toBe(0);

    const { rows } = await t.admin.query(
      `SELECT action, target_kind, target_id, reason, ticket, actor_subject FROM audit_log
        WHERE tenant_id = 'acme' ORDER BY position`,
    );
    expect(rows).toEqual([
      {
        action: 'queue.redrive',
        target_kind: 'queue',
        target_id: 'plan',
        reason: 'planner fixed',
        ticket: 'OPS-9',
        actor_subject: 'ops',
      },
      {
        action: 'queue.redrive',
        target_kind: 'queue',
        target_id: 'plan',
        reason: 'planner fixed',
        ticket: 'OPS-9',
        actor_subject: 'ops',
      },
    ]);
  });

  it('says why a queue cannot be redriven: 409 without a dead-letter queue, 404 for an unknown name', async () => {
    await expect(service.redrive(operator, 'fanout', { dryRun: false })).rejects.toMatchObject({
      code: 'CONFLICT',
      status: 409,
    });
    await expect(service.redrive(operator, 'nope', { dryRun: false })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
    });
  });
});
