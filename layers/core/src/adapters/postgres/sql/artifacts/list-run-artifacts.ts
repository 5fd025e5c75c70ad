import type { Queryable } from '../../database.ts';
import type { ArtifactRow } from './artifact-row.ts';

/** A page of a run's artifacts in id order (registration order) after `afterId`; limit + 1 rows. */
export async function listRunArtifacts(
  db: Queryable,
  tenantId: string,
  runId: string,
  afterId: string | null,
  limit: number,
): Promise<ArtifactRow[]> {
  const result = await db.query<ArtifactRow>(
    `SELECT id, digest, run_id, job_id, attempt, uri, size_bytes, media_type, kind, created_at
       FROM artifacts
      WHERE tenant_id = $1 AND run_id = $2 AND ($3::uuid IS NULL OR id > $3)
      ORDER BY id
      LIMIT $4`,
    [tenantId, runId, afterId, limit + 1],
  );
  return result.rows;
}
