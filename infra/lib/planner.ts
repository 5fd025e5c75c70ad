import type { Construct } from 'constructs';
import { maxConcurrencyWithin, QueueConsumer, type QueueConsumerProps } from './queue-consumer.ts';

/**
 * Connections one planner container holds: it plans the records of a batch one after another, each in one
 * transaction, so its pool (DB_POOL_MAX) never needs more than one.
 */
export const PLANNER_CONNECTIONS_PER_CONTAINER = 1;

/** How many planner containers may run at once without exceeding the connection budget. */
export function plannerMaxConcurrency(connectionBudget: number): number {
  return maxConcurrencyWithin('planner', connectionBudget, PLANNER_CONNECTIONS_PER_CONTAINER);
}

/** The `plan` queue consumer: expands submitted runs into jobs and edges. */
export class Planner extends QueueConsumer {
  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id, props, {
      name: 'planner',
      functionId: 'PlannerFunction',
      entry: 'functions/planner/handler.ts',
      description: 'plan queue consumer: expands submitted runs into jobs and edges',
      connectionsPerContainer: PLANNER_CONNECTIONS_PER_CONTAINER,
    });
  }
}
