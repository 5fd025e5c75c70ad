import type { Queryable } from '../../database.ts';

export interface ExportHistoryRow {
  /** bigint: pg returns it as text. */
  id: string;
  job_id: string;
  run_id: string;
  attempt: number;
  from_status: string | null;
  to_status: string;
  transition: string;
  reason: string | null;
  lease_id: string | null;
  actor: string;
  details: Record<string, unknown> | null;
  at: Date;
}

/** Every history row of the given runs' jobs, in the order they were written (history id). */
export async function readExportHistory(
  db: Queryable,
  tenantId: string,
  runIds: readonly string[],
): Promise<ExportHistoryRow[]> {
  const result = await db.query<ExportHistoryRow>(
    `SELECT id, job_id, run_id, attempt, from_status, to_status, transition, reason, lease_id, actor, details, at
       FROM job_history WHERE tenant_id = $1 AND run_id = ANY($2::uuid[]) ORDER BY id`,
    [tenantId, runIds],
  );
  return result.rows;
}
