import type { Queryable } from '../../database.ts';

export interface PackRunLogRow {
  seq: string;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
  at: Date;
}

/** A pack run's log lines in `seq` order after `afterSeq`, optionally of one stream; limit+1 rows. */
export async function listPackRunLogs(
  db: Queryable,
  tenantId: string,
  packRunId: string,
  filter: { stream: string | undefined },
  afterSeq: number | null,
  limit: number,
): Promise<PackRunLogRow[]> {
  const result = await db.query<PackRunLogRow>(
    `SELECT seq, stream, line, at
       FROM pack_run_logs
      WHERE tenant_id = $1 AND pack_run_id = $2 AND ($3::text IS NULL OR stream = $3) AND ($4::bigint IS NULL OR seq > $4)
      ORDER BY seq
      LIMIT $5`,
    [tenantId, packRunId, filter.stream ?? null, afterSeq, limit + 1],
  );
  return result.rows;
}
