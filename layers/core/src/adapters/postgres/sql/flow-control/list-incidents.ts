import type { Queryable } from '../../database.ts';
import type { IncidentRow } from './rows.ts';

/** Incidents newest first (id descending), before `beforeId`; limit + 1 rows tell whether more exist. */
export async function listIncidents(
  db: Queryable,
  tenantId: string,
  status: string | null,
  beforeId: string | null,
  limit: number,
): Promise<IncidentRow[]> {
  const result = await db.query<IncidentRow>(
    `SELECT * FROM incidents
      WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4`,
    [tenantId, status, beforeId, limit + 1],
  );
  return result.rows;
}
