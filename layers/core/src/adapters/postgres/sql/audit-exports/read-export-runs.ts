import type { Queryable } from '../../database.ts';
import type { RunRow } from '../runs/run-row.ts';

/**
 * The runs an export covers: created in [from, to), optionally one run, optionally those of one source (the
 * run's own or any of its jobs'). In id order.
 */
export async function readExportRuns(
  db: Queryable,
  tenantId: string,
  window: { from: Date; to: Date },
  filter: { runId: string | null; sourceId: string | null },
): Promise<RunRow[]> {
  const result = await db.query<RunRow>(
    `SELECT r.* FROM runs r
      WHERE r.tenant_id = $1 AND r.created_at >= $2 AND r.created_at < $3
        AND ($4::uuid IS NULL OR r.id = $4)
        AND ($5::uuid IS NULL OR r.source_id = $5
             OR EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = $1 AND j.run_id = r.id AND j.source_id = $5))
      ORDER BY r.id`,
    [tenantId, window.from, window.to, filter.runId, filter.sourceId],
  );
  return result.rows;
}
