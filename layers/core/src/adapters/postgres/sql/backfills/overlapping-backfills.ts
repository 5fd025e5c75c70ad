import type { Queryable } from '../../database.ts';

/** In-flight backfills of the source and stream whose window overlaps [start, end) (for a dry run). */
export async function overlappingBackfills(
  db: Queryable,
  tenantId: string,
  sourceId: string,
  stream: string,
  start: Date,
  end: Date,
): Promise<string[]> {
  const result = await db.query<{ id: string }>(
    `SELECT id FROM backfills
      WHERE tenant_id = $1 AND source_id = $2 AND stream = $3 AND window_range && tstzrange($4, $5, '[)')
        AND status IN ('planned', 'running', 'paused')
      ORDER BY id`,
    [tenantId, sourceId, stream, start, end],
  );
  return result.rows.map((row) => row.id);
}
