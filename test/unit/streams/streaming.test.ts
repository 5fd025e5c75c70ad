import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AppError } from '../../../layers/core/src/domain/errors.ts';
import type { TenantContext } from '../../../layers/core/src/http/api.ts';
import {
  HTTP_INTEGRATION_CONTENT_TYPE,
  isStreamingHandler,
  type StreamSink,
  streamingOperation,
  streamingTenantApi,
} from '../../../layers/core/src/http/streaming.ts';

/**
 * The streaming plumbing without Lambda: the same checks and envelope as tenantApi, the response as the
 * metadata prelude + eight NUL bytes + body that API Gateway's streaming integration reads.
 */
const fakes = vi.hoisted(() => ({ runtime: undefined as unknown }));
vi.mock('../../../layers/core/src/runtime.ts', () => ({ getRuntime: async () => fakes.runtime }));
fakes.runtime = {
  config: { MAX_BODY_BYTES: 6_000_000 },
  verifyToken: async (token: string) => {
    if (token !== 'reader') throw new AppError('UNAUTHENTICATED', 'bad token');
    return { subject: 'reader', scopes: new Set(['orch:read']), tenants: ['acme'] };
  },
};

class Collected extends Writable {
  readonly chunks: Buffer[] = [];
  contentType: string | undefined;
  setContentType(type: string) {
    this.contentType = type;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
    this.chunks.push(Buffer.from(chunk));
    callback();
  }
  /** The prelude and the body as API Gateway would split them. */
  response() {
    const all = Buffer.concat(this.chunks);
    const end = all.indexOf(Buffer.alloc(8));
    return {
      metadata: JSON.parse(all.subarray(0, end).toString()) as {
        statusCode: number;
        headers: Record<string, string>;
      },
      body: all.subarray(end + 8).toString(),
    };
  }
}

let sinkSeen: StreamSink | undefined;
const handler = streamingTenantApi({
  'GET /api/v1/things': streamingOperation<TenantContext, z.ZodObject<{ n: z.ZodOptional<z.ZodString> }>>({
    scope: 'orch:read',
    query: z.strictObject({ n: z.string().optional() }),
    handle: async ({ ctx, query }) => ({
      status: 200,
      headers: { 'Content-Type': 'text/event-stream' },
      async stream(sink) {
        sinkSeen = sink;
        for (let i = 0; i < Number(query.n ?? 3); i++) await sink.write(`data: ${ctx.tenantId} ${i}\n\n`);
        if (query.n === 'forever')
          await new Promise((resolve) => sink.signal.addEventListener('abort', resolve));
      },
    }),
  }),
  'GET /api/v1/things/{id}': streamingOperation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ params }) => ({ status: 200, body: { id: params.id } }),
  }),
});

const event = (
  resource: string,
  options: { token?: string; query?: Record<string, string>; id?: string } = {},
): APIGatewayProxyEvent =>
  ({
    resource,
    path: resource,
    httpMethod: 'GET',
    headers: {
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      'X-Stella-Tenant': 'acme',
    },
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: options.id ? { id: options.id } : null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' },
  }) as unknown as APIGatewayProxyEvent;

const context = (remainingMs = 60_000) =>
  ({ awsRequestId: 'aws-1', getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

describe('streamingTenantApi', () => {
  it('is marked as a streaming handler, as awslambda.streamifyResponse marks it on Lambda', () => {
    expect(isStreamingHandler(handler)).toBe(true);
    expect(isStreamingHandler(async () => undefined)).toBe(false);
  });

  it('streams the body after the metadata prelude', async () => {
    const out = new Collected();
    await handler(event('/api/v1/things', { token: 'reader' }), out, context());
    expect(out.contentType).toBe(HTTP_INTEGRATION_CONTENT_TYPE);
    expect(out.response()).toEqual({
      metadata: { statusCode: 200, headers: { 'Content-Type': 'text/event-stream' } },
      body: 'data: acme 0\n\ndata: acme 1\n\ndata: acme 2\n\n',
    });
    expect(out.writableEnded).toBe(true);
  });

  it('answers errors with the envelope, in the order tenantApi checks them', async () => {
    const cases: [APIGatewayProxyEvent, number, string][] = [
      [event('/api/v1/things'), 401, 'UNAUTHENTICATED'],
      [event('/api/v1/nothing', { token: 'reader' }), 404, 'NOT_FOUND'],
      [event('/api/v1/things/{id}', { token: 'reader', id: 'x' }), 403, 'FORBIDDEN'],
      [event('/api/v1/things', { token: 'reader', query: { colour: 'red' } }), 400, 'VALIDATION_FAILED'],
    ];
    for (const [request, status, code] of cases) {
      const out = new Collected();
      await handler(request, out, context());
      const { metadata, body } = out.response();
      expect(metadata.statusCode, code).toBe(status);
      expect(JSON.parse(body)).toMatchObject({ error: { code, trace_id: 'req-1' } });
    }
  });

  it('stops the operation when the client goes away', async () => {
    const out = new Collected();
    const running = handler(
      event('/api/v1/things', { token: 'reader', query: { n: 'forever' } }),
      out,
      context(),
    );
    await vi.waitFor(() => expect(sinkSeen).toBeDefined());
    out.destroy();
    await running;
    expect(sinkSeen!.signal.aborted).toBe(true);
  });

  it('ends the stream before the function times out', async () => {
    sinkSeen = undefined;
    const out = new Collected();
    await handler(event('/api/v1/things', { token: 'reader', query: { n: 'forever' } }), out, context(5_050));
    expect(sinkSeen!.signal.aborted).toBe(true);
    expect(out.writableEnded).toBe(true);
  });
});
