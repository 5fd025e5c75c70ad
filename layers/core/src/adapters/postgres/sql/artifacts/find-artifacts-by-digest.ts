import type { Queryable } from '../../database.ts';
import type { ArtifactRow } from './artifact-row.ts';

/**
 * Registrations of one content digest in the tenant, oldest first: the same bytes can be output by several
 * jobs (or attempts), each registration its own row. limit + 1 rows, so the caller knows if more exist.
 */
export async function findArtifactsByDigest(
  db: Queryable,
  tenantId: string,
  digest: string,
  limit: number,
): Promise<ArtifactRow[]> {
  const result = await db.query<ArtifactRow>(
    `SELECT id, digest, run_id, job_id, attempt, uri, size_bytes, media_type, kind, created_at
       FROM artifacts
      WHERE tenant_id = $1 AND digest = $2
      ORDER BY id
      LIMIT $3`,
    [tenantId, digest, limit + 1],
  );
  return result.rows;
}
