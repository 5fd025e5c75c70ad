import type { Queryable } from '../../database.ts';
import type { RunRow } from './run-row.ts';

export async function getRun(db: Queryable, tenantId: string, runId: string): Promise<RunRow | null> {
  const result = await db.query<RunRow>('SELECT * FROM runs WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    runId,
  ]);
  return result.rows[0] ?? null;
}
