import type { Queryable } from '../../database.ts';

/** The watermark of one (source, stream), or null before its first scheduled run succeeded. */
export async function getWatermark(
  db: Queryable,
  tenantId: string,
  sourceId: string,
  stream: string,
): Promise<Date | null> {
  const result = await db.query<{ watermark: Date }>(
    'SELECT watermark FROM watermarks WHERE tenant_id = $1 AND source_id = $2 AND stream = $3',
    [tenantId, sourceId, stream],
  );
  return result.rows[0]?.watermark ?? null;
}
