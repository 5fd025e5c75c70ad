import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, errorResponse, isStreamingHandler, logger, type StreamingHandler } from '@jobengine/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { buildRestEvent, lambdaContext, loadHandler, matchRoute, type RestHandler } from './apigw-event.ts';
import { LocalResponseStream } from './streaming-response.ts';

/** A streaming integration (responseTransferMode STREAM) may run up to 15 minutes, the Lambda maximum. */
const STREAMING_TIMEOUT_MS = 15 * 60 * 1000;

/** API Gateway REST refuses payloads over 10 MB before any function runs; so do we. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The REST half of the local gateway: reads the request (bounded), matches it against the route table,
 * and invokes the function that serves the route with an API Gateway event.
 */
export function createRestGateway() {
  const handlers = new Map<string, Promise<RestHandler | StreamingHandler>>();
  const handlerFor = (fn: string) => {
    let handler = handlers.get(fn);
    if (!handler) {
      handler = loadHandler<RestHandler | StreamingHandler>(fn);
      handlers.set(fn, handler);
    }
    return handler;
  };

  /** Open streaming responses: ended when the runtime stops, as they would otherwise hold it open. */
  const streams = new Set<LocalResponseStream>();

  const serveRest = async function serveRest(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    let result: APIGatewayProxyResult;
    try {
      const { match, allowed } = matchRoute(method, url.pathname);
      if (!match) {
        request.resume();
        throw allowed.length > 0
          ? new AppError('METHOD_NOT_ALLOWED', `${method} is not allowed here`, [], {
              headers: { Allow: allowed.join(', ') },
            })
          : new AppError('NOT_FOUND', `no route for ${method} ${url.pathname}`);
      }
      const body = await readBody(request, GATEWAY_MAX_BODY_BYTES);
      const event = buildRestEvent(request, url, body, match);
      const handler = await handlerFor(match.route.fn);
      if (isStreamingHandler(handler)) {
        // As API Gateway with a streaming Lambda integration: the function writes the response itself.
        const stream = new LocalResponseStream(response);
        streams.add(stream);
        try {
          await handler(event, stream, lambdaContext(`jobengine-${match.route.fn}`, STREAMING_TIMEOUT_MS));
        } finally {
          streams.delete(stream);
        }
        if (!stream.destroyed && !stream.writableEnded) stream.end();
        return;
      }
      result = await (handler as RestHandler)(event, lambdaContext(`jobengine-${match.route.fn}`));
    } catch (error) {
      if (!(error instanceof AppError)) logger.error('local gateway failure', { error: error as Error });
      result = errorResponse(error, 'local-gateway');
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    writeResult(response, result);
  };
  return Object.assign(serveRest, {
    /** Ends every open streaming response (the clients see the stream close and may reconnect). */
    closeStreams() {
      for (const stream of streams) stream.destroy();
    },
  });
}

export function writeResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | number | boolean | string[]> = { ...(result.headers ?? {}) };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name] = values.map(String);
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  headers['Content-Length'] = body.length;
  response.writeHead(result.statusCode, headers as Record<string, string>);
  response.end(body);
}

/** Reads at most `limit` bytes; beyond that the request is answered 413 without buffering the rest. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) {
      request.resume();
      reject(new AppError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        reject(new AppError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
