import type { Queryable } from '../../database.ts';
import type { DeadLetterRow } from './dead-letter-row.ts';

/** The dead letter a job became (at most one per job), locked for replay. */
export async function getDeadLetterOfJob(
  db: Queryable,
  tenantId: string,
  jobId: string,
): Promise<DeadLetterRow | null> {
  const result = await db.query<DeadLetterRow>(
    'SELECT * FROM dead_letters WHERE tenant_id = $1 AND job_id = $2 FOR UPDATE',
    [tenantId, jobId],
  );
  return result.rows[0] ?? null;
}
