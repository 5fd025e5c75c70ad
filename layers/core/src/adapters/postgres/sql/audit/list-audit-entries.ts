import type { Queryable } from '../../database.ts';
import type { AuditRow } from './audit-row.ts';

export interface AuditFilter {
  action?: string | undefined;
  targetKind?: string | undefined;
  targetId?: string | undefined;
  actor?: string | undefined;
  /** occurred_at >= from */
  from?: Date | undefined;
  /** occurred_at < to */
  to?: Date | undefined;
}

/** A page of the tenant's audit entries in chain order (position) after `afterPosition`; limit + 1 rows. */
export async function listAuditEntries(
  db: Queryable,
  tenantId: string,
  filter: AuditFilter,
  afterPosition: number | null,
  limit: number,
): Promise<AuditRow[]> {
  const result = await db.query<AuditRow>(
    `SELECT * FROM audit_log
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR action = $2)
        AND ($3::text IS NULL OR target_kind = $3)
        AND ($4::text IS NULL OR target_id = $4)
        AND ($5::text IS NULL OR actor_subject = $5)
        AND ($6::timestamptz IS NULL OR occurred_at >= $6)
        AND ($7::timestamptz IS NULL OR occurred_at < $7)
        AND ($8::bigint IS NULL OR position > $8)
      ORDER BY position
      LIMIT $9`,
    [
      tenantId,
      filter.action ?? null,
      filter.targetKind ?? null,
      filter.targetId ?? null,
      filter.actor ?? null,
      filter.from ?? null,
      filter.to ?? null,
      afterPosition,
      limit + 1,
    ],
  );
  return result.rows;
}
