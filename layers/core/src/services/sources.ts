import type { Database, Queryable } from '../adapters/postgres/database.ts';
import { constraintName, sqlState } from '../adapters/postgres/database.ts';
import { insertEvents } from '../adapters/postgres/sql/insert-events.ts';
import { getSource } from '../adapters/postgres/sql/sources/get-source.ts';
import { insertSource } from '../adapters/postgres/sql/sources/insert-source.ts';
import { listSources } from '../adapters/postgres/sql/sources/list-sources.ts';
import type { SourceRow } from '../adapters/postgres/sql/sources/source-row.ts';
import { updateSource } from '../adapters/postgres/sql/sources/update-source.ts';
import type { CreateSourceInput, ListSourcesInput, Source, UpdateSourceInput } from '../api/sources.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { AppError, NotFoundError } from '../domain/errors.ts';
import { buildEvent } from '../domain/events.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import { recordAudit } from './audit.ts';
import { type CallContext, noteOf } from './context.ts';
import { idCursor, requireUuid } from './ids.ts';

export interface SourcesDeps {
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  cursors: CursorCodec;
}

/** Sources: the upstream feeds that produce work (DESIGN §2). */
export class SourcesService {
  constructor(private readonly deps: SourcesDeps) {}

  async create(call: CallContext, input: CreateSourceInput): Promise<Source> {
    const now = this.deps.clock.now();
    try {
      return await this.deps.db.tenant(call.tenantId, async (db) => {
        const row = await insertSource(db, {
          tenantId: call.tenantId,
          id: this.deps.ids.next(),
          name: input.name,
          type: input.type,
          upstreamHost: input.upstreamHost,
          projectId: input.projectId ?? call.projectId,
          config: input.config,
          enabled: input.enabled,
          now,
        });
        await this.emit(db, call, 'source.created', row, now);
        const source = presentSource(row);
        await recordAudit(db, call, {
          action: 'source.create',
          targetKind: 'source',
          targetId: row.id,
          after: source,
        });
        return source;
      });
    } catch (error) {
      if (sqlState(error) === '23505' && constraintName(error) === 'sources_tenant_id_name_key') {
        throw new AppError('ALREADY_EXISTS', `a source named '${input.name}' already exists`);
      }
      throw error;
    }
  }

  async get(call: CallContext, id: string): Promise<Source> {
    requireUuid('source', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) => getSource(db, call.tenantId, id));
    if (!row) throw new NotFoundError('source', id);
    return presentSource(row);
  }

  async list(call: CallContext, query: ListSourcesInput): Promise<Page<Source>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'sources', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const after = idCursor(page.after);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listSources(
        db,
        call.tenantId,
        {
          type: filter.type,
          upstreamHost: filter.upstream_host,
          projectId: filter.project_id,
          enabled: filter.enabled,
          paused: filter.paused,
        },
        after,
        page.limit,
      ),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentSource);
  }

  /** Applies a partial update; `ifMatch` (the version from an ETag) makes it conditional (412 if stale). */
  async update(
    call: CallContext,
    id: string,
    patch: UpdateSourceInput,
    ifMatch: number | null,
  ): Promise<Source> {
    requireUuid('source', id);
    const now = this.deps.clock.now();
    try {
      return await this.deps.db.tenant(call.tenantId, async (db) => {
        const current = await getSource(db, call.tenantId, id, { forUpdate: true });
        if (!current) throw new NotFoundError('source', id);
        if (ifMatch !== null && ifMatch !== current.version) {
          throw new AppError(
            'PRECONDITION_FAILED',
            `source is at version ${current.version}, not ${ifMatch}`,
          );
        }
        const updated = await updateSource(
          db,
          call.tenantId,
          id,
          current.version,
          {
            name: patch.name ?? current.name,
            upstreamHost: patch.upstreamHost ?? current.upstream_host,
            projectId: patch.projectId === undefined ? current.project_id : patch.projectId,
            config: patch.config ?? current.config,
            enabled: patch.enabled ?? current.enabled,
          },
          now,
        );
        // The row is locked FOR UPDATE above, so the version guard cannot miss here.
        if (!updated) throw new AppError('CONFLICT', 'source changed concurrently; retry');
        await this.emit(db, call, 'source.updated', updated, now);
        const source = presentSource(updated);
        await recordAudit(db, call, {
          action: 'source.update',
          targetKind: 'source',
          targetId: id,
          before: presentSource(current),
          after: source,
        });
        return source;
      });
    } catch (error) {
      if (sqlState(error) === '23505' && constraintName(error) === 'sources_tenant_id_name_key') {
        throw new AppError('ALREADY_EXISTS', `a source named '${patch.name}' already exists`);
      }
      throw error;
    }
  }

  /** A `source.*` event: the source as it now is, with the operator's reason and ticket. */
  private emit(
    db: Queryable,
    call: CallContext,
    eventType: 'source.created' | 'source.updated',
    row: SourceRow,
    now: Date,
  ) {
    const source = { ...presentSource(row), ...noteOf(call) };
    return insertEvents(db, [
      buildEvent(
        {
          eventType,
          tenantId: call.tenantId,
          projectId: row.project_id,
          correlationId: call.correlationId,
          actor: call.actor,
          subject: { kind: 'source', id: row.id, data: source },
          idempotencyKey: `orch-${eventType}-${row.id}-${row.version}`,
        },
        this.deps.ids.next(),
        now,
      ),
    ]);
  }
}

export function presentSource(row: SourceRow): Source {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    upstreamHost: row.upstream_host,
    projectId: row.project_id,
    config: row.config,
    enabled: row.enabled,
    paused: row.paused,
    pauseReason: row.pause_reason,
    circuit: {
      state: row.circuit_state,
      failures: row.circuit_failures,
      openedAt: row.circuit_opened_at?.toISOString() ?? null,
    },
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
