import type { Queryable } from '../../database.ts';

export interface NewPackRun {
  tenantId: string;
  id: string;
  projectId: string;
  runId: string;
  jobId: string;
  pack: string;
  params: Record<string, unknown>;
  createdBy: string;
  now: Date;
}

/** Records a pack run; its run and job are planned in the same transaction, before this row (foreign keys). */
export async function insertPackRun(db: Queryable, p: NewPackRun): Promise<void> {
  await db.query(
    `INSERT INTO pack_runs (tenant_id, id, project_id, run_id, job_id, pack, params, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)`,
    [p.tenantId, p.id, p.projectId, p.runId, p.jobId, p.pack, JSON.stringify(p.params), p.createdBy, p.now],
  );
}
