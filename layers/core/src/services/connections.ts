import type { Database } from '../adapters/postgres/database.ts';
import { deleteConnection } from '../adapters/postgres/sql/ws/delete-connection.ts';
import { getConnection } from '../adapters/postgres/sql/ws/get-connection.ts';
import { insertConnection } from '../adapters/postgres/sql/ws/insert-connection.ts';
import { touchConnection } from '../adapters/postgres/sql/ws/touch-connection.ts';
import { updateSubscriptions } from '../adapters/postgres/sql/ws/update-subscriptions.ts';
import type { WebSocketMessage } from '../api/streams.ts';
import type { Principal } from '../auth/tokens.ts';
import { AppError } from '../domain/errors.ts';
import type { Clock } from '../ports/clock-and-ids.ts';

interface Subscription {
  id: string;
  filters: Record<string, unknown>;
  since?: number | undefined;
}

/** WebSocket connections and their subscriptions (DESIGN §4: $connect, $disconnect, $default). */
export class ConnectionsService {
  constructor(private readonly deps: { db: Database; clock: Clock }) {}

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

  /** Applies a client message; returns the reply to send back on the connection. */
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
        const subscriptions = (connection.subscriptions as Subscription[]).filter((s) => s.id !== id);
        subscriptions.push({ id, filters: message.filters, since: message.since });
        if (subscriptions.length > 20)
          throw new AppError('VALIDATION_FAILED', 'at most 20 subscriptions per connection');
        await this.deps.db.tenant(tenantId, (db) =>
          updateSubscriptions(db, tenantId, connectionId, subscriptions, now),
        );
        return { type: 'subscribed', id };
      }
      case 'unsubscribe': {
        const id = message.id;
        const subscriptions = (connection.subscriptions as Subscription[]).filter(
          (s) => id !== undefined && s.id !== id,
        );
        await this.deps.db.tenant(tenantId, (db) =>
          updateSubscriptions(db, tenantId, connectionId, subscriptions, now),
        );
        return { type: 'unsubscribed', id: id ?? null };
      }
    }
  }
}
