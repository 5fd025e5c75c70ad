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
 * Dead letters in (created_at, id) order after `after`, limit + 1 rows; `lock` takes them FOR UPDATE
 * SKIP LOCKED so concurrent bulk replays never replay one dead letter twice.
 */
export async function listDeadLetters(
  db: Queryable,
  tenantId: string,
  filter: DeadLetterFilter,
  after: { createdAt: Date; id: string } | null,
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
        AND ($7::timestamptz IS NULL OR (created_at, id) > ($7, $8::uuid))
      ORDER BY created_at, id
      LIMIT $9${options.lock ? ' FOR UPDATE SKIP LOCKED' : ''}`,
    [
      tenantId,
      filter.status ?? null,
      filter.jobType ?? null,
      filter.errorCode ?? null,
      filter.sourceId ?? null,
      filter.createdBefore ?? null,
      after?.createdAt ?? null,
      after?.id ?? null,
      limit + 1,
    ],
  );
  return result.rows;
}
