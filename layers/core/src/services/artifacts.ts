import type { Database } from '../adapters/postgres/database.ts';
import type { ArtifactRow } from '../adapters/postgres/sql/artifacts/artifact-row.ts';
import { findArtifactsByDigest } from '../adapters/postgres/sql/artifacts/find-artifacts-by-digest.ts';
import { listRunArtifacts } from '../adapters/postgres/sql/artifacts/list-run-artifacts.ts';
import { getRun } from '../adapters/postgres/sql/runs/get-run.ts';
import { type ArtifactRecord, MAX_REGISTRATIONS } from '../api/audit.ts';
import { DIGEST_PATTERN } from '../domain/canonical-json.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { NotFoundError } from '../domain/errors.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import type { CallContext } from './context.ts';
import { idCursor, requireUuid } from './ids.ts';

/**
 * Artifacts (DESIGN §2): immutable, content-addressed job outputs. Workers register them with progress or
 * completion (services/leasing.ts: one row per job and digest, the table refuses changes); read here.
 */
export class ArtifactsService {
  constructor(private readonly deps: { db: Database; cursors: CursorCodec }) {}

  async listForRun(
    call: CallContext,
    id: string,
    query: { page_size: number; page_token?: string | undefined },
  ): Promise<Page<ArtifactRecord>> {
    const runId = requireUuid('run', id);
    const scope = { list: 'run_artifacts', runId };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, async (db) => {
      if (!(await getRun(db, call.tenantId, runId))) throw new NotFoundError('run', id);
      return listRunArtifacts(db, call.tenantId, runId, idCursor(page.after), page.limit);
    });
    return toPage(this.deps.cursors, scope, rows, page.limit, (row) => [row.id], presentArtifact);
  }

  /** Every registration of the digest in the tenant (404 when none: another tenant's bytes are not seen). */
  async byDigest(call: CallContext, digest: string) {
    const normalized = digest.toLowerCase();
    if (!DIGEST_PATTERN.test(normalized)) throw new NotFoundError('artifact', digest);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      findArtifactsByDigest(db, call.tenantId, normalized, MAX_REGISTRATIONS),
    );
    if (rows.length === 0) throw new NotFoundError('artifact', digest);
    return {
      digest: normalized,
      registrations: rows.slice(0, MAX_REGISTRATIONS).map(presentArtifact),
      more: rows.length > MAX_REGISTRATIONS,
    };
  }
}

export function presentArtifact(row: ArtifactRow): ArtifactRecord {
  return {
    id: row.id,
    digest: row.digest,
    runId: row.run_id,
    jobId: row.job_id,
    attempt: row.attempt,
    uri: row.uri,
    sizeBytes: Number(row.size_bytes),
    mediaType: row.media_type,
    kind: row.kind,
    createdAt: row.created_at.toISOString(),
  };
}
