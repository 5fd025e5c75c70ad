import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  LogLevel,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * ESM bundles still contain CommonJS dependencies that call `require`; esbuild leaves those calls to a
 * `require` in scope, so every bundle (functions and the core layer) defines one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** provided at run time: the SDK by the Lambda runtime, the core (and its dependencies) by the core layer */
export const RUNTIME_PROVIDED_MODULES = ['@aws-sdk/*', '@jobengine/core'];

export interface JobEngineFunctionProps extends NodejsFunctionProps {
  /** handler file, absolute or relative to the working directory; it exports `handler` */
  readonly entry: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logGroupRetention?: RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logGroupRemovalPolicy?: RemovalPolicy;
}

/**
 * A Node.js function with the house defaults: nodejs22.x on arm64, JSON logs into a log group with a
 * retention, active tracing, source-mapped stack traces, and a thin ESM bundle built by the local esbuild
 * (the core and its dependencies come from the core layer). Every default can be overridden by a prop.
 */
export class JobEngineFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: JobEngineFunctionProps) {
    const { logGroupRetention, logGroupRemovalPolicy, environment, bundling, ...functionProps } = props;
    // a sibling, not a child: the function takes it as a prop, so it must exist before `super`
    const logGroup =
      functionProps.logGroup ??
      new LogGroup(scope, `${id}LogGroup`, {
        retention: logGroupRetention ?? RetentionDays.ONE_MONTH,
        removalPolicy: logGroupRemovalPolicy ?? RemovalPolicy.DESTROY,
      });
    super(scope, id, {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      loggingFormat: LoggingFormat.JSON,
      tracing: Tracing.ACTIVE,
      logGroup,
      ...functionProps,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...environment },
      bundling: { ...DEFAULT_BUNDLING, ...bundling },
    });

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason:
          'Pinned to nodejs22.x, the Node.js the project develops and tests on (the node@22 devDependency); the runtime moves with it, deliberately.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS-managed policy grants exactly the CloudWatch Logs writes a function needs.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray trace segments cannot be scoped to a resource: PutTraceSegments and PutTelemetryRecords only accept "*".',
      },
    );
    if (functionProps.vpc) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'The AWS-managed policy grants exactly the ENI management a function in a VPC needs.',
      });
    }
  }
}

const DEFAULT_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  sourceMap: true,
  sourcesContent: false,
  minify: false,
  logLevel: LogLevel.WARNING,
  externalModules: RUNTIME_PROVIDED_MODULES,
  // bundle with the esbuild from node_modules: no Docker on developer machines or in CI
  forceDockerBundling: false,
};
