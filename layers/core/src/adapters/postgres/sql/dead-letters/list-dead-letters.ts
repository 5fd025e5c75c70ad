import type { Queryable } from '../../database.ts';
import type { DeadLetterRow } from './dead-letter-row.ts';

export interface DeadLetterFilter {
  status?: string | undefined;
  jobType?: string | undefined;
  errorCode?: string | undefined;
  sourceId?: string | undefined;
  createdBefore?: Date | undefined;
}

/**
 * Dead letters in id order (creation order: ids are UUIDv7) after `afterId`, limit + 1 rows; `lock` takes them FOR UPDATE
 * SKIP LOCKED so concurrent bulk replays never replay one dead letter twice.
 */
export async function listDeadLetters(
  db: Queryable,
  tenantId: string,
  filter: DeadLetterFilter,
  afterId: string | null,
  limit: number,
  options: { lock?: boolean } = {},
): Promise<DeadLetterRow[]> {
  const result = await db.query<DeadLetterRow>(
    `SELECT * FROM dead_letters
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR status = $2)
        AND ($3::text IS NULL OR job_type = $3)
        AND ($4::text IS NULL OR error_code = $4)
        AND ($5::uuid IS NULL OR source_id = $5)
        AND ($6::timestamptz IS NULL OR created_at < $6)
        AND ($7::uuid IS NULL OR id > $7)
      ORDER BY id
      LIMIT $8${options.lock ? ' FOR UPDATE SKIP LOCKED' : ''}`,
    [
      tenantId,
      filter.status ?? null,
      filter.jobType ?? null,
      filter.errorCode ?? null,
      filter.sourceId ?? null,
      filter.createdBefore ?? null,
      afterId,
      limit + 1,
    ],
  );
  return result.rows;
}
