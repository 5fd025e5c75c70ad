import type { Queryable } from '../../database.ts';
import { BACKFILL_COLUMNS, type BackfillRow } from './backfill-row.ts';

export interface NewBackfill {
  tenantId: string;
  id: string;
  sourceId: string;
  stream: string;
  start: Date;
  end: Date;
  chunkS: number;
  maxConcurrency: number;
  priority: number;
  payload: Record<string, unknown>;
  chunkCount: number;
  jobType: string;
  reason: string;
  ticket: string;
  createdBy: string;
  correlationId: string;
  projectId: string | null;
  now: Date;
}

/**
 * Records a backfill. An in-flight backfill of the same source and stream whose window overlaps makes the
 * insert fail on the `backfills_no_overlap` exclusion constraint (SQLSTATE 23P01), concurrent requests
 * included.
 */
export async function insertBackfill(db: Queryable, b: NewBackfill): Promise<BackfillRow> {
  const result = await db.query<BackfillRow>(
    `INSERT INTO backfills (tenant_id, id, source_id, stream, window_range, chunk_s, max_concurrency, priority,
                            payload, status, chunk_count, job_type, reason, ticket, created_by, correlation_id,
                            project_id, created_at, updated_at, finished_at)
     VALUES ($1, $2, $3, $4, tstzrange($5, $6, '[)'), $7, $8, $9, $10, 'running', $11, $12, $13, $14, $15, $16,
             $17, $18, $18, NULL)
     RETURNING ${BACKFILL_COLUMNS}`,
    [
      b.tenantId,
      b.id,
      b.sourceId,
      b.stream,
      b.start,
      b.end,
      b.chunkS,
      b.maxConcurrency,
      b.priority,
      JSON.stringify(b.payload),
      b.chunkCount,
      b.jobType,
      b.reason,
      b.ticket,
      b.createdBy,
      b.correlationId,
      b.projectId,
      b.now,
    ],
  );
  return result.rows[0]!;
}
