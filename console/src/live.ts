import type { Session } from './session.ts';

/** One delivered entry of a WebSocket `events` message (ADR 0008). */
export interface LiveItem {
  position: string;
  eventType: string;
  subjectKind: string;
  subjectId: string;
  data: Record<string, unknown>;
}

export interface LiveFilters {
  runId?: string;
  jobId?: string;
  sourceId?: string;
  eventTypes?: string[];
}

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * A WebSocket subscription to the tenant's event stream: subscribes with filters, resumes after the last
 * position it saw when the connection drops, and drops entries at or before that position (the one
 * duplicate case of ADR 0008). Browsers cannot set headers on a WebSocket, so the token and tenant ride
 * as query parameters, which the $connect handler accepts.
 */
export class LiveStream {
  private socket: WebSocket | undefined;
  private position: string | undefined;
  private closed = false;
  private retryMs = 500;

  constructor(
    private readonly session: Session,
    private readonly filters: LiveFilters,
    private readonly onItem: (item: LiveItem) => void,
    private readonly onState: (state: LiveState) => void = () => {},
  ) {
    this.connect();
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private connect(): void {
    const url = new URL(this.session.wsUrl);
    url.searchParams.set('token', this.session.token);
    url.searchParams.set('tenant', this.session.tenant);
    const socket = new WebSocket(url);
    this.socket = socket;
    this.onState(this.position ? 'reconnecting' : 'connecting');
    socket.addEventListener('open', () => {
      this.retryMs = 500;
      const message: Record<string, unknown> = { action: 'subscribe', id: 'console', filters: this.filters };
      if (this.position) message.since = this.position;
      socket.send(JSON.stringify(message));
    });
    socket.addEventListener('message', (message) => this.receive(String(message.data)));
    socket.addEventListener('close', () => {
      if (this.closed) return;
      this.onState('reconnecting');
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    });
  }

  private receive(raw: string): void {
    let message: { type?: string; items?: Record<string, unknown>[] };
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message.type === 'subscribed') this.onState('live');
    if (message.type !== 'events' || !Array.isArray(message.items)) return;
    for (const item of message.items) {
      const position = String(item.position);
      if (this.position && !after(position, this.position)) continue;
      this.position = position;
      const event = item.event as
        | { eventType: string; subject: { kind: string; id: string; data?: Record<string, unknown> } }
        | undefined;
      this.onItem({
        position,
        eventType: event?.eventType ?? String(item.eventType),
        subjectKind: event?.subject.kind ?? '',
        subjectId: event?.subject.id ?? String(item.subjectId),
        data: event?.subject.data ?? {},
      });
    }
  }
}

/** Positions are `<tx>.<seq>`, ordered by tx then seq. */
function after(a: string, b: string): boolean {
  const [ta, sa] = a.split('.').map(BigInt) as [bigint, bigint];
  const [tb, sb] = b.split('.').map(BigInt) as [bigint, bigint];
  return ta > tb || (ta === tb && sa > sb);
}
