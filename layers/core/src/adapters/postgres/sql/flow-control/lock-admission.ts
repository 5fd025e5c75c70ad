import type { Queryable } from '../../database.ts';

/** Serialises a tenant's admission checks until the transaction ends (backpressure: no two fill one slot). */
export async function lockAdmission(db: Queryable, tenantId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('jobengine.admission:' || $1, 0))`, [
    tenantId,
  ]);
}
