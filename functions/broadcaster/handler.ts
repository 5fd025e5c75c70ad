import { type FanoutMessage, getRuntime, logger } from '@jobengine/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** Time kept back from the function's timeout: delivery passes stop starting before it. */
const DEADLINE_MARGIN_MS = 5_000;

/**
 * SQS `fanout` consumer: each message names a tenant whose stream may have moved; the broadcaster
 * delivers what is new to the tenant's WebSocket connections. Hints for one tenant in a batch are
 * delivered once, tenants side by side. A tenant whose delivery fails (database down) has its messages reported as batch item
 * failures; one cut short by the deadline is hinted again rather than waiting for a redelivery.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const runtime = await getRuntime();
  const deadline = new Date(
    runtime.clock.now().getTime() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
  );
  const byTenant = new Map<string, string[]>();
  for (const record of event.Records) {
    let message: FanoutMessage;
    try {
      message = JSON.parse(record.body) as FanoutMessage;
      if (typeof message.tenantId !== 'string') throw new Error('missing tenantId');
    } catch (error) {
      logger.error('dropping malformed fanout message', {
        messageId: record.messageId,
        error: error as Error,
      });
      continue;
    }
    byTenant.set(message.tenantId, [...(byTenant.get(message.tenantId) ?? []), record.messageId]);
  }
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  const unfinished: string[] = [];
  // Tenants are independent: deliver them side by side.
  await Promise.all(
    [...byTenant].map(async ([tenantId, messageIds]) => {
      try {
        const report = await runtime.broadcaster.deliver(tenantId, deadline);
        if (!report.complete) unfinished.push(tenantId);
        if (report.messages > 0 || report.gone > 0 || report.failed > 0)
          logger.info('delivered', { ...report });
      } catch (error) {
        logger.error('delivery failed', { tenantId, error: error as Error });
        failures.push(...messageIds.map((itemIdentifier) => ({ itemIdentifier })));
      }
    }),
  );
  await runtime.fanout.hint(unfinished);
  return { batchItemFailures: failures };
}
