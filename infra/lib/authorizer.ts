import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { IdentitySource, RequestAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { JobEngineFunction, type JobEngineFunctionProps } from './job-engine-function.ts';

/** the headers an authorization decision depends on, hence API Gateway's cache key */
export const AUTHORIZER_IDENTITY_SOURCES: readonly string[] = [
  IdentitySource.header('Authorization'),
  IdentitySource.header('X-Stella-Tenant'),
];

export interface JwtAuthorizerProps {
  readonly projectRoot: string;
  /** handler file, relative to the project root; @default 'functions/authorizer/handler.ts' */
  readonly entry?: string;
  /**
   * Layer and environment: the core layer and the token issuer's AUTH_* variables. No VPC and no database
   * variables: the authorizer verifies tokens only, and fetches a remote key set over the internet.
   */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
  /**
   * How long API Gateway keeps a decision for one token and tenant: a revoked grant or a rotated-out key
   * still passes this gate for up to this long (the functions check again). 0 disables caching, and with it
   * the identity sources, so a request without a tenant reaches the authorizer (403 TENANT_REQUIRED, as the
   * functions answer) instead of being refused by API Gateway (401).
   * @default Duration.seconds(60)
   */
  readonly resultsCacheTtl?: Duration;
}

/**
 * The REST API's Lambda authorizer (REQUEST type, ADR 0009): the bearer token and the X-Stella-Tenant it is
 * used for, checked before any function runs. Decisions are cached keyed on both headers; with caching on,
 * API Gateway answers 401 by itself when either header is missing or empty.
 */
export class JwtAuthorizer extends Construct {
  readonly function: JobEngineFunction;
  readonly authorizer: RequestAuthorizer;

  constructor(scope: Construct, id: string, props: JwtAuthorizerProps) {
    super(scope, id);
    this.function = new JobEngineFunction(this, 'AuthorizerFunction', {
      memorySize: 256,
      ...props.functionProps,
      entry: join(props.projectRoot, props.entry ?? 'functions/authorizer/handler.ts'),
      description: 'REST API authorizer: bearer JWT and X-Stella-Tenant → IAM policy',
    });
    const resultsCacheTtl = props.resultsCacheTtl ?? Duration.seconds(60);
    this.authorizer = new RequestAuthorizer(this, 'Authorizer', {
      handler: this.function,
      identitySources: resultsCacheTtl.toSeconds() === 0 ? [] : [...AUTHORIZER_IDENTITY_SOURCES],
      resultsCacheTtl,
    });
  }
}
