import type { Queryable } from '../../database.ts';
import type { PackRunRow } from './pack-run-row.ts';

/** A pack run with its job's status and progress; null when the tenant has no such pack run. */
export async function getPackRun(db: Queryable, tenantId: string, id: string): Promise<PackRunRow | null> {
  const result = await db.query<PackRunRow>(
    `SELECT pr.id, pr.project_id, pr.run_id, pr.job_id, pr.pack, pr.params, pr.created_by, pr.created_at,
            j.status AS job_status, j.attempt AS job_attempt, j.progress AS job_progress,
            j.updated_at AS job_updated_at, j.started_at AS job_started_at, j.finished_at AS job_finished_at,
            j.correlation_id
       FROM pack_runs pr
       JOIN jobs j ON j.tenant_id = pr.tenant_id AND j.id = pr.job_id
      WHERE pr.tenant_id = $1 AND pr.id = $2`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}
