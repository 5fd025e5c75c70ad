import type { Context } from 'aws-lambda';
import { TENANT_ID_PATTERN } from '../adapters/postgres/database.ts';
import { WebSocketMessage } from '../api/streams.ts';
import { bearerToken, grantsTenant } from '../auth/tokens.ts';
import { AppError } from '../domain/errors.ts';
import { logger } from '../observability/logger.ts';
import { getRuntime } from '../runtime.ts';
import { validate } from './request.ts';

/** The fields of an API Gateway WebSocket event that the handlers use. */
export interface WebSocketEvent {
  requestContext: { connectionId: string; routeKey: string; requestId?: string };
  headers?: Record<string, string | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  body?: string | null;
}

export interface WebSocketResult {
  statusCode: number;
  body?: string;
}

function errorBody(error: unknown, requestId: string): WebSocketResult {
  const app = error instanceof AppError ? error : new AppError('INTERNAL', 'internal error');
  if (!(error instanceof AppError)) logger.error('websocket handler failed', { error: error as Error });
  return {
    statusCode: app.status,
    body: JSON.stringify({
      type: 'error',
      error: { code: app.code, message: app.message, trace_id: requestId },
    }),
  };
}

function header(event: WebSocketEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * $connect: browsers cannot set headers on a WebSocket, so the token and tenant may also come as the
 * `token` and `tenant` query parameters. A refused connection answers 401/403 and is not stored.
 */
export async function handleConnect(event: WebSocketEvent, context: Context): Promise<WebSocketResult> {
  const requestId = event.requestContext.requestId ?? context.awsRequestId;
  try {
    const runtime = await getRuntime();
    const bearer = bearerToken(header(event, 'authorization'));
    const token = bearer ?? event.queryStringParameters?.token;
    if (!token)
      throw new AppError('UNAUTHENTICATED', 'a token is required (Authorization header or ?token=)');
    const principal = await runtime.verifyToken(token);
    const tenantId = header(event, 'x-stella-tenant') ?? event.queryStringParameters?.tenant;
    if (!tenantId) throw new AppError('TENANT_REQUIRED', 'X-Stella-Tenant header or ?tenant= is required');
    if (!TENANT_ID_PATTERN.test(tenantId) || !grantsTenant(principal, tenantId)) {
      throw new AppError('FORBIDDEN', `the token does not grant tenant '${tenantId}'`);
    }
    if (!principal.scopes.has('orch:read'))
      throw new AppError('FORBIDDEN', "streaming requires scope 'orch:read'");
    const projectId = header(event, 'x-stella-project') ?? event.queryStringParameters?.project ?? null;
    await runtime.connections.connect(event.requestContext.connectionId, tenantId, projectId, principal);
    return { statusCode: 200 };
  } catch (error) {
    return errorBody(error, requestId);
  }
}

export async function handleDisconnect(event: WebSocketEvent): Promise<WebSocketResult> {
  const runtime = await getRuntime();
  await runtime.connections.disconnect(event.requestContext.connectionId);
  return { statusCode: 200 };
}

/** $default: subscribe / unsubscribe / ping; the reply is the route response. */
export async function handleMessage(event: WebSocketEvent, context: Context): Promise<WebSocketResult> {
  const requestId = event.requestContext.requestId ?? context.awsRequestId;
  try {
    const runtime = await getRuntime();
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.body ?? '');
    } catch {
      throw new AppError('INVALID_JSON', 'message is not valid JSON');
    }
    const message = validate(WebSocketMessage, parsed, 'message');
    const reply = await runtime.connections.handle(event.requestContext.connectionId, message);
    return { statusCode: 200, body: JSON.stringify(reply) };
  } catch (error) {
    return errorBody(error, requestId);
  }
}
