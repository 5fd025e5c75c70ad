import type { Queryable } from '../../database.ts';

/**
 * Extends a live lease. Fenced: only the current lease id of a leased/running job whose deadline has not
 * passed matches, so a worker that lost its lease (expired, reaped, canceled, re-leased) extends nothing.
 */
export async function heartbeatLease(
  db: Queryable,
  tenantId: string,
  leaseId: string,
  leaseSeconds: number,
): Promise<{ id: string; lease_until: Date } | null> {
  const result = await db.query<{ id: string; lease_until: Date }>(
    `UPDATE jobs SET lease_until = now() + make_interval(secs => $3), updated_at = now()
      WHERE tenant_id = $1 AND lease_id = $2 AND status IN ('leased', 'running') AND lease_until > now()
      RETURNING id, lease_until`,
    [tenantId, leaseId, leaseSeconds],
  );
  return result.rows[0] ?? null;
}
