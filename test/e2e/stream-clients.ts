import WebSocket from 'ws';

/** Stream clients for the e2e tests, the soak script and the latency benchmark. */

export interface SseEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

export interface SseClient {
  status: number;
  events: SseEvent[];
  comments: string[];
  retry: number | null;
  /** Resolves when the server ends the stream or the client closes it. */
  ended: Promise<void>;
  waitFor(predicate: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/**
 * Opens `GET /api/v1/streams/events` and parses Server-Sent Events as they arrive (the fields this API
 * writes: id, event, data, retry, comments). Non-200 answers resolve with the status and the body as the
 * one comment.
 */
export async function openSse(
  baseUrl: string,
  options: {
    token: string;
    tenant: string;
    query?: Record<string, string>;
    lastEventId?: string;
    onEvent?: (event: SseEvent) => void;
  },
): Promise<SseClient> {
  const url = new URL('/api/v1/streams/events', baseUrl);
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  const abort = new AbortController();
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.token}`,
    'X-Stella-Tenant': options.tenant,
    Accept: 'text/event-stream',
  };
  if (options.lastEventId !== undefined) headers['Last-Event-ID'] = options.lastEventId;
  const response = await fetch(url, { headers, signal: abort.signal });
  const client: SseClient = {
    status: response.status,
    events: [],
    comments: [],
    retry: null,
    ended: Promise.resolve(),
    waitFor: (predicate, timeoutMs = 15_000) =>
      waitUntil(() => predicate(client.events), timeoutMs, 'SSE events'),
    close: () => abort.abort(),
  };
  if (response.status !== 200 || !response.body) {
    client.comments.push(await response.text());
    return client;
  }
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  client.ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          parseBlock(buffer.slice(0, end), client, options.onEvent);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by close(), or the connection dropped
    }
  })();
  return client;
}

function parseBlock(block: string, client: SseClient, onEvent?: (event: SseEvent) => void) {
  const fields: Record<string, string> = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) client.comments.push(line.slice(1).trim());
    else {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      fields[name] = fields[name] === undefined ? value : `${fields[name]}\n${value}`;
    }
  }
  if (fields.retry !== undefined) client.retry = Number(fields.retry);
  if (fields.data !== undefined) {
    const event = { id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) };
    client.events.push(event);
    onEvent?.(event);
  }
}

/** A delivered entry of a WebSocket `events` message. */
export interface WsItem {
  type: 'event' | 'event_ref';
  position: string;
  subscriptions: string[];
  event?: Record<string, unknown>;
  eventType?: string;
  subjectId?: string;
}

export interface WsClient {
  socket: WebSocket;
  /** Every message received, parsed. */
  messages: Record<string, unknown>[];
  /** The entries of every `events` message, in arrival order. */
  items: WsItem[];
  send(message: unknown): void;
  /** Sends a message and resolves with the next reply of the given type (or an error reply). */
  request(message: unknown, replyType: string): Promise<Record<string, unknown>>;
  waitFor(predicate: (client: WsClient) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Connects to the local WebSocket API (`?token=&tenant=`, as a browser would). */
export function openWs(
  wsUrl: string,
  options: { token: string; tenant: string; onItem?: (item: WsItem) => void },
): Promise<WsClient> {
  const url = new URL(wsUrl);
  url.searchParams.set('token', options.token);
  url.searchParams.set('tenant', options.tenant);
  const socket = new WebSocket(url);
  const client: WsClient = {
    socket,
    messages: [],
    items: [],
    send: (message) => socket.send(JSON.stringify(message)),
    request: (message, replyType) =>
      new Promise((resolve, reject) => {
        const onMessage = (data: WebSocket.RawData) => {
          const parsed = JSON.parse(data.toString()) as Record<string, unknown>;
          if (parsed.type === replyType || parsed.type === 'error') {
            socket.off('message', onMessage);
            if (parsed.type === 'error') reject(new Error(JSON.stringify(parsed)));
            else resolve(parsed);
          }
        };
        socket.on('message', onMessage);
        socket.send(JSON.stringify(message));
      }),
    waitFor: (predicate, timeoutMs = 15_000) =>
      waitUntil(() => predicate(client), timeoutMs, 'WebSocket messages'),
    close: () =>
      new Promise((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) {
          resolve();
          return;
        }
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
  socket.on('message', (data) => {
    const parsed = JSON.parse(data.toString()) as Record<string, unknown>;
    client.messages.push(parsed);
    if (parsed.type === 'events') {
      for (const item of parsed.items as WsItem[]) {
        client.items.push(item);
        options.onItem?.(item);
      }
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`WebSocket refused with ${response.statusCode}`)),
    );
  });
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Stream order of positions `<tx>.<seq>`. */
export function comparePositions(a: string, b: string): number {
  const [ta, sa] = a.split('.').map(BigInt) as [bigint, bigint];
  const [tb, sb] = b.split('.').map(BigInt) as [bigint, bigint];
  if (ta !== tb) return ta < tb ? -1 : 1;
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}
