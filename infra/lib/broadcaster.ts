import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import { maxConcurrencyWithin, QueueConsumer, type QueueConsumerProps } from './queue-consumer.ts';

/**
 * Connections one broadcaster container holds: the tenants of a batch are delivered side by side, each
 * reading its subscriptions' events, so a couple of connections keep it from queueing on its own pool.
 */
export const BROADCASTER_CONNECTIONS_PER_CONTAINER = 2;

/** How many broadcaster containers may run at once without exceeding the connection budget. */
export function broadcasterMaxConcurrency(connectionBudget: number): number {
  return maxConcurrencyWithin('broadcaster', connectionBudget, BROADCASTER_CONNECTIONS_PER_CONTAINER);
}

export interface BroadcasterProps extends QueueConsumerProps {
  /** the WebSocket stage whose connections it posts to (its management API) */
  readonly stage: WebSocketStage;
}

/**
 * The `fanout` queue consumer: delivers committed events to WebSocket connections through the stage's
 * management API (ADR 0008). Hints are reported one by one (`batchItemFailures`); the event source's
 * maximum concurrency keeps it inside its share of database connections. It may post to, and delete,
 * the connections of its stage only.
 */
export class Broadcaster extends QueueConsumer {
  constructor(scope: Construct, id: string, props: BroadcasterProps) {
    super(scope, id, props, {
      name: 'broadcaster',
      functionId: 'BroadcasterFunction',
      entry: 'functions/broadcaster/handler.ts',
      description: 'fanout queue consumer: delivers committed events to WebSocket connections',
      connectionsPerContainer: BROADCASTER_CONNECTIONS_PER_CONTAINER,
      // https://{api}.execute-api.{region}.amazonaws.com/{stage}: where PostToConnection goes
      environment: { WS_MANAGEMENT_ENDPOINT: props.stage.callbackUrl },
    });
    props.stage.grantManagementApiAccess(this.function);
    const stack = Stack.of(this);
    const apiLogicalId: string = stack.resolve(
      stack.getLogicalId(props.stage.api.node.defaultChild as CfnElement),
    );
    Validations.of(this.function).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${props.stage.stageName}/*/@connections/*]`,
      reason:
        'Connection ids are only known at run time; the grant is limited to the connections of this API stage.',
    });
  }
}
