import type { Queryable } from '../../database.ts';

export interface DagJobRow {
  id: string;
  job_key: string;
  type: string;
  status: string;
  attempt: number;
  topo_index: number;
  depth: number;
  on_critical_path: boolean;
}

/** A run's jobs in topological order and its edges as job keys (the DAG view). */
export async function getRunDag(
  db: Queryable,
  tenantId: string,
  runId: string,
): Promise<{ jobs: DagJobRow[]; edges: { parent: string; child: string }[] }> {
  const jobs = await db.query<DagJobRow>(
    `SELECT id, job_key, type, status, attempt, topo_index, depth, on_critical_path
       FROM jobs WHERE tenant_id = $1 AND run_id = $2 ORDER BY topo_index, id`,
    [tenantId, runId],
  );
  const edges = await db.query<{ parent: string; child: string }>(
    `SELECT p.job_key AS parent, c.job_key AS child
       FROM dag_edges e
       JOIN jobs p ON p.tenant_id = e.tenant_id AND p.id = e.parent_job_id
       JOIN jobs c ON c.tenant_id = e.tenant_id AND c.id = e.child_job_id
      WHERE e.tenant_id = $1 AND e.run_id = $2
      ORDER BY c.topo_index, p.job_key`,
    [tenantId, runId],
  );
  return { jobs: jobs.rows, edges: edges.rows };
}
