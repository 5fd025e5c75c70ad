import type { Queryable } from '../../database.ts';
import type { SourceRow } from './source-row.ts';

export interface NewSourceRow {
  tenantId: string;
  id: string;
  name: string;
  type: string;
  upstreamHost: string;
  projectId: string | null;
  config: Record<string, unknown>;
  enabled: boolean;
  now: Date;
}

/** Inserts a source; a duplicate name in the tenant raises unique_violation on sources_tenant_id_name_key. */
export async function insertSource(db: Queryable, row: NewSourceRow): Promise<SourceRow> {
  const result = await db.query<SourceRow>(
    `INSERT INTO sources (tenant_id, id, name, type, upstream_host, project_id, config, enabled, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
     RETURNING *`,
    [
      row.tenantId,
      row.id,
      row.name,
      row.type,
      row.upstreamHost,
      row.projectId,
      row.config,
      row.enabled,
      row.now,
    ],
  );
  return result.rows[0]!;
}
