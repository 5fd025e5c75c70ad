import { join } from 'node:path';
import { RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  RestApi as ApiGatewayRestApi,
  type RestApiProps as ApiGatewayRestApiProps,
  EndpointType,
  type IAuthorizer,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
} from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
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

/** the shape of an entry of `functions/routes.ts` FUNCTIONS */
export interface RestFunction {
  /** handler file, relative to the project root */
  readonly entry: string;
  readonly description: string;
}

export interface RestApiProps {
  readonly projectRoot: string;
  readonly routes: readonly RestRoute[];
  readonly functions: Readonly<Record<string, RestFunction>>;
  /** shared by every function (layer, VPC, environment...) */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
  /**
   * Applied to every route with `authenticated: true`. Until the JWT Lambda authorizer lands, it is absent
   * and the handlers of authenticated routes verify the token themselves.
   */
  readonly authorizer?: IAuthorizer;
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

    const functions: Record<string, JobEngineFunction> = {};
    const integrations: Record<string, LambdaIntegration> = {};
    for (const [name, definition] of Object.entries(props.functions)) {
      const fn = new JobEngineFunction(this, `${pascalCase(name)}Function`, {
        ...props.functionProps,
        entry: join(props.projectRoot, definition.entry),
        description: definition.description,
      });
      functions[name] = fn;
      // test invocations from the console would double the function's resource policy, one statement per route
      integrations[name] = new LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
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
      if (!authorizer) {
        const reason = route.authenticated
          ? 'Until the JWT Lambda authorizer is plugged in (RestApiProps.authorizer), the handler verifies the bearer token itself.'
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

function pascalCase(name: string): string {
  return name.replace(/(^|[-_\s]+)(\w)/g, (_, __, letter: string) => letter.toUpperCase());
}
