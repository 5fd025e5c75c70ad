import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { TENANT_ID_PATTERN } from '../adapters/postgres/database.ts';
import { loadConfig } from '../config.ts';
import { AppError, type ErrorCode } from '../domain/errors.ts';
import { logger } from '../observability/logger.ts';
import {
  bearerToken,
  grantsTenant,
  type Principal,
  type TokenVerifier,
  tokenVerifierFromConfig,
} from './tokens.ts';

/**
 * The API Gateway Lambda authorizer (REQUEST type) of the REST API: the bearer token and the tenant it is
 * used for, checked before any function runs. The functions check both again (ADR 0009), with the same
 * verifier, so this is a first gate rather than the only one.
 *
 * Outcomes, as API Gateway maps them:
 * - no token, or a token that fails verification: `throw new Error('Unauthorized')` - 401, answered by the
 *   UNAUTHORIZED gateway response (code UNAUTHENTICATED);
 * - a valid token, but no tenant, a malformed one or one the token does not grant: a Deny policy - 403,
 *   answered by the ACCESS_DENIED gateway response with the `code` and `message` of the Deny's context;
 * - otherwise an Allow policy with the principal in its context.
 *
 * Results are cached by API Gateway keyed on the token and the tenant header, for every route of the stage,
 * so the policy names the whole stage (`.../<stage>/*`), never the one method that happened to ask first.
 */
export type RequestAuthorizer = (
  event: APIGatewayRequestAuthorizerEvent,
) => Promise<APIGatewayAuthorizerResult>;

/** What an Allow hands to the integration (`requestContext.authorizer`); API Gateway accepts strings only here. */
export interface AuthorizerAllowContext {
  subject: string;
  /** the token's scopes, space-separated and sorted */
  scopes: string;
  /** the token's `tenants` claim as JSON: an array of tenant ids, or `"*"` */
  tenants: string;
  [key: string]: string;
}

/** What a Deny hands to the ACCESS_DENIED gateway response, which renders it as the error envelope. */
export interface AuthorizerDenyContext {
  code: Extract<ErrorCode, 'TENANT_REQUIRED' | 'FORBIDDEN'>;
  /** inserted into a JSON string by the gateway response unescaped: never contains `"`, `\` or `$` */
  message: string;
  [key: string]: string;
}

/** The error API Gateway turns into 401 (any other error is a 500 AUTHORIZER_CONFIGURATION_ERROR). */
const UNAUTHORIZED = 'Unauthorized';

/**
 * `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>` → `…:<api>/<stage>/*`: every method
 * of the API's stage, because the cached decision depends on the token and tenant only.
 */
export function stageWildcardArn(methodArn: string): string {
  // the path may hold colons of its own (`/runs/abc:cancel`): only the first five separate ARN fields
  const match = /^(arn:[^:]+:execute-api:[^:]*:[^:]*):([^/:]+)\/([^/]+)\/./.exec(methodArn);
  if (!match) throw new Error(`not an execute-api method ARN: ${methodArn}`);
  const [, prefix, apiId, stage] = match;
  return `${prefix}:${apiId}/${stage}/*`;
}

export function createRequestAuthorizer(verifyToken: TokenVerifier): RequestAuthorizer {
  return async (event) => {
    const resource = stageWildcardArn(event.methodArn);
    const headers = lowerCaseHeaders(event.headers);
    const requestId = event.requestContext?.requestId;
    const token = bearerToken(headers.authorization);
    if (!token) {
      logger.info('authorizer', { requestId, decision: 'unauthorized', reason: 'no bearer token' });
      throw new Error(UNAUTHORIZED);
    }
    let principal: Principal;
    try {
      principal = await verifyToken(token);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'UNAUTHENTICATED')) throw error;
      logger.info('authorizer', { requestId, decision: 'unauthorized', reason: error.message });
      throw new Error(UNAUTHORIZED);
    }
    const tenantId = headers['x-stella-tenant'];
    const denial = tenantDenial(principal, tenantId);
    if (denial) {
      logger.info('authorizer', { requestId, decision: 'deny', subject: principal.subject, ...denial });
      return policy(principal, 'Deny', resource, denial);
    }
    logger.info('authorizer', { requestId, decision: 'allow', subject: principal.subject, tenantId });
    return policy(principal, 'Allow', resource, {
      subject: principal.subject,
      scopes: [...principal.scopes].sort().join(' '),
      tenants: JSON.stringify(principal.tenants),
    } satisfies AuthorizerAllowContext);
  };
}

/** The same tenant rules as the functions (http/api.ts), as a Deny context; undefined when granted. */
function tenantDenial(principal: Principal, tenantId: string | undefined): AuthorizerDenyContext | undefined {
  if (!tenantId) return { code: 'TENANT_REQUIRED', message: 'X-Stella-Tenant header is required' };
  // not echoed: the message is inserted into the gateway response's JSON as is
  if (!TENANT_ID_PATTERN.test(tenantId))
    return { code: 'FORBIDDEN', message: 'X-Stella-Tenant is malformed' };
  if (!grantsTenant(principal, tenantId)) {
    return { code: 'FORBIDDEN', message: `the token does not grant tenant '${tenantId}'` };
  }
  return undefined;
}

function policy(
  principal: Principal,
  effect: 'Allow' | 'Deny',
  resource: string,
  context: AuthorizerAllowContext | AuthorizerDenyContext,
): APIGatewayAuthorizerResult {
  return {
    principalId: principal.subject,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
    context,
  };
}

function lowerCaseHeaders(headers: APIGatewayRequestAuthorizerEvent['headers']): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string') lower[name.toLowerCase()] = value;
  }
  return lower;
}

let fromEnvironment: RequestAuthorizer | undefined;

/**
 * The deployed authorizer: its verifier is built from the environment on first use and kept for the
 * container's life (the remote key set is fetched once and cached by jose). A configuration error fails
 * the invocation (500) and is retried by the next one.
 */
export async function authorizeRequest(
  event: APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> {
  fromEnvironment ??= createRequestAuthorizer(tokenVerifierFromConfig(loadConfig()));
  return fromEnvironment(event);
}
