import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { logger, type WebSocketEvent, type WebSocketResult } from '@jobengine/core';
import type { Context } from 'aws-lambda';
import { WebSocket, WebSocketServer } from 'ws';
import { lambdaContext, loadHandler } from './apigw-event.ts';
import { readBody } from './http-gateway.ts';

type WsHandler = (event: WebSocketEvent, context: Context) => Promise<WebSocketResult>;

interface LocalConnection {
  socket: WebSocket;
  connectedAt: Date;
  lastActiveAt: Date;
  sourceIp: string;
}

/** API Gateway's WebSocket frame limit; larger posts are refused as on AWS. */
const MAX_FRAME_BYTES = 128 * 1024;

/**
 * The local WebSocket API: `$connect`, `$disconnect` and `$default` through the same handler functions as
 * API Gateway, plus the management API (`POST/GET/DELETE /@connections/{id}`, 410 when gone) so the real
 * `@aws-sdk/client-apigatewaymanagementapi` client can push to local connections.
 */
export function createWebSocketGateway() {
  const server = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const connections = new Map<string, LocalConnection>();
  const handlers = Promise.all([
    loadHandler<WsHandler>('functions/ws/connect.ts'),
    loadHandler<WsHandler>('functions/ws/disconnect.ts'),
    loadHandler<WsHandler>('functions/ws/default.ts'),
  ]);

  const event = (
    connectionId: string,
    routeKey: string,
    request?: IncomingMessage,
    url?: URL,
    body?: string,
  ): WebSocketEvent => ({
    requestContext: { connectionId, routeKey, requestId: randomBytes(8).toString('hex') },
    headers: request
      ? (Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])) as Record<
          string,
          string
        >)
      : null,
    queryStringParameters: url && url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
    body: body ?? null,
  });

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const [connect, disconnect, message] = await handlers;
    const connectionId = randomBytes(12).toString('base64url');
    const result = await connect(
      event(connectionId, '$connect', request, url),
      lambdaContext('jobengine-ws-connect'),
    );
    if (result.statusCode !== 200) {
      const body = result.body ?? '';
      socket.end(
        `HTTP/1.1 ${result.statusCode} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    server.handleUpgrade(request, socket, head, (ws) => {
      const connection: LocalConnection = {
        socket: ws,
        connectedAt: new Date(),
        lastActiveAt: new Date(),
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      };
      connections.set(connectionId, connection);
      // Messages are handled one at a time per connection, as API Gateway invokes $default in order.
      let chain = Promise.resolve();
      ws.on('message', (data) => {
        connection.lastActiveAt = new Date();
        chain = chain
          .then(async () => {
            const reply = await message(
              event(connectionId, '$default', undefined, undefined, data.toString()),
              lambdaContext('jobengine-ws-default'),
            );
            if (reply.body && ws.readyState === WebSocket.OPEN) ws.send(reply.body);
          })
          .catch((error: Error) => logger.error('websocket message failed', { error }));
      });
      ws.on('close', () => {
        connections.delete(connectionId);
        chain = chain
          .then(() =>
            disconnect(event(connectionId, '$disconnect'), lambdaContext('jobengine-ws-disconnect')).then(
              () => undefined,
            ),
          )
          .catch((error: Error) => logger.warn('websocket disconnect failed', { error }));
      });
    });
  }

  /** `/@connections/{id}`: POST sends, GET describes, DELETE closes; 410 GoneException when unknown. */
  async function manage(
    request: IncomingMessage,
    response: ServerResponse,
    connectionId: string,
  ): Promise<void> {
    const connection = connections.get(connectionId);
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      response.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        ...headers,
      });
      response.end(text);
    };
    const gone = () => reply(410, { message: 'Gone' }, { 'x-amzn-ErrorType': 'GoneException' });
    if (request.method === 'POST') {
      const body = await readBody(request, MAX_FRAME_BYTES).catch(() => null);
      if (body === null)
        return reply(
          413,
          { message: 'Payload too large' },
          { 'x-amzn-ErrorType': 'PayloadTooLargeException' },
        );
      if (!connection || connection.socket.readyState !== WebSocket.OPEN) return gone();
      connection.socket.send(body.toString('utf8'));
      return reply(200);
    }
    request.resume();
    if (!connection) return gone();
    if (request.method === 'GET') {
      return reply(200, {
        ConnectedAt: connection.connectedAt.toISOString(),
        LastActiveAt: connection.lastActiveAt.toISOString(),
        Identity: { SourceIp: connection.sourceIp },
      });
    }
    if (request.method === 'DELETE') {
      connection.socket.close(1000, 'closed by server');
      return reply(204);
    }
    return reply(405, { message: 'Method not allowed' });
  }

  function close(): void {
    for (const { socket } of connections.values()) socket.close(1001, 'server shutting down');
    server.close();
  }

  return { upgrade, manage, close, connections };
}
