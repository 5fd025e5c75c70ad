import type { Queryable } from '../../database.ts';
import type { ArtifactRow } from '../artifacts/artifact-row.ts';

/** Every artifact the given runs registered, in id order. */
export async function readExportArtifacts(
  db: Queryable,
  tenantId: string,
  runIds: readonly string[],
): Promise<ArtifactRow[]> {
  const result = await db.query<ArtifactRow>(
    `SELECT id, digest, run_id, job_id, attempt, uri, size_bytes, media_type, kind, created_at
       FROM artifacts WHERE tenant_id = $1 AND run_id = ANY($2::uuid[]) ORDER BY id`,
    [tenantId, runIds],
  );
  return result.rows;
}
