import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * Tenant isolation in depth: the application's own statements filter by tenant, but even a statement that
 * deliberately omits the filter must see only the transaction's tenant, and writes into another tenant
 * must be refused.
 */
describe('row-level security', () => {
  let t: TestDatabase;
  const sourceA = '01900000-0000-7000-8000-00000000000a';

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.db.tenant('tenant-a', (db) =>
      db.query(
        `INSERT INTO sources (tenant_id, id, name, type, upstream_host, created_at, updated_at)
         VALUES ('tenant-a', $1, 'feed-a', 'advisory_feed', 'a.example', now(), now())`,
        [sourceA],
      ),
    );
  });
  afterAll(async () => t.drop());

  it('hides another tenant rows from a query without a tenant filter', async () => {
    const asA = await t.db.tenant('tenant-a', (db) => db.query('SELECT id FROM sources'));
    const asB = await t.db.tenant('tenant-b', (db) => db.query('SELECT id FROM sources'));
    expect(asA.rows).toEqual([{ id: sourceA }]);
    expect(asB.rows).toEqual([]);
    const byId = await t.db.tenant('tenant-b', (db) =>
      db.query('SELECT * FROM sources WHERE id = $1', [sourceA]),
    );
    expect(byId.rowCount).toBe(0);
  });

  it('makes another tenant rows impossible to update or delete', async () => {
    const updated = await t.db.tenant('tenant-b', (db) => db.query(`UPDATE sources SET name = 'stolen'`));
    const deleted = await t.db.tenant('tenant-b', (db) => db.query('DELETE FROM sources'));
    expect(updated.rowCount).toBe(0);
    expect(deleted.rowCount).toBe(0);
    const { rows } = await t.admin.query('SELECT name FROM sources WHERE id = $1', [sourceA]);
    expect(rows).toEqual([{ name: 'feed-a' }]);
  });

  it('refuses to write a row into another tenant', async () => {
    await expect(
      t.db.tenant('tenant-b', (db) =>
        db.query(
          `INSERT INTO sources (tenant_id, id, name, type, upstream_host, created_at, updated_at)
           VALUES ('tenant-a', gen_random_uuid(), 'planted', 'advisory_feed', 'x.example', now(), now())`,
        ),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('shows nothing to the application role when no tenant is set', async () => {
    const client = await t.db.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL ROLE jobengine_app');
      const { rows } = await client.query('SELECT count(*)::int AS n FROM sources');
      expect(rows).toEqual([{ n: 0 }]);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('confines a login user granted only the application role (the deployed setup)', async () => {
    const login = `je_app_${Date.now().toString(36)}`;
    await t.admin.query(`CREATE ROLE ${login} LOGIN PASSWORD 'test-only' IN ROLE jobengine_app`);
    const url = new URL(t.url);
    url.username = login;
    url.password = 'test-only';
    const { Database } = await import('../../layers/core/src/adapters/postgres/database.ts');
    const appOnly = Database.connect(url.toString(), { appRole: '', systemRole: 'jobengine_system', max: 1 });
    try {
      const seen = await appOnly.tenant('tenant-b', (db) => db.query('SELECT id FROM sources'));
      expect(seen.rows).toEqual([]);
      const own = await appOnly.tenant('tenant-a', (db) => db.query('SELECT id FROM sources'));
      expect(own.rows).toEqual([{ id: sourceA }]);
      await expect(appOnly.system((db) => db.query('SELECT 1'))).rejects.toThrow(
        /permission denied to set role/,
      );
      await expect(
        appOnly.tenant('tenant-b', (db) => db.query('ALTER TABLE sources DISABLE ROW LEVEL SECURITY')),
      ).rejects.toThrow(/must be owner/);
      await expect(
        appOnly.tenant('tenant-b', (db) => db.query('SET LOCAL row_security = off; SELECT * FROM sources')),
      ).rejects.toThrow(/row-level security/);
    } finally {
      await appOnly.close();
      await t.admin.query(`DROP ROLE ${login}`);
    }
  });

  it('lets the system role span tenants (ticks, planner, broadcaster)', async () => {
    const { rows } = await t.db.system((db) => db.query('SELECT tenant_id FROM sources'));
    expect(rows).toEqual([{ tenant_id: 'tenant-a' }]);
  });
});
