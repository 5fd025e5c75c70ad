import { join } from 'node:path';
import { type CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  WebSocketApi as ApiGatewayWebSocketApi,
  type WebSocketApiProps as ApiGatewayWebSocketApiProps,
  LogGroupLogDestination,
  WebSocketStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { JobEngineFunction, type JobEngineFunctionProps } from './job-engine-function.ts';

export type WebSocketRouteName = 'connect' | 'disconnect' | 'default';

/** handler files, relative to the project root, for the `$connect`, `$disconnect` and `$default` routes */
export const WEBSOCKET_HANDLERS: Readonly<Record<WebSocketRouteName, string>> = {
  connect: 'functions/ws/connect.ts',
  disconnect: 'functions/ws/disconnect.ts',
  default: 'functions/ws/default.ts',
};

/** the standard REST fields say little about WebSocket traffic: log the connection, event and route instead */
const WEBSOCKET_ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    connectionId: '$context.connectionId',
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    status: '$context.status',
    integrationError: '$context.integration.error',
  }),
);

export interface WebSocketApiProps {
  readonly projectRoot: string;
  /** @default WEBSOCKET_HANDLERS */
  readonly handlers?: Readonly<Record<WebSocketRouteName, string>>;
  /** shared by every function (layer, VPC, environment...) */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
  /** @default 'live' */
  readonly stageName?: string;
  /** @default 50 */
  readonly throttlingRateLimit?: number;
  /** @default 100 */
  readonly throttlingBurstLimit?: number;
  /** of the access log group; @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** of the access log group; @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** overrides for the WebSocket API */
  readonly webSocketApiProps?: Partial<ApiGatewayWebSocketApiProps>;
}

/**
 * The live-event WebSocket API: `$connect`, `$disconnect` and `$default` routes on Lambda functions, one
 * auto-deployed stage with access logs and throttling. The `$default` function may post to connections.
 */
export class WebSocketApi extends Construct {
  readonly api: ApiGatewayWebSocketApi;
  readonly stage: WebSocketStage;
  readonly functions: Readonly<Record<WebSocketRouteName, JobEngineFunction>>;

  constructor(scope: Construct, id: string, props: WebSocketApiProps) {
    super(scope, id);
    const handlers = props.handlers ?? WEBSOCKET_HANDLERS;
    const fn = (name: WebSocketRouteName, description: string) =>
      new JobEngineFunction(this, `${name[0]?.toUpperCase()}${name.slice(1)}Function`, {
        ...props.functionProps,
        entry: join(props.projectRoot, handlers[name]),
        description,
      });
    this.functions = {
      connect: fn('connect', 'WebSocket $connect: authenticate and store the connection'),
      disconnect: fn('disconnect', 'WebSocket $disconnect: forget the connection'),
      default: fn('default', 'WebSocket $default: subscribe, unsubscribe, resume, ping'),
    };
    const integration = (name: WebSocketRouteName) =>
      new WebSocketLambdaIntegration(`${name}Integration`, this.functions[name]);

    this.api = new ApiGatewayWebSocketApi(this, 'Api', {
      description: 'JobEngine live events',
      connectRouteOptions: { integration: integration('connect') },
      disconnectRouteOptions: { integration: integration('disconnect') },
      defaultRouteOptions: { integration: integration('default') },
      ...props.webSocketApiProps,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'live',
      autoDeploy: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: WEBSOCKET_ACCESS_LOG_FORMAT,
      },
      throttle: {
        rateLimit: props.throttlingRateLimit ?? 50,
        burstLimit: props.throttlingBurstLimit ?? 100,
      },
    });
    // replies (pong, resume batches) go back through the management API; scoped to this stage
    this.stage.grantManagementApiAccess(this.functions.default);
    const stack = Stack.of(this);
    const apiLogicalId: string = stack.resolve(stack.getLogicalId(this.api.node.defaultChild as CfnElement));
    Validations.of(this.functions.default).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${this.stage.stageName}/*/@connections/*]`,
      reason:
        'Connection ids are only known at run time; the grant is limited to the connections of this API stage.',
    });

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Browsers cannot send headers on a WebSocket upgrade, so $connect verifies the bearer token (header or ?token=) in its handler until the JWT Lambda authorizer lands; the other routes only serve connections $connect accepted.',
    });
  }

  /** the wss:// URL of the stage */
  get url(): string {
    return this.stage.url;
  }
}
