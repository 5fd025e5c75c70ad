import type { Queryable } from '../../database.ts';
import type { SourceRow } from '../sources/source-row.ts';

/** Pauses or resumes a source (the operator's switch); null when it is already in that state. */
export async function setSourcePaused(
  db: Queryable,
  tenantId: string,
  id: string,
  paused: boolean,
  reason: string | null,
  now: Date,
): Promise<SourceRow | null> {
  const result = await db.query<SourceRow>(
    `UPDATE sources SET paused = $3, pause_reason = CASE WHEN $3 THEN $4 END, version = version + 1, updated_at = $5
      WHERE tenant_id = $1 AND id = $2 AND paused <> $3
     RETURNING *`,
    [tenantId, id, paused, reason, now],
  );
  return result.rows[0] ?? null;
}
