import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { TENANT_ID_PATTERN } from '../adapters/postgres/database.ts';
import { bearerToken, grantsTenant, type Principal, type Scope } from '../auth/tokens.ts';
import { AppError } from '../domain/errors.ts';
import { logger, setLogContext, withLogContext } from '../observability/logger.ts';
import { recordApiLatency } from '../observability/metrics.ts';
import { traced } from '../observability/tracing.ts';
import { getRuntime, type Runtime } from '../runtime.ts';
import type { CallContext } from '../services/context.ts';
import { errorResponse, jsonResponse } from './envelope.ts';
import { idempotencyKeyOf, idempotencyStore, idempotent, requestHash } from './idempotency.ts';
import { lowerCaseHeaders, parseJsonBody, queryParameters, validate } from './request.ts';

/** What every operation receives about the request it serves. */
export interface RequestContext {
  /** Trace id returned in error envelopes: API Gateway's request id. */
  requestId: string;
  correlationId: string;
  headers: Record<string, string>;
  runtime: Runtime;
}

export interface TenantContext extends RequestContext {
  principal: Principal;
  tenantId: string;
  projectId: string | null;
}

/** The service-facing view of a request: tenant, project, correlation id and the acting principal. */
export function callContext(ctx: TenantContext): CallContext {
  return {
    tenantId: ctx.tenantId,
    projectId: ctx.projectId,
    correlationId: ctx.correlationId,
    requestId: ctx.requestId,
    actor: { subject: ctx.principal.subject, scopes: [...ctx.principal.scopes].sort() },
  };
}

export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** A body sent as is instead of JSON (file downloads); `headers` then carries its Content-Type. */
  text?: string;
}

/** Body limit of an operation unless it sets its own (MAX_BODY_BYTES caps every operation). */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

export interface Operation<Ctx> {
  /** Scope the token must carry (authenticated APIs only). */
  scope?: Scope;
  /** Largest body this operation accepts (413 beyond); default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  body?: z.ZodType;
  query?: z.ZodType;
  handle(input: { ctx: Ctx; body: never; query: never; params: Record<string, string> }): Promise<HttpResult>;
}

/** Typed helper so each operation's body and query are inferred from its schemas. */
export function operation<
  Ctx,
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
>(spec: {
  scope?: Scope;
  maxBodyBytes?: number;
  body?: B;
  query?: Q;
  handle(input: {
    ctx: Ctx;
    body: z.output<B>;
    query: z.output<Q>;
    params: Record<string, string>;
  }): Promise<HttpResult>;
}): Operation<Ctx> {
  return spec as unknown as Operation<Ctx>;
}

/** Middlewares hand their results to the operation on the Lambda context, as middy middlewares do. */
type ApiContext = Context & {
  request?: RequestContext;
  principal?: Principal;
  startedAt?: number;
  /** The response is the kept answer to an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
  /** The tenant the request acted for, once checked. */
  tenantId?: string;
};
type ApiRequest = middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>;
type ApiMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>;

/** What every operation receives about its request: ids, lower-cased headers, the runtime. */
export async function requestContextOf(
  event: APIGatewayProxyEvent,
  awsRequestId: string,
): Promise<RequestContext> {
  const headers = lowerCaseHeaders(event);
  const requestId = event.requestContext?.requestId ?? awsRequestId;
  const correlationId = (headers['x-correlation-id'] ?? '').slice(0, 128) || requestId;
  return { requestId, correlationId, headers, runtime: await getRuntime() };
}

/** Builds the request context and logs one structured line per request with its outcome and latency. */
const requestContext = (): ApiMiddleware => ({
  before: async (request: ApiRequest) => {
    request.context.startedAt = performance.now();
    const ctx = await requestContextOf(request.event, request.context.awsRequestId);
    request.context.request = ctx;
    setLogContext({
      requestId: ctx.requestId,
      correlationId: ctx.correlationId,
      tenantId: ctx.headers['x-stella-tenant'],
    });
  },
  after: async (request: ApiRequest) => logRequest(request),
  onError: async (request: ApiRequest) => logRequest(request),
});

function logRequest(request: ApiRequest) {
  const status = request.response?.statusCode ?? 0;
  const ctx = request.context.request;
  // Fields go on the line itself, not appended to the shared logger: the local runtime serves requests
  // concurrently in one process, where appended keys would bleed into other requests' lines.
  const latencyMs = Math.round((performance.now() - (request.context.startedAt ?? 0)) * 10) / 10;
  recordApiLatency(`${request.event.httpMethod} ${request.event.resource}`, status, latencyMs);
  const fields = {
    requestId: ctx?.requestId,
    correlationId: ctx?.correlationId,
    tenantId: ctx?.headers['x-stella-tenant'],
    method: request.event.httpMethod,
    resource: request.event.resource,
    status,
    latencyMs,
    ...(request.context.replayed ? { replayed: true } : {}),
  };
  if (status >= 500) logger.error('request failed', { ...fields, error: request.error ?? undefined });
  else logger.info('request', fields);
}

/** Turns every error into the envelope; registered so it runs before requestContext's onError logs it. */
const errorEnvelope = (): ApiMiddleware => ({
  onError: async (request: ApiRequest) => {
    const traceId = request.context.request?.requestId ?? request.context.awsRequestId ?? 'unknown';
    request.response = errorResponse(request.error, traceId);
  },
});

/** Bearer JWT → principal (401 on any failure). */
export async function authenticate(ctx: RequestContext): Promise<Principal> {
  const token = bearerToken(ctx.headers.authorization);
  if (!token) throw new AppError('UNAUTHENTICATED', 'Authorization: Bearer <token> is required');
  return ctx.runtime.verifyToken(token);
}

const authentication = (): ApiMiddleware => ({
  before: async (request: ApiRequest) => {
    request.context.principal = await authenticate(request.context.request!);
  },
});

/**
 * After a successful mutation, a fanout hint for its tenant: the one place REST writes reach the
 * WebSocket broadcaster (docs/adr/0008-event-stream.md). A hint that cannot be sent never fails the
 * request - the change is committed, and the tick's sweep delivers it.
 */
const fanoutHint = (): ApiMiddleware => ({
  after: async (request: ApiRequest) => {
    const { tenantId } = request.context;
    const status = request.response?.statusCode ?? 500;
    if (tenantId === undefined || request.event.httpMethod === 'GET' || status >= 400) return;
    try {
      await request.context.request!.runtime.fanout.hint([tenantId]);
    } catch (error) {
      logger.warn('fanout hint failed', { tenantId, error: error as Error });
    }
  },
});

/** X-Stella-Tenant is required (403 TENANT_REQUIRED) and must be granted by the token. */
export function tenantContext(ctx: RequestContext, principal: Principal): TenantContext {
  const tenantId = ctx.headers['x-stella-tenant'];
  if (!tenantId) throw new AppError('TENANT_REQUIRED', 'X-Stella-Tenant header is required');
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    throw new AppError('VALIDATION_FAILED', 'X-Stella-Tenant must match ^[a-z0-9][a-z0-9_-]{0,62}$');
  }
  if (!grantsTenant(principal, tenantId)) {
    throw new AppError('FORBIDDEN', `the token does not grant tenant '${tenantId}'`);
  }
  const projectId = ctx.headers['x-stella-project'] ?? null;
  if (projectId !== null && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(projectId)) {
    throw new AppError('VALIDATION_FAILED', 'X-Stella-Project is malformed');
  }
  return { ...ctx, principal, tenantId, projectId };
}

/** 403 unless the token carries the operation's scope. */
export function requireScope(ctx: TenantContext, scope: Scope | undefined): void {
  if (scope && !ctx.principal.scopes.has(scope)) {
    throw new AppError('FORBIDDEN', `this operation requires scope '${scope}'`);
  }
}

/**
 * Finds the operation for an event. Custom methods (`POST /sources/{id}:pause`) reach API Gateway as the
 * resource `/sources/{id}` with id `abc:pause`; they are matched as `POST /sources/{id}:pause` with id `abc`.
 */
export function resolveOperation<Op>(
  operations: Record<string, Op>,
  event: APIGatewayProxyEvent,
): { op: Op; route: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    if (typeof value === 'string') params[name] = value;
  }
  let key = `${event.httpMethod} ${event.resource}`;
  const lastParam = /\{(\w+)\}$/.exec(event.resource)?.[1];
  const raw = lastParam ? params[lastParam] : undefined;
  if (lastParam && raw?.includes(':')) {
    const [id, verb] = [raw.slice(0, raw.indexOf(':')), raw.slice(raw.indexOf(':') + 1)];
    key = `${key}:${verb}`;
    params[lastParam] = id;
  }
  const op = operations[key];
  if (op) return { op, route: key, params };
  // A colon that names no custom method is part of the value (`/artifacts/sha256:…`); one that names a
  // custom method of another HTTP method (PATCH …/{id}:pause) is a 405 below, not the plain route.
  const plain = `${event.httpMethod} ${event.resource}`;
  const path = key.slice(key.indexOf(' ') + 1);
  const namesCustomMethod = Object.keys(operations).some((c) => c.slice(c.indexOf(' ') + 1) === path);
  if (lastParam && raw !== undefined && operations[plain] && key !== plain && !namesCustomMethod) {
    params[lastParam] = raw;
    return { op: operations[plain], route: plain, params };
  }
  const allowed = Object.keys(operations)
    .filter((candidate) => candidate.slice(candidate.indexOf(' ') + 1) === key.slice(key.indexOf(' ') + 1))
    .map((candidate) => candidate.slice(0, candidate.indexOf(' ')));
  if (allowed.length > 0) {
    throw new AppError('METHOD_NOT_ALLOWED', `${event.httpMethod} is not allowed here`, [], {
      headers: { Allow: allowed.join(', ') },
    });
  }
  throw new AppError('NOT_FOUND', `no route for ${event.httpMethod} ${event.path}`);
}

async function invoke<Ctx>(
  op: Operation<Ctx>,
  ctx: Ctx & RequestContext,
  event: APIGatewayProxyEvent,
  params: Record<string, string>,
) {
  const limit = Math.min(op.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, ctx.runtime.config.MAX_BODY_BYTES);
  const rawBody = parseJsonBody(event, ctx.headers, limit);
  if (!op.body && rawBody !== undefined)
    throw new AppError('VALIDATION_FAILED', 'this operation takes no body');
  const body = op.body ? validate(op.body, rawBody ?? {}, 'request body') : undefined;
  const rawQuery = queryParameters(event);
  if (!op.query && Object.keys(rawQuery).length > 0) {
    throw new AppError('VALIDATION_FAILED', 'this operation takes no query parameters');
  }
  const query = op.query ? validate(op.query, rawQuery, 'query parameters') : undefined;
  const result = await op.handle({ ctx, body: body as never, query: query as never, params });
  if (result.text !== undefined)
    return { statusCode: result.status, headers: result.headers ?? {}, body: result.text };
  return jsonResponse(result.status, result.body, result.headers);
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * An authenticated, tenant-scoped REST function. The middleware order (the onion) lives here only:
 * requestContext, errorEnvelope, authentication, fanoutHint (after a mutation); then tenant and scope
 * checks, Idempotency-Key (POST), validation, the operation.
 *
 * Idempotency sits after the scope check, so only a caller allowed to run the operation sees its kept
 * answer and credential errors are never kept; and before validation, so a replay answers what the first
 * request was answered (not a re-validation against today's state) and an invalid body is kept as its 4xx.
 */
export function tenantApi(operations: Record<string, Operation<TenantContext>>): ApiHandler {
  return observed(
    middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>()
      .use(requestContext())
      .use(errorEnvelope())
      .use(authentication())
      .use(fanoutHint())
      .handler(async (event, context) => {
        const { op, route, params } = resolveOperation(operations, event);
        const ctx = tenantContext(context.request!, context.principal!);
        requireScope(ctx, op.scope);
        context.tenantId = ctx.tenantId;
        const key = event.httpMethod === 'POST' ? idempotencyKeyOf(ctx.headers) : undefined;
        if (key === undefined) return invoke(op, ctx, event, params);
        const { runtime } = ctx;
        const { response, replayed } = await idempotent(
          {
            store: idempotencyStore(runtime.db),
            clock: runtime.clock,
            ttlHours: runtime.config.IDEMPOTENCY_TTL_HOURS,
          },
          { tenantId: ctx.tenantId, route, key },
          requestHash({ method: event.httpMethod, route, params, event, projectId: ctx.projectId }),
          ctx.requestId,
          () => invoke(op, ctx, event, params),
        );
        context.replayed = replayed;
        return response;
      }) as unknown as ApiHandler,
  );
}

/** An unauthenticated function (health probes): same envelope and logging, no token. */
export function publicApi(operations: Record<string, Operation<RequestContext>>): ApiHandler {
  return observed(
    middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>()
      .use(requestContext())
      .use(errorEnvelope())
      .handler(async (event, context) => {
        const { op, params } = resolveOperation(operations, event);
        return invoke(op, context.request!, event, params);
      }) as unknown as ApiHandler,
  );
}

/**
 * Every request in its own log context (tenant, correlation and request ids on each line, see
 * observability/logger.ts) and, on Lambda, its own trace subsegment annotated with route and tenant.
 */
function observed(handler: ApiHandler): ApiHandler {
  return (event, context) =>
    withLogContext(() =>
      traced(
        `${event.httpMethod} ${event.resource}`,
        () => ({
          route: `${event.httpMethod} ${event.resource}`,
          tenantId: lowerCaseHeaders(event)['x-stella-tenant'],
        }),
        () => handler(event, context),
      ),
    );
}
