import type { Queryable } from '../../database.ts';
import type { StreamPosition } from './read-events.ts';

/** Before every event: a reader starting here reads the whole retained stream. */
export const STREAM_START: StreamPosition = { tx: '0', seq: '0' };

/**
 * The position of the last event a reader can read now (see readEvents): starting "from now" means
 * reading after it. Events of transactions still running when this is read sort after it, so a reader
 * starting here may also see a few events that committed just before, never miss one that commits after.
 */
export async function streamEnd(db: Queryable, tenantId: string): Promise<StreamPosition> {
  const result = await db.query<{ tx: string; seq: string }>(
    `SELECT tx_id::text AS tx, seq::text AS seq
       FROM events e
      WHERE tenant_id = $1 AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      -- the columns, not the text outputs of the same names
      ORDER BY e.tx_id DESC, e.seq DESC
      LIMIT 1`,
    [tenantId],
  );
  const row = result.rows[0];
  return row ? { tx: row.tx, seq: row.seq } : STREAM_START;
}
