import type { Queryable } from '../../database.ts';
import type { WatermarkRow } from './watermark-row.ts';

/** A source's watermarks, one per stream, by stream name. */
export async function listWatermarks(
  db: Queryable,
  tenantId: string,
  sourceId: string,
): Promise<WatermarkRow[]> {
  const result = await db.query<WatermarkRow>(
    'SELECT * FROM watermarks WHERE tenant_id = $1 AND source_id = $2 ORDER BY stream',
    [tenantId, sourceId],
  );
  return result.rows;
}
