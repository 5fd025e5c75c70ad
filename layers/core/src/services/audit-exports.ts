import type { Database, Queryable } from '../adapters/postgres/database.ts';
import { chainedEntryOf } from '../adapters/postgres/sql/audit/audit-row.ts';
import type { AuditExportRow } from '../adapters/postgres/sql/audit-exports/audit-export-row.ts';
import { finishAuditExport } from '../adapters/postgres/sql/audit-exports/finish-audit-export.ts';
import { getAuditExport } from '../adapters/postgres/sql/audit-exports/get-audit-export.ts';
import { insertAuditExport } from '../adapters/postgres/sql/audit-exports/insert-audit-export.ts';
import { readAuditHeadBefore } from '../adapters/postgres/sql/audit-exports/read-audit-head-before.ts';
import { readAuditSegment } from '../adapters/postgres/sql/audit-exports/read-audit-segment.ts';
import { readExportArtifacts } from '../adapters/postgres/sql/audit-exports/read-export-artifacts.ts';
import {
  type ExportHistoryRow,
  readExportHistory,
} from '../adapters/postgres/sql/audit-exports/read-export-history.ts';
import { readExportJobs } from '../adapters/postgres/sql/audit-exports/read-export-jobs.ts';
import { readExportRuns } from '../adapters/postgres/sql/audit-exports/read-export-runs.ts';
import {
  type ExportThrottleRow,
  readExportThrottles,
} from '../adapters/postgres/sql/audit-exports/read-export-throttles.ts';
import type { JobRow } from '../adapters/postgres/sql/jobs/job-row.ts';
import { getRun } from '../adapters/postgres/sql/runs/get-run.ts';
import type { RunRow } from '../adapters/postgres/sql/runs/run-row.ts';
import { getSource } from '../adapters/postgres/sql/sources/get-source.ts';
import type { AuditExport, CreateAuditExportInput } from '../api/audit.ts';
import { AUDIT_GENESIS_HASH } from '../domain/audit.ts';
import {
  type BuiltBundle,
  buildBundle,
  ENVELOPE_FILE,
  MANIFEST_FILE,
  MANIFEST_PAYLOAD_TYPE,
  PUBLIC_KEY_FILE,
} from '../domain/audit-bundle.ts';
import { canonicalJson, sha256Digest } from '../domain/canonical-json.ts';
import { type DsseEnvelope, preAuthEncoding } from '../domain/dsse.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import {
  type ExportArtifact,
  type ExportHistory,
  type ExportJob,
  type ExportRun,
  runsProvenance,
} from '../domain/provenance.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import type { ExportStore } from '../ports/export-store.ts';
import type { Signer } from '../ports/signer.ts';
import { presentArtifact } from './artifacts.ts';
import { recordAudit } from './audit.ts';
import type { CallContext } from './context.ts';
import { requireUuid } from './ids.ts';

export interface AuditExportsDeps {
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  store: ExportStore;
  /** The manifest signer, resolved on first use (a KMS key, or a key from a file or the environment). */
  signer: () => Promise<Signer>;
}

const CONTENT_TYPES: Record<string, string> = {
  jsonl: 'application/x-ndjson',
  json: 'application/json',
  pem: 'application/x-pem-file',
};
const contentTypeOf = (name: string) => CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)]!;

/**
 * Export bundles (DESIGN §10; docs/adr/0012-audit-and-provenance.md): a closed time window of the tenant's
 * audit chain and of the runs created in it - jobs, history, artifacts, throttles, a provenance statement
 * per run - as JSON-lines files, a manifest of their digests and a DSSE envelope signing it. The request
 * that asks for an export builds it: the row is recorded (and audited) first, then every file is read from
 * one database snapshot, signed, stored, and the row finished as succeeded or failed.
 */
export class AuditExportsService {
  constructor(private readonly deps: AuditExportsDeps) {}

  async create(call: CallContext, input: CreateAuditExportInput): Promise<AuditExport> {
    const from = new Date(input.from);
    const to = new Date(input.to);
    if (to.getTime() > this.deps.clock.now().getTime()) {
      throw new ValidationError('the window must be closed', [
        { path: 'to', message: 'must not be in the future: an export covers a finished window' },
      ]);
    }
    const filter = {
      runId: input.runId?.toLowerCase() ?? null,
      sourceId: input.sourceId?.toLowerCase() ?? null,
    };
    const id = this.deps.ids.next();
    const row = await this.deps.db.tenant(call.tenantId, async (db) => {
      await this.requireFilterTargets(db, call.tenantId, filter);
      const created = await insertAuditExport(db, {
        tenantId: call.tenantId,
        id,
        from,
        to,
        runId: filter.runId,
        sourceId: filter.sourceId,
        requestedBy: call.actor.subject,
      });
      await recordAudit(db, call, {
        action: 'audit_export.create',
        targetKind: 'audit_export',
        targetId: id,
        after: presentExport(created),
      });
      return created;
    });
    const finished = await this.build(call.tenantId, row).catch(async (error: unknown) => {
      logger.error('audit export failed', { tenantId: call.tenantId, exportId: id, error: error as Error });
      return this.deps.db.tenant(call.tenantId, (db) =>
        finishAuditExport(db, call.tenantId, id, {
          status: 'failed',
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    });
    return presentExport(finished ?? row);
  }

  async get(call: CallContext, id: string): Promise<AuditExport> {
    return presentExport(await this.row(call, id));
  }

  /** One file of a succeeded export, as stored (404 for an unknown name or an unfinished export). */
  async file(call: CallContext, id: string, name: string): Promise<{ content: Buffer; digest: string }> {
    const row = await this.row(call, id);
    const listed = row.files.find((file) => file.name === name);
    if (!listed) throw new NotFoundError('export file', name);
    const content = await this.deps.store.get(`${call.tenantId}/${row.id}/${name}`);
    if (!content) throw new NotFoundError('export file', name);
    return { content, digest: listed.digest };
  }

  /** The bundle's files for one export row: read, assembled, signed; deterministic for the same data. */
  async bundle(
    tenantId: string,
    window: { from: Date; to: Date },
    filter: { runId: string | null; sourceId: string | null },
  ): Promise<{ name: string; content: Buffer }[]> {
    const built = await this.assemble(tenantId, window, filter);
    const signer = await this.deps.signer();
    const keyId = await signer.keyId();
    const signature = await signer.sign(preAuthEncoding(MANIFEST_PAYLOAD_TYPE, built.manifestBytes));
    const envelope: DsseEnvelope = {
      payloadType: MANIFEST_PAYLOAD_TYPE,
      payload: built.manifestBytes.toString('base64'),
      signatures: [{ keyid: keyId, sig: signature.toString('base64') }],
    };
    return [
      ...built.files,
      { name: MANIFEST_FILE, content: built.manifestBytes },
      { name: ENVELOPE_FILE, content: Buffer.from(`${canonicalJson(envelope)}\n`, 'utf8') },
      { name: PUBLIC_KEY_FILE, content: Buffer.from(await signer.publicKeyPem(), 'utf8') },
    ];
  }

  private async build(tenantId: string, row: AuditExportRow): Promise<AuditExportRow | null> {
    const files = await this.bundle(
      tenantId,
      { from: row.window_from, to: row.window_to },
      { runId: row.run_id, sourceId: row.source_id },
    );
    for (const file of files) {
      await this.deps.store.put(`${tenantId}/${row.id}/${file.name}`, file.content, contentTypeOf(file.name));
    }
    const manifest = files.find((file) => file.name === MANIFEST_FILE)!;
    const keyId = await (await this.deps.signer()).keyId();
    return this.deps.db.tenant(tenantId, (db) =>
      finishAuditExport(db, tenantId, row.id, {
        status: 'succeeded',
        manifestDigest: sha256Digest(manifest.content),
        keyId,
        files: files.map((file) => ({
          name: file.name,
          digest: sha256Digest(file.content),
          bytes: file.content.length,
          lines: file.name.endsWith('.jsonl') ? countLines(file.content) : null,
        })),
      }),
    );
  }

  /** Reads everything from one snapshot and builds the unsigned bundle. */
  private async assemble(
    tenantId: string,
    window: { from: Date; to: Date },
    filter: { runId: string | null; sourceId: string | null },
  ): Promise<BuiltBundle> {
    const data = await this.deps.db.tenantSnapshot(tenantId, async (db) => {
      const segment = await readAuditSegment(db, tenantId, window.from, window.to);
      const first = segment.rows[0];
      const anchor =
        first === undefined
          ? ((await readAuditHeadBefore(db, tenantId, window.to)) ?? AUDIT_GENESIS_HASH)
          : (segment.anchor ?? (Number(first.position) === 1 ? AUDIT_GENESIS_HASH : first.prev_hash));
      const runs = await readExportRuns(db, tenantId, window, filter);
      const runIds = runs.map((run) => run.id);
      const jobs = await readExportJobs(db, tenantId, runIds);
      const history = await readExportHistory(db, tenantId, runIds);
      const artifacts = await readExportArtifacts(db, tenantId, runIds);
      const filtered = filter.runId !== null || filter.sourceId !== null;
      const throttles = await readExportThrottles(
        db,
        tenantId,
        window,
        filtered
          ? {
              sourceIds: [
                ...new Set([...runs, ...jobs].map((r) => r.source_id).filter((s): s is string => !!s)),
              ],
              jobTypes: [...new Set(jobs.map((job) => job.type))],
            }
          : null,
      );
      return { segment, anchor, runs, jobs, history, artifacts, throttles };
    });
    const runs = data.runs.map(exportRun);
    const jobs = data.jobs.map(exportJob);
    const history = data.history.map(exportHistory);
    const artifacts: ExportArtifact[] = data.artifacts.map(presentArtifact);
    return buildBundle({
      tenant: tenantId,
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      filter,
      audit: { anchor: data.anchor, entries: data.segment.rows.map(chainedEntryOf) },
      records: {
        'jobs.jsonl': jobs,
        'history.jsonl': history,
        'throttles.jsonl': data.throttles.map(exportThrottle),
        'artifacts.jsonl': artifacts,
        'provenance.jsonl': runsProvenance(tenantId, runs, jobs, history, artifacts),
      },
    });
  }

  /** A run or source filter must name one of the tenant's (404 like any unknown id). */
  private async requireFilterTargets(
    db: Queryable,
    tenantId: string,
    filter: { runId: string | null; sourceId: string | null },
  ) {
    if (filter.runId && !(await getRun(db, tenantId, filter.runId)))
      throw new NotFoundError('run', filter.runId);
    if (filter.sourceId && !(await getSource(db, tenantId, filter.sourceId))) {
      throw new NotFoundError('source', filter.sourceId);
    }
  }

  private async row(call: CallContext, id: string): Promise<AuditExportRow> {
    const exportId = requireUuid('audit export', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) => getAuditExport(db, call.tenantId, exportId));
    if (!row) throw new NotFoundError('audit export', id);
    return row;
  }
}

function countLines(content: Buffer): number {
  let n = 0;
  for (const byte of content) if (byte === 0x0a) n += 1;
  return n;
}

const iso = (value: Date | null) => value?.toISOString() ?? null;

export function presentExport(row: AuditExportRow): AuditExport {
  return {
    id: row.id,
    status: row.status,
    window: { from: row.window_from.toISOString(), to: row.window_to.toISOString() },
    filter: { runId: row.run_id, sourceId: row.source_id },
    requestedBy: row.requested_by,
    createdAt: row.created_at.toISOString(),
    finishedAt: iso(row.finished_at),
    manifestDigest: row.manifest_digest,
    keyId: row.key_id,
    error: row.error,
    files: row.files.map((file) => ({
      ...file,
      name: file.name as AuditExport['files'][number]['name'],
      href: `/api/v1/audit/exports/${row.id}/files/${file.name}`,
    })),
  };
}

function exportRun(row: RunRow): ExportRun {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    projectId: row.project_id,
    sourceId: row.source_id,
    dagDigest: row.dag_digest,
    priority: row.priority,
    correlationId: row.correlation_id,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

/** A job as exported: its payload travels as its digest, like on events. */
function exportJob(row: JobRow): ExportJob {
  return {
    id: row.id,
    runId: row.run_id,
    key: row.job_key,
    type: row.type,
    status: row.status,
    priority: row.priority,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    payloadDigest: row.payload_digest,
    sourceId: row.source_id,
    projectId: row.project_id,
    replayOf: row.replay_of,
    correlationId: row.correlation_id,
    reason: row.reason,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

function exportHistory(row: ExportHistoryRow): ExportHistory {
  return {
    id: Number(row.id),
    jobId: row.job_id,
    runId: row.run_id,
    attempt: row.attempt,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    transition: row.transition,
    reason: row.reason,
    leaseId: row.lease_id,
    actor: row.actor,
    details: row.details,
    at: row.at.toISOString(),
  };
}

function exportThrottle(row: ExportThrottleRow) {
  return {
    id: row.id,
    targetKind: row.target_kind,
    targetId: row.target_id,
    kind: row.kind,
    maxConcurrency: row.max_concurrency,
    startsAt: row.starts_at.toISOString(),
    expiresAt: iso(row.expires_at),
    reason: row.reason,
    ticket: row.ticket,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    liftedAt: iso(row.lifted_at),
    liftedBy: row.lifted_by,
  };
}
