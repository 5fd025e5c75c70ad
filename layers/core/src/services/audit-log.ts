import type { Database } from '../adapters/postgres/database.ts';
import { type AuditRow, chainedEntryOf } from '../adapters/postgres/sql/audit/audit-row.ts';
import { listAuditEntries } from '../adapters/postgres/sql/audit/list-audit-entries.ts';
import type { AuditEntry, ListAuditInput } from '../api/audit.ts';
import type { CursorCodec, CursorKey } from '../domain/cursor.ts';
import { AppError } from '../domain/errors.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import type { CallContext } from './context.ts';

/** Reading the audit log (DESIGN §8): the tenant's chain, filtered, in position order. Appends: audit.ts. */
export class AuditLogService {
  constructor(private readonly deps: { db: Database; cursors: CursorCodec }) {}

  async list(call: CallContext, query: ListAuditInput): Promise<Page<AuditEntry>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'audit', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listAuditEntries(
        db,
        call.tenantId,
        {
          action: filter.action,
          targetKind: filter.target_kind,
          targetId: filter.target_id,
          actor: filter.actor,
          from: filter.from ? new Date(filter.from) : undefined,
          to: filter.to ? new Date(filter.to) : undefined,
        },
        positionCursor(page.after),
        page.limit,
      ),
    );
    return toPage(
      this.deps.cursors,
      scope,
      rows,
      page.limit,
      (row) => [Number(row.position)],
      presentAuditEntry,
    );
  }
}

export function presentAuditEntry(row: AuditRow): AuditEntry {
  const { entry, prevHash, entryHash } = chainedEntryOf(row);
  return { ...entry, prevHash, entryHash };
}

function positionCursor(key: CursorKey | null): number | null {
  if (key === null) return null;
  const position = key[0];
  if (key.length !== 1 || typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
    throw new AppError('INVALID_PAGE_TOKEN', 'page_token is invalid or belongs to another query');
  }
  return position;
}
