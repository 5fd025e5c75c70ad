import type { Database } from '../adapters/postgres/database.ts';
import { formatPosition } from '../adapters/postgres/sql/events/read-events.ts';
import { streamEnd } from '../adapters/postgres/sql/events/stream-end.ts';
import { deleteConnection } from '../adapters/postgres/sql/ws/delete-connection.ts';
import { getConnection } from '../adapters/postgres/sql/ws/get-connection.ts';
import { insertConnection } from '../adapters/postgres/sql/ws/insert-connection.ts';
import { lockSubscriptions } from '../adapters/postgres/sql/ws/lock-subscriptions.ts';
import { touchConnection } from '../adapters/postgres/sql/ws/touch-connection.ts';
import { updateSubscriptions } from '../adapters/postgres/sql/ws/update-subscriptions.ts';
import type { WebSocketMessage } from '../api/streams.ts';
import type { Principal } from '../auth/tokens.ts';
import { AppError } from '../domain/errors.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import type { FanoutService } from './fanout.ts';

/** WebSocket connections and their subscriptions (DESIGN §4: $connect, $disconnect, $default). */
export class ConnectionsService {
  constructor(
    private readonly deps: { db: Database; clock: Clock; ids: IdGenerator; fanout: FanoutService },
  ) {}

  async connect(
    connectionId: string,
    tenantId: string,
    projectId: string | null,
    principal: Principal,
  ): Promise<void> {
    await this.deps.db.tenant(tenantId, (db) =>
      insertConnection(db, {
        tenantId,
        connectionId,
        subject: principal.subject,
        scopes: [...principal.scopes],
        projectId,
        now: this.deps.clock.now(),
      }),
    );
  }

  async disconnect(connectionId: string): Promise<void> {
    await this.deps.db.system((db) => deleteConnection(db, connectionId));
  }

  /**
   * Applies a client message; returns the reply to send back on the connection. A subscription starts
   * after `since` (a position the client received), else at the current end of the stream; the fanout
   * hint then makes the broadcaster replay what follows it and go on live. Replayed events may arrive
   * before the `subscribed` reply.
   */
  async handle(connectionId: string, message: WebSocketMessage): Promise<Record<string, unknown>> {
    const now = this.deps.clock.now();
    const connection = await this.deps.db.system((db) => getConnection(db, connectionId));
    if (!connection) throw new AppError('NOT_FOUND', `connection ${connectionId} is not registered`);
    const tenantId = connection.tenant_id;
    switch (message.action) {
      case 'ping':
        await this.deps.db.tenant(tenantId, (db) => touchConnection(db, tenantId, connectionId, now));
        return { type: 'pong', at: now.toISOString() };
      case 'subscribe': {
        const id = message.id ?? 'default';
        const position = await this.deps.db.tenant(tenantId, async (db) => {
          const current = await lockSubscriptions(db, tenantId, connectionId);
          if (!current) throw new AppError('NOT_FOUND', `connection ${connectionId} is not registered`);
          const subscriptions = current.filter((s) => s.id !== id);
          if (subscriptions.length >= 20)
            throw new AppError('VALIDATION_FAILED', 'at most 20 subscriptions per connection');
          const start = message.since ?? formatPosition(await streamEnd(db, tenantId));
          subscriptions.push({ id, key: this.deps.ids.next(), filters: message.filters, position: start });
          await updateSubscriptions(db, tenantId, connectionId, subscriptions, now);
          return start;
        });
        await this.deps.fanout.hint([tenantId]);
        return { type: 'subscribed', id, position };
      }
      case 'unsubscribe': {
        const id = message.id;
        await this.deps.db.tenant(tenantId, async (db) => {
          const current = (await lockSubscriptions(db, tenantId, connectionId)) ?? [];
          const subscriptions = current.filter((s) => id !== undefined && s.id !== id);
          await updateSubscriptions(db, tenantId, connectionId, subscriptions, now);
        });
        return { type: 'unsubscribed', id: id ?? null };
      }
    }
  }
}
