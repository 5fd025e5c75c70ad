import { getRuntime, logger } from '@jobengine/core';
import type { ScheduledEvent } from 'aws-lambda';

/** The minute tick (EventBridge rule `rate(1 minute)`): run every due housekeeping task once. */
export async function handler(event: ScheduledEvent) {
  const runtime = await getRuntime();
  const report = await runtime.maintenance.tick();
  logger.info('tick', { scheduledFor: event.time, ...report });
  return report;
}
