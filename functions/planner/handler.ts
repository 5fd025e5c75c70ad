import { getRuntime, logger, type PlanMessage } from '@jobengine/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * SQS `plan` consumer: expands each submitted run into jobs and edges. Planning is idempotent, so a
 * redelivered message changes nothing; a message that fails (database down) is reported as a batch item
 * failure and retried by SQS, then dead-lettered. A malformed message is dropped with an error log: no
 * retry can fix it, and the tick re-plans any run left in `planning`. Tenants with newly planned runs get
 * a fanout hint.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const runtime = await getRuntime();
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  const planned = new Set<string>();
  for (const record of event.Records) {
    let message: PlanMessage;
    try {
      message = JSON.parse(record.body) as PlanMessage;
      if (typeof message.tenantId !== 'string' || typeof message.runId !== 'string')
        throw new Error('missing tenantId/runId');
    } catch (error) {
      logger.error('dropping malformed plan message', { messageId: record.messageId, error: error as Error });
      continue;
    }
    try {
      const outcome = await runtime.runs.plan(message.tenantId, message.runId);
      if (outcome === 'planned') planned.add(message.tenantId);
      logger.info('plan', { ...message, outcome, receiveCount: record.attributes.ApproximateReceiveCount });
    } catch (error) {
      logger.error('planning failed', { ...message, error: error as Error });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  // Planning writes the jobs' first events: the broadcaster delivers them (docs/adr/0008-event-stream.md).
  await runtime.fanout.hint(planned);
  return { batchItemFailures: failures };
}
