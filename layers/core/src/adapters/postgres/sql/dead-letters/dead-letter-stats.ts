import type { Queryable } from '../../database.ts';

export interface DeadLetterStats {
  counts: { open: number; replayed: number; discarded: number };
  oldestOpenAt: Date | null;
  topErrors: {
    error_code: string;
    job_type: string;
    error_class: string;
    count: number;
    last_failure_at: Date;
  }[];
}

/** Counts by status, the oldest open dead letter, and the ten largest open error clusters. */
export async function deadLetterStats(db: Queryable, tenantId: string): Promise<DeadLetterStats> {
  const counts = await db.query<{ status: string; n: number; oldest: Date | null }>(
    `SELECT status, count(*)::int AS n, min(created_at) AS oldest FROM dead_letters WHERE tenant_id = $1 GROUP BY status`,
    [tenantId],
  );
  const clusters = await db.query<DeadLetterStats['topErrors'][number]>(
    `SELECT error_code, job_type, min(error_class) AS error_class, count(*)::int AS count,
            max(last_failure_at) AS last_failure_at
       FROM dead_letters WHERE tenant_id = $1 AND status = 'open'
      GROUP BY error_code, job_type
      ORDER BY count(*) DESC, error_code, job_type
      LIMIT 10`,
    [tenantId],
  );
  const by = (status: string) => counts.rows.find((row) => row.status === status);
  return {
    counts: {
      open: by('open')?.n ?? 0,
      replayed: by('replayed')?.n ?? 0,
      discarded: by('discarded')?.n ?? 0,
    },
    oldestOpenAt: by('open')?.oldest ?? null,
    topErrors: clusters.rows,
  };
}
