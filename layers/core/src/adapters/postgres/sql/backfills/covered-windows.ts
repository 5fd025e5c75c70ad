import type { Queryable } from '../../database.ts';

/**
 * Windows of [start, end) already processed (run succeeded) or in flight (planning, running) for the
 * source and stream: scheduled runs and backfill chunks alike (runs_window_idx).
 */
export async function coveredWindows(
  db: Queryable,
  tenantId: string,
  sourceId: string,
  stream: string,
  start: Date,
  end: Date,
): Promise<{ start: Date; end: Date }[]> {
  const result = await db.query<{ window_start: Date; window_end: Date }>(
    `SELECT window_start, window_end FROM runs
      WHERE tenant_id = $1 AND source_id = $2 AND stream = $3 AND window_start IS NOT NULL
        AND window_start < $5 AND window_end > $4
        AND status IN ('planning', 'running', 'succeeded')`,
    [tenantId, sourceId, stream, start, end],
  );
  return result.rows.map((row) => ({ start: row.window_start, end: row.window_end }));
}
