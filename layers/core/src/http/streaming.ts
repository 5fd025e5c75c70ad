import type { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Scope } from '../auth/tokens.ts';
import { AppError } from '../domain/errors.ts';
import { logger } from '../observability/logger.ts';
import {
  authenticate,
  type HttpResult,
  type RequestContext,
  requestContextOf,
  requireScope,
  resolveOperation,
  type TenantContext,
  tenantContext,
} from './api.ts';
import { errorResponse, jsonResponse } from './envelope.ts';
import { queryParameters, validate } from './request.ts';

/**
 * Lambda response streaming (API Gateway REST with `responseTransferMode: STREAM`, docs/adr/0008). On
 * Lambda the runtime provides the global `awslambda`; elsewhere (the local runtime, tests) these helpers
 * produce the same wire format - a JSON metadata prelude, eight NUL bytes, then the body - which the local
 * gateway parses exactly as API Gateway does.
 */
interface LambdaStreamingRuntime {
  streamifyResponse(handler: StreamingHandler): StreamingHandler;
  HttpResponseStream: {
    from(stream: Writable, metadata: ResponseMetadata): Writable;
  };
}

/** The symbol the Lambda runtime marks streaming handlers with. */
export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

export type ResponseStream = Writable & { setContentType?(contentType: string): void };
export type StreamingHandler = (
  event: APIGatewayProxyEvent,
  responseStream: ResponseStream,
  context: Context,
) => Promise<void>;

export interface ResponseMetadata {
  statusCode: number;
  headers?: Record<string, string>;
}

/** The Lambda runtime's streaming API, when running on Lambda (other packages may define `awslambda` too). */
function lambdaRuntime(): LambdaStreamingRuntime | undefined {
  const candidate = (globalThis as unknown as { awslambda?: Partial<LambdaStreamingRuntime> }).awslambda;
  return typeof candidate?.streamifyResponse === 'function' && candidate.HttpResponseStream
    ? (candidate as LambdaStreamingRuntime)
    : undefined;
}

/** Marks a handler as streaming: `awslambda.streamifyResponse` on Lambda, the same marker elsewhere. */
export function streamifyResponse(handler: StreamingHandler): StreamingHandler {
  const runtime = lambdaRuntime();
  if (runtime) return runtime.streamifyResponse(handler);
  return Object.assign(handler, { [HANDLER_STREAMING]: 'response' });
}

export function isStreamingHandler(handler: unknown): handler is StreamingHandler {
  return (
    typeof handler === 'function' &&
    (handler as unknown as Record<symbol, unknown>)[HANDLER_STREAMING] === 'response'
  );
}

/** Writes the status and headers (the metadata prelude); the returned stream takes the body. */
export function httpResponseStream(stream: ResponseStream, metadata: ResponseMetadata): Writable {
  const runtime = lambdaRuntime();
  if (runtime) return runtime.HttpResponseStream.from(stream, metadata);
  stream.setContentType?.(HTTP_INTEGRATION_CONTENT_TYPE);
  stream.write(JSON.stringify(metadata));
  stream.write(new Uint8Array(8));
  return stream;
}

/** Where a streaming operation writes: each write resolves once accepted or once the client is gone. */
export interface StreamSink {
  write(text: string): Promise<void>;
  /** Aborts when the client disconnects, a write fails, or the function nears its timeout. */
  readonly signal: AbortSignal;
}

/** A response whose body is written over time. */
export interface StreamingResult {
  status: number;
  headers: Record<string, string>;
  stream(sink: StreamSink): Promise<void>;
}

export interface StreamingOperation<Ctx> {
  scope?: Scope;
  query?: z.ZodType;
  handle(input: {
    ctx: Ctx;
    query: never;
    params: Record<string, string>;
  }): Promise<HttpResult | StreamingResult>;
}

/** Typed helper, as `operation` is for buffered operations. */
export function streamingOperation<Ctx, Q extends z.ZodType = z.ZodUndefined>(spec: {
  scope?: Scope;
  query?: Q;
  handle(input: {
    ctx: Ctx;
    query: z.output<Q>;
    params: Record<string, string>;
  }): Promise<HttpResult | StreamingResult>;
}): StreamingOperation<Ctx> {
  return spec as unknown as StreamingOperation<Ctx>;
}

/** A stream ends this long before the function's timeout, so it closes cleanly and the client resumes. */
const END_BEFORE_TIMEOUT_MS = 5_000;

/**
 * An authenticated, tenant-scoped function whose operations may stream (SSE). It bypasses the JSON
 * middleware stack but applies the same checks in the same order - authentication, route, tenant, scope,
 * query validation - with the same functions (http/api.ts), and answers errors with the same envelope.
 * It takes no bodies: streaming routes are GETs.
 */
export function streamingTenantApi(
  operations: Record<string, StreamingOperation<TenantContext>>,
): StreamingHandler {
  return streamifyResponse(async (event, responseStream, context) => {
    const started = performance.now();
    let request: RequestContext | undefined;
    let tenantId: string | undefined;
    let status: number;
    try {
      request = await requestContextOf(event, context.awsRequestId);
      const principal = await authenticate(request);
      const { op, params } = resolveOperation(operations, event);
      const ctx = tenantContext(request, principal);
      tenantId = ctx.tenantId;
      requireScope(ctx, op.scope);
      if (event.body) throw new AppError('VALIDATION_FAILED', 'this operation takes no body');
      const rawQuery = queryParameters(event);
      if (!op.query && Object.keys(rawQuery).length > 0) {
        throw new AppError('VALIDATION_FAILED', 'this operation takes no query parameters');
      }
      const query = op.query ? validate(op.query, rawQuery, 'query parameters') : undefined;
      const result = await op.handle({ ctx, query: query as never, params });
      status = result.status;
      if ('stream' in result) {
        const deadlineMs = Math.max(0, context.getRemainingTimeInMillis() - END_BEFORE_TIMEOUT_MS);
        await writeStreaming(responseStream, result, deadlineMs);
      } else {
        await writeBuffered(responseStream, jsonResponse(result.status, result.body, result.headers));
      }
    } catch (error) {
      const response = errorResponse(error, request?.requestId ?? context.awsRequestId);
      status = response.statusCode;
      if (!(error instanceof AppError)) logger.error('stream request failed', { error: error as Error });
      await writeBuffered(responseStream, response).catch(() => undefined);
    }
    logger.info('request', {
      requestId: request?.requestId,
      correlationId: request?.correlationId,
      tenantId,
      method: event.httpMethod,
      resource: event.resource,
      status,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
    });
  });
}

async function writeBuffered(responseStream: ResponseStream, response: APIGatewayProxyResult): Promise<void> {
  const out = httpResponseStream(responseStream, {
    statusCode: response.statusCode,
    headers: (response.headers ?? {}) as Record<string, string>,
  });
  await endStream(out, response.body);
}

/** Ends a stream; resolves when it finished, or failed or closed first (the client may be gone). */
function endStream(out: Writable, body?: string): Promise<void> {
  return new Promise<void>((resolve) => {
    out.once('error', () => resolve());
    out.once('close', () => resolve());
    out.end(body ?? '', () => resolve());
  });
}

async function writeStreaming(
  responseStream: ResponseStream,
  result: StreamingResult,
  deadlineMs: number,
): Promise<void> {
  const out = httpResponseStream(responseStream, { statusCode: result.status, headers: result.headers });
  const stop = new AbortController();
  const abort = () => stop.abort();
  const timer = setTimeout(abort, deadlineMs);
  out.once('close', abort);
  out.once('error', abort);
  const sink: StreamSink = {
    signal: stop.signal,
    write: (text) =>
      new Promise<void>((resolve) => {
        if (stop.signal.aborted || out.destroyed) {
          resolve();
          return;
        }
        if (out.write(text)) {
          resolve();
          return;
        }
        const done = () => {
          out.off('drain', done);
          stop.signal.removeEventListener('abort', done);
          resolve();
        };
        out.once('drain', done);
        stop.signal.addEventListener('abort', done, { once: true });
      }),
  };
  try {
    await result.stream(sink);
  } finally {
    clearTimeout(timer);
    out.off('close', abort);
    out.off('error', abort);
    if (!out.destroyed && !out.writableEnded) await endStream(out);
  }
}
