import type { ChainedAuditEntry } from '../../../../domain/audit.ts';
import type { Queryable } from '../../database.ts';

/** Appends chained entries in one statement; the (tenant, position) key refuses a forked chain. */
export async function insertAuditEntries(db: Queryable, chain: readonly ChainedAuditEntry[]): Promise<void> {
  if (chain.length === 0) return;
  await db.query(
    `INSERT INTO audit_log (tenant_id, position, entry_id, occurred_at, actor_subject, actor_scopes, project_id,
                            action, target_kind, target_id, reason, ticket, request_id, correlation_id,
                            before_digest, after_digest, prev_hash, entry_hash)
     SELECT a->'entry'->>'tenantId', (a->'entry'->>'position')::bigint, (a->'entry'->>'entryId')::uuid,
            (a->'entry'->>'occurredAt')::timestamptz, a->'entry'->'actor'->>'subject',
            ARRAY(SELECT jsonb_array_elements_text(a->'entry'->'actor'->'scopes')),
            a->'entry'->>'projectId', a->'entry'->>'action', a->'entry'->'target'->>'kind',
            a->'entry'->'target'->>'id', a->'entry'->>'reason', a->'entry'->>'ticket',
            a->'entry'->>'requestId', a->'entry'->>'correlationId', a->'entry'->>'beforeDigest',
            a->'entry'->>'afterDigest', a->>'prevHash', a->>'entryHash'
       FROM jsonb_array_elements($1::jsonb) AS a`,
    [JSON.stringify(chain)],
  );
}
