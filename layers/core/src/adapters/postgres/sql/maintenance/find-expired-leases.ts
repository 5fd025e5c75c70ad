import type { Queryable } from '../../database.ts';

export interface ExpiredLease {
  tenant_id: string;
  id: string;
  lease_id: string;
}

/** Leases past their deadline, across tenants (system role), oldest first. */
export async function findExpiredLeases(db: Queryable, limit: number): Promise<ExpiredLease[]> {
  const result = await db.query<ExpiredLease>(
    `SELECT tenant_id, id, lease_id FROM jobs
      WHERE status IN ('leased', 'running') AND lease_until <= now()
      ORDER BY lease_until
      LIMIT $1`,
    [limit],
  );
  return result.rows;
}
