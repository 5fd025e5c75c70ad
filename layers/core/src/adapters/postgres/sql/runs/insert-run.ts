import type { Queryable } from '../../database.ts';
import type { RunRow } from './run-row.ts';

export interface NewRunRow {
  tenantId: string;
  id: string;
  projectId: string | null;
  sourceId: string | null;
  kind: 'adhoc' | 'scheduled' | 'backfill' | 'pack_run' | 'replay';
  dag: Record<string, unknown>;
  dagDigest: string;
  priority: number;
  labels: Record<string, string>;
  correlationId: string;
  createdBy: string;
  now: Date;
  /** The schedule that fired the run, and the event-time window it processes (scheduled ingest). */
  scheduleId?: string | null;
  window?: { start: Date; end: Date; stream: string } | null;
}

/** Records a submitted run in `planning`; the planner expands it into jobs. */
export async function insertRun(db: Queryable, r: NewRunRow): Promise<RunRow> {
  const result = await db.query<RunRow>(
    `INSERT INTO runs (tenant_id, id, project_id, source_id, kind, status, dag, dag_digest, priority, labels,
                       correlation_id, created_by, created_at, updated_at, schedule_id, window_start, window_end,
                       stream)
     VALUES ($1, $2, $3, $4, $5, 'planning', $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16)
     RETURNING *`,
    [
      r.tenantId,
      r.id,
      r.projectId,
      r.sourceId,
      r.kind,
      JSON.stringify(r.dag),
      r.dagDigest,
      r.priority,
      JSON.stringify(r.labels),
      r.correlationId,
      r.createdBy,
      r.now,
      r.scheduleId ?? null,
      r.window?.start ?? null,
      r.window?.end ?? null,
      r.window?.stream ?? null,
    ],
  );
  return result.rows[0]!;
}
