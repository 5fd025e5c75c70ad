import type { Queryable } from '../../database.ts';
import type { SourceRow } from './source-row.ts';

export interface SourceChanges {
  name: string;
  upstreamHost: string;
  projectId: string | null;
  config: Record<string, unknown>;
  enabled: boolean;
}

/**
 * Writes the editable fields and bumps the version, only if the row is still at `expectedVersion`
 * (returns null otherwise), so a concurrent edit is never overwritten silently.
 */
export async function updateSource(
  db: Queryable,
  tenantId: string,
  id: string,
  expectedVersion: number,
  changes: SourceChanges,
  now: Date,
): Promise<SourceRow | null> {
  const result = await db.query<SourceRow>(
    `UPDATE sources
        SET name = $4, upstream_host = $5, project_id = $6, config = $7, enabled = $8,
            version = version + 1, updated_at = $9
      WHERE tenant_id = $1 AND id = $2 AND version = $3
      RETURNING *`,
    [
      tenantId,
      id,
      expectedVersion,
      changes.name,
      changes.upstreamHost,
      changes.projectId,
      changes.config,
      changes.enabled,
      now,
    ],
  );
  return result.rows[0] ?? null;
}
