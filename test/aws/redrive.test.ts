import { randomBytes } from 'node:crypto';
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsClient } from '../../layers/core/src/adapters/aws/clients.ts';
import { SqsDeadLetterQueue } from '../../layers/core/src/adapters/aws/sqs-dead-letter-queue.ts';
import { SqsQueue } from '../../layers/core/src/adapters/aws/sqs-queue.ts';
import type { Database } from '../../layers/core/src/adapters/postgres/database.ts';
import type { AuditRecord } from '../../layers/core/src/services/audit.ts';
import type { CallContext } from '../../layers/core/src/services/context.ts';
import { QueuesService } from '../../layers/core/src/services/queues.ts';
import { awsEmulator, createQueueWithDlq, useEmulator } from './emulator.ts';

const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

const OPERATOR: CallContext = {
  tenantId: 'acme',
  projectId: null,
  correlationId: 'corr-redrive',
  actor: { subject: 'operator', scopes: ['orch:operate'] },
  note: { reason: 'planner bug fixed', ticket: 'OPS-1' },
};

/**
 * `POST /api/v1/queues/{name}:redrive` below the HTTP layer, over real SQS: the `plan` queue and its DLQ
 * with the stack's redrive policy. moto has no StartMessageMoveTask (LocalStack has), so against moto this
 * proves the detection of the missing API and the receive/send/delete fallback end to end; against an
 * emulator that has it, the move task.
 */
describe.skipIf(awsEmulator === null)('dead-letter queue redrive against an SQS emulator', () => {
  let client: SQSClient;
  const created: string[] = [];
  let queue: SqsQueue;
  let deadLetters: SqsDeadLetterQueue;
  const audited: AuditRecord[] = [];
  let service: QueuesService;

  beforeAll(async () => {
    useEmulator(awsEmulator!);
    client = sqsClient();
    const { queueUrl, dlqUrl } = await createQueueWithDlq(client, `jobengine-${RUN}-plan`, {
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 1,
    });
    created.push(dlqUrl, queueUrl);
    queue = new SqsQueue(client, queueUrl);
    deadLetters = new SqsDeadLetterQueue(client, dlqUrl, queueUrl);
    service = new QueuesService({
      db: undefined as unknown as Database,
      queues: {
        plan: { queue, deadLetters },
        fanout: { queue, deadLetters: null, missing: 'set FANOUT_DLQ_URL' },
      },
      audit: async (_call, record) => {
        audited.push(record);
      },
    });
  });

  afterAll(async () => {
    await Promise.all(created.map((QueueUrl) => client.send(new DeleteQueueCommand({ QueueUrl }))));
    client.destroy();
  });

  /** Receives from the work queue until `count` messages arrived or 10 s passed, acknowledging them. */
  async function drain(target: SqsQueue, count: number): Promise<string[]> {
    const bodies: string[] = [];
    const deadline = Date.now() + 10_000;
    while (bodies.length < count && Date.now() < deadline) {
      const batch = await target.receive(10, 1);
      await target.ack(batch);
      bodies.push(...batch.map((m) => m.body));
    }
    return bodies;
  }

  it('counts on a dry run and moves nothing', async () => {
    const dead = Array.from({ length: 3 }, (_, i) => JSON.stringify({ tenantId: 'acme', runId: `dry-${i}` }));
    await deadLetters.sendBatch(dead);

    const result = await service.redrive(OPERATOR, 'plan', { dryRun: true });

    expect(result).toEqual({ queue: 'plan', dryRun: true, method: 'none', moved: 0, available: 3 });
    expect(audited).toEqual([]);
    expect((await drain(deadLetters, 3)).sort()).toEqual([...dead].sort());
  });

  it('moves every dead letter back to the plan queue and audits it', async () => {
    const dead = Array.from({ length: 23 }, (_, i) =>
      JSON.stringify({ tenantId: 'acme', runId: `run-${i}` }),
    );
    await deadLetters.sendBatch(dead);

    const result = await service.redrive(OPERATOR, 'plan', { dryRun: false });

    if (result.method === 'move-task') {
      // an emulator with StartMessageMoveTask (LocalStack): SQS moves them on its own
      expect(result.taskHandle).toEqual(expect.any(String));
    } else {
      // moto: StartMessageMoveTask is missing, detected, and replaced by receive/send/delete
      expect(result).toEqual({
        queue: 'plan',
        dryRun: false,
        method: 'receive-send-delete',
        moved: 23,
        available: 23,
      });
    }
    expect((await drain(queue, dead.length)).sort()).toEqual([...dead].sort());
    expect(await deadLetters.approximateSize()).toBe(0);
    expect(audited).toEqual([
      {
        action: 'queue.redrive',
        targetKind: 'queue',
        targetId: 'plan',
        before: { deadLetters: 23 },
        after: result,
      },
    ]);
  });

  it('moves at most maxMessages, oldest first as the queue hands them out, leaving the rest', async () => {
    audited.length = 0;
    const dead = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify({ tenantId: 'acme', runId: `max-${i}` }),
    );
    await deadLetters.sendBatch(dead);

    const result = await service.redrive(OPERATOR, 'plan', { dryRun: false, maxMessages: 5 });

    expect(result).toMatchObject({ method: 'receive-send-delete', moved: 5, available: 12 });
    const moved = await drain(queue, 5);
    expect(moved).toHaveLength(5);
    const left = await drain(deadLetters, 7);
    expect([...moved, ...left].sort()).toEqual([...dead].sort());
    expect(audited).toHaveLength(1);
  });

  it('answers 409 for a queue without a configured dead-letter queue and 404 for an unknown one', async () => {
    await expect(service.redrive(OPERATOR, 'fanout', { dryRun: true })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('FANOUT_DLQ_URL'),
    });
    await expect(service.redrive(OPERATOR, 'events', { dryRun: true })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
