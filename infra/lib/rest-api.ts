import { join } from 'node:path';
import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  RestApi as ApiGatewayRestApi,
  type RestApiProps as ApiGatewayRestApiProps,
  EndpointType,
  type IAuthorizer,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseTransferMode,
  ResponseType,
} from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ErrorCode } from '../../layers/core/src/domain/errors.ts';
import { JobEngineFunction, type JobEngineFunctionProps } from './job-engine-function.ts';

/** the shape of an entry of `functions/routes.ts` ROUTES */
export interface RestRoute {
  readonly method: string;
  /** API Gateway resource syntax, e.g. `/api/v1/sources/{id}` */
  readonly path: string;
  /** key of the function table */
  readonly fn: string;
  readonly authenticated: boolean;
}

/**
 * An error API Gateway answers by itself (authorizer, throttling, unknown route...), rendered as the error
 * envelope of every other error (DESIGN §8).
 */
export interface GatewayError {
  readonly type: ResponseType;
  /** @default the type's own status */
  readonly statusCode?: string;
  /** a code of `domain/errors.ts`, a gateway-only catch-all, or a `$context` variable holding one */
  readonly code: ErrorCode | 'BAD_REQUEST' | '$context.authorizer.code';
  /** the JSON string of the message: `JSON.stringify` of a fixed text, or a `$context` variable that is one */
  readonly message: string;
  /** extra headers, as gateway response parameters (`"'value'"`) */
  readonly headers?: Readonly<Record<string, string>>;
}

/** `$context.error.messageString`: API Gateway's own message, already quoted for JSON */
const GATEWAY_MESSAGE = '$context.error.messageString';

/** What API Gateway answers by itself, as JobEngine errors (ADR 0009). */
export const GATEWAY_ERRORS: readonly GatewayError[] = [
  {
    type: ResponseType.UNAUTHORIZED,
    code: 'UNAUTHENTICATED',
    message: JSON.stringify(
      'a valid bearer token (Authorization: Bearer <token>) and an X-Stella-Tenant header are required',
    ),
  },
  // the authorizer's Deny context: TENANT_REQUIRED or FORBIDDEN, and a message safe inside a JSON string
  {
    type: ResponseType.ACCESS_DENIED,
    code: '$context.authorizer.code',
    message: '"$context.authorizer.message"',
  },
  // what API Gateway answers for a path or method no route serves, as the local gateway does
  {
    type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    code: 'NOT_FOUND',
    message: JSON.stringify('no route for this method and path'),
  },
  { type: ResponseType.RESOURCE_NOT_FOUND, code: 'NOT_FOUND', message: GATEWAY_MESSAGE },
  {
    type: ResponseType.THROTTLED,
    code: 'RATE_LIMITED',
    message: GATEWAY_MESSAGE,
    headers: { 'Retry-After': "'1'" },
  },
  { type: ResponseType.QUOTA_EXCEEDED, code: 'RATE_LIMITED', message: GATEWAY_MESSAGE },
  { type: ResponseType.REQUEST_TOO_LARGE, code: 'PAYLOAD_TOO_LARGE', message: GATEWAY_MESSAGE },
  { type: ResponseType.UNSUPPORTED_MEDIA_TYPE, code: 'UNSUPPORTED_MEDIA_TYPE', message: GATEWAY_MESSAGE },
  { type: ResponseType.BAD_REQUEST_BODY, code: 'VALIDATION_FAILED', message: GATEWAY_MESSAGE },
  { type: ResponseType.BAD_REQUEST_PARAMETERS, code: 'VALIDATION_FAILED', message: GATEWAY_MESSAGE },
  { type: ResponseType.WAF_FILTERED, code: 'FORBIDDEN', message: GATEWAY_MESSAGE },
  { type: ResponseType.DEFAULT_4XX, code: 'BAD_REQUEST', message: GATEWAY_MESSAGE },
  // integration timeouts and failures, authorizer failures: a bug or an outage either way
  { type: ResponseType.DEFAULT_5XX, code: 'INTERNAL', message: GATEWAY_MESSAGE },
];

/** the `application/json` template of a gateway error: the envelope, with API Gateway's request id */
export function gatewayErrorTemplate(error: Pick<GatewayError, 'code' | 'message'>): string {
  return `{"error":{"code":"${error.code}","message":${error.message},"trace_id":"$context.requestId"}}`;
}

/** the shape of an entry of `functions/routes.ts` FUNCTIONS */
export interface RestFunction {
  /** handler file, relative to the project root */
  readonly entry: string;
  readonly description: string;
  /** a Lambda response-streaming handler (SSE): its integration streams, for up to STREAMING_TIMEOUT */
  readonly streaming?: boolean;
}

/**
 * How long a streaming response may last: API Gateway's limit for `responseTransferMode: STREAM` and
 * Lambda's maximum timeout. The handler ends the stream a little before; clients resume (ADR 0008).
 */
export const STREAMING_TIMEOUT = Duration.minutes(15);

export interface RestApiProps {
  readonly projectRoot: string;
  readonly routes: readonly RestRoute[];
  readonly functions: Readonly<Record<string, RestFunction>>;
  /** shared by every function (layer, VPC, environment...) */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
  /** overrides for streaming functions, on top of functionProps (reserved concurrency...) */
  readonly streamingFunctionProps?: Partial<JobEngineFunctionProps>;
  /**
   * Applied to every route with `authenticated: true` (the JwtAuthorizer of authorizer.ts). The handlers
   * verify the token again either way; without it they are the only check.
   */
  readonly authorizer?: IAuthorizer;
  /** what API Gateway answers by itself; @default GATEWAY_ERRORS */
  readonly gatewayErrors?: readonly GatewayError[];
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
  /** overrides for the REST API */
  readonly restApiProps?: Partial<ApiGatewayRestApiProps>;
}

/**
 * The REST API, built from the route table: one function per function-table entry, one Lambda proxy
 * integration per route. Regional endpoint, access logs, tracing and throttling on the stage; no CORS.
 */
export class RestApi extends Construct {
  readonly api: ApiGatewayRestApi;
  /** by function-table key */
  readonly functions: Readonly<Record<string, JobEngineFunction>>;

  constructor(scope: Construct, id: string, props: RestApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.api = new ApiGatewayRestApi(this, 'Api', {
      description: 'JobEngine REST API',
      endpointTypes: [EndpointType.REGIONAL],
      minCompressionSize: Size.kibibytes(1),
      // access logs need the account-level CloudWatch role; this stack owns it
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stageName ?? 'live',
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      },
      ...props.restApiProps,
    });

    for (const error of props.gatewayErrors ?? GATEWAY_ERRORS) {
      this.api.addGatewayResponse(pascalCase(error.type.responseType.toLowerCase()), {
        type: error.type,
        ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
        responseHeaders: { 'Content-Type': "'application/json'", ...error.headers },
        templates: { 'application/json': gatewayErrorTemplate(error) },
      });
    }

    const functions: Record<string, JobEngineFunction> = {};
    const integrations: Record<string, LambdaIntegration> = {};
    for (const [name, definition] of Object.entries(props.functions)) {
      const fn = new JobEngineFunction(this, `${pascalCase(name)}Function`, {
        ...props.functionProps,
        ...(definition.streaming ? streamingDefaults(props) : {}),
        entry: join(props.projectRoot, definition.entry),
        description: definition.description,
      });
      functions[name] = fn;
      // test invocations from the console would double the function's resource policy, one statement per route
      integrations[name] = new LambdaIntegration(fn, {
        proxy: true,
        allowTestInvoke: false,
        // Lambda response streaming (InvokeWithResponseStream): the body reaches the client as written
        ...(definition.streaming
          ? { responseTransferMode: ResponseTransferMode.STREAM, timeout: STREAMING_TIMEOUT }
          : {}),
      });
    }
    this.functions = functions;

    for (const route of props.routes) {
      const integration = integrations[route.fn];
      if (!integration) {
        throw new Error(
          `Route ${route.method} ${route.path} names function "${route.fn}", which is not in the table`,
        );
      }
      const authorizer = route.authenticated ? props.authorizer : undefined;
      const method = this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, integration, authorizer ? { authorizer } : {});
      if (authorizer) {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-COG4',
          reason: "Authentication uses the issuer's JWTs, checked by a Lambda authorizer, not Cognito.",
        });
      } else {
        const reason = route.authenticated
          ? 'No authorizer given (RestApiProps.authorizer): the handler verifies the bearer token itself.'
          : 'Public by design: a probe or anonymous endpoint that must answer without a token.';
        Validations.of(method).acknowledge(
          { id: 'AwsSolutions-APIG4', reason },
          { id: 'AwsSolutions-COG4', reason: `Authentication uses our own JWTs, not Cognito. ${reason}` },
        );
      }
    }

    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Handlers validate parameters and bodies with the zod schemas shared with the local runtime and the OpenAPI document; a gateway model would be a second, drifting copy.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'No WAF yet: the stage is throttled and every route but the probes authenticates; a web ACL is an edge concern added per environment.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The AWS-managed policy is the documented policy for the account-level API Gateway logging role.',
      },
    );
  }
}

/**
 * A streaming function serves one long response per container: it runs as long as the stream may last
 * and needs one database connection (it reads the event log between waits).
 */
function streamingDefaults(props: RestApiProps): Partial<JobEngineFunctionProps> {
  return {
    ...props.streamingFunctionProps,
    timeout: STREAMING_TIMEOUT,
    environment: {
      ...props.functionProps?.environment,
      ...props.streamingFunctionProps?.environment,
      DB_POOL_MAX: '1',
    },
  };
}

function pascalCase(name: string): string {
  return name.replace(/(^|[-_\s]+)(\w)/g, (_, __, letter: string) => letter.toUpperCase());
}
