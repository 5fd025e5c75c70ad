import type { Queryable } from '../../database.ts';
import type { AuditExportRow } from './audit-export-row.ts';

export type ExportOutcome =
  | {
      status: 'succeeded';
      manifestDigest: string;
      keyId: string;
      files: AuditExportRow['files'];
    }
  | { status: 'failed'; error: string };

/** Ends a running export, once: a finished export is never changed again. */
export async function finishAuditExport(
  db: Queryable,
  tenantId: string,
  id: string,
  outcome: ExportOutcome,
): Promise<AuditExportRow | null> {
  const ok = outcome.status === 'succeeded';
  const result = await db.query<AuditExportRow>(
    `UPDATE audit_exports
        SET status = $3, manifest_digest = $4, key_id = $5, files = $6::jsonb, error = $7, finished_at = now()
      WHERE tenant_id = $1 AND id = $2 AND status = 'running'
      RETURNING *`,
    [
      tenantId,
      id,
      outcome.status,
      ok ? outcome.manifestDigest : null,
      ok ? outcome.keyId : null,
      JSON.stringify(ok ? outcome.files : []),
      ok ? null : outcome.error.slice(0, 2000),
    ],
  );
  return result.rows[0] ?? null;
}
