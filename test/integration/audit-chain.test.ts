import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChainedAuditEntry, findBrokenAuditLink } from '../../layers/core/src/domain/audit.ts';
import { recordAudit } from '../../layers/core/src/services/audit.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { callAs } from '../support/services.ts';

/** recordAudit on real PostgreSQL: one unbroken chain per tenant under concurrency, atomic with its action. */
describe('audit chain appends', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());

  async function chainOf(tenantId: string): Promise<ChainedAuditEntry[]> {
    const { rows } = await t.admin.query(`SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY position`, [
      tenantId,
    ]);
    return rows.map((r) => ({
      prevHash: r.prev_hash,
      entryHash: r.entry_hash,
      entry: {
        tenantId: r.tenant_id,
        position: Number(r.position),
        entryId: r.entry_id,
        occurredAt: r.occurred_at.toISOString(),
        actor: { subject: r.actor_subject, scopes: r.actor_scopes },
        projectId: r.project_id,
        action: r.action,
        target: { kind: r.target_kind, id: r.target_id },
        reason: r.reason,
        ticket: r.ticket,
        requestId: r.request_id,
        correlationId: r.correlation_id,
        beforeDigest: r.before_digest,
        afterDigest: r.after_digest,
      },
    }));
  }

  it('keeps one contiguous, verifiable chain per tenant when 40 transactions append at once', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.db.tenant(i % 2 ? 'acme' : 'globex', (q) =>
          recordAudit(q, { ...callAs(i % 2 ? 'acme' : 'globex'), requestId: `req-${i}` }, [
            {
              action: 'source.update',
              targetKind: 'source',
              targetId: `s-${i}`,
              before: { i },
              after: { i: i + 1 },
            },
            { action: 'source.pause', targetKind: 'source', targetId: `s-${i}` },
          ]),
        ),
      ),
    );
    for (const tenant of ['acme', 'globex']) {
      const chain = await chainOf(tenant);
      expect(chain.map((c) => c.entry.position)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(findBrokenAuditLink(null, chain)).toBeNull();
      expect(chain.every((c) => c.entry.tenantId === tenant)).toBe(true);
    }
  });

  it('records operator notes, request ids and state digests', async () => {
    await t.db.tenant('initech', (q) =>
      recordAudit(
        q,
        { ...callAs('initech'), requestId: 'req-note', note: { reason: 'upstream outage', ticket: 'OPS-7' } },
        { action: 'source.update', targetKind: 'source', targetId: 'x', before: { a: 1 }, after: { a: 2 } },
      ),
    );
    const [link] = await chainOf('initech');
    expect(link?.entry).toMatchObject({ reason: 'upstream outage', ticket: 'OPS-7', requestId: 'req-note' });
    expect(link?.entry.beforeDigest).toMatch(/^sha256:/);
    expect(link?.entry.beforeDigest).not.toBe(link?.entry.afterDigest);
  });

  it('vanishes with a transaction that rolls back', async () => {
    await expect(
      t.db.tenant('hooli', async (q) => {
        await recordAudit(q, callAs('hooli'), {
          action: 'source.create',
          targetKind: 'source',
          targetId: 'y',
        });
        throw new Error('action failed after auditing');
      }),
    ).rejects.toThrow('action failed');
    expect(await chainOf('hooli')).toEqual([]);
  });

  it('is append-only even for the runtime roles', async () => {
    await t.db.tenant('umbrella', (q) =>
      recordAudit(q, callAs('umbrella'), { action: 'source.create', targetKind: 'source', targetId: 'z' }),
    );
    await expect(
      t.db.tenant('umbrella', (q) => q.query(`UPDATE audit_log SET reason = 'forged'`)),
    ).rejects.toThrow();
    await expect(t.admin.query(`DELETE FROM audit_log WHERE tenant_id = 'umbrella'`)).rejects.toThrow();
    expect(await chainOf('umbrella')).toHaveLength(1);
  });
});
