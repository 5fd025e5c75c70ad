import type { Queryable } from '../../database.ts';
import type { AuditExportRow } from './audit-export-row.ts';

export async function getAuditExport(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<AuditExportRow | null> {
  const result = await db.query<AuditExportRow>(
    'SELECT * FROM audit_exports WHERE tenant_id = $1 AND id = $2',
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}
