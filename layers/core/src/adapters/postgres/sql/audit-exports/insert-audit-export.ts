import type { Queryable } from '../../database.ts';
import type { AuditExportRow } from './audit-export-row.ts';

export interface NewAuditExport {
  tenantId: string;
  id: string;
  from: Date;
  to: Date;
  runId: string | null;
  sourceId: string | null;
  requestedBy: string;
}

/** Records an export as `running`; the same request then builds it and finishes the row. */
export async function insertAuditExport(db: Queryable, e: NewAuditExport): Promise<AuditExportRow> {
  const result = await db.query<AuditExportRow>(
    `INSERT INTO audit_exports (tenant_id, id, status, window_from, window_to, run_id, source_id, requested_by,
                                created_at)
     VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, now())
     RETURNING *`,
    [e.tenantId, e.id, e.from, e.to, e.runId, e.sourceId, e.requestedBy],
  );
  return result.rows[0]!;
}
