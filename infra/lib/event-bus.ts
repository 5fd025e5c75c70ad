import { EventBus, type EventBusProps } from 'aws-cdk-lib/aws-events';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * The bus JobEngine publishes its domain events to (DESIGN §4, §9; events/README.md): source
 * `stellaops.jobengine`, detail-type = event type, detail = the `orch.event.v1` envelope. Other services
 * subscribe with rules of their own. A publisher gets `environment` (the core's EVENT_BUS_NAME) and
 * `grantPublish`, which allows events:PutEvents on this bus and nothing else.
 */
export class DomainEventBus extends EventBus {
  constructor(scope: Construct, id: string, props: EventBusProps = {}) {
    super(scope, id, { description: 'JobEngine domain events (orch.event.v1)', ...props });
  }

  /** the variable the core finds the bus by */
  get environment(): Record<string, string> {
    return { EVENT_BUS_NAME: this.eventBusName };
  }

  /** events:PutEvents on this bus, and the bus name in the function's environment */
  grantPublish(publisher: IGrantable & { addEnvironment(key: string, value: string): unknown }): void {
    this.grantPutEventsTo(publisher);
    for (const [key, value] of Object.entries(this.environment)) publisher.addEnvironment(key, value);
  }
}
