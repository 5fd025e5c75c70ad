import type { Queryable } from '../../database.ts';

/**
 * Every tenant that has events (system role), by skipping through the primary key's leading column: one
 * index probe per tenant instead of a scan of the whole log.
 */
export async function listEventTenants(db: Queryable): Promise<string[]> {
  const result = await db.query<{ tenant_id: string }>(
    `WITH RECURSIVE tenants AS (
       (SELECT tenant_id FROM events ORDER BY tenant_id LIMIT 1)
       UNION ALL
       SELECT (SELECT e.tenant_id FROM events e WHERE e.tenant_id > t.tenant_id ORDER BY e.tenant_id LIMIT 1)
         FROM tenants t
        WHERE t.tenant_id IS NOT NULL
     )
     SELECT tenant_id FROM tenants WHERE tenant_id IS NOT NULL`,
  );
  return result.rows.map((row) => row.tenant_id);
}
