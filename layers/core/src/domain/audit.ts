import { canonicalJson, digestOf, sha256Digest } from './canonical-json.ts';

/**
 * The audit log's hash chain (DESIGN §8, §10). Each tenant has one chain: entry n carries the hash of entry
 * n-1, and its own hash is `sha256(prevHash ‖ canonicalJson(entry))`, so editing, dropping or reordering any
 * entry breaks every link after it. Everything a verifier needs to recompute a hash is in the entry itself;
 * the database row stores exactly these fields (plus the two hashes).
 */
export const AUDIT_GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

export interface AuditEntry {
  tenantId: string;
  /** 1-based index in the tenant's chain. */
  position: number;
  entryId: string;
  /** ISO-8601 with milliseconds (the precision the row keeps). */
  occurredAt: string;
  actor: { subject: string; scopes: string[] };
  projectId: string | null;
  action: string;
  target: { kind: string; id: string | null };
  reason: string | null;
  ticket: string | null;
  requestId: string | null;
  correlationId: string | null;
  /** Digest of the canonical JSON of the target before / after the action (null on create / delete). */
  beforeDigest: string | null;
  afterDigest: string | null;
}

export function auditEntryHash(prevHash: string, entry: AuditEntry): string {
  return sha256Digest(prevHash + canonicalJson(entry));
}

/** `sha256:` digest of a state snapshot, or null when there is no such state. */
export function stateDigest(state: unknown): string | null {
  return state === undefined || state === null ? null : digestOf(state);
}

export interface ChainedAuditEntry {
  entry: AuditEntry;
  prevHash: string;
  entryHash: string;
}

/**
 * Links entries onto a chain head. Positions continue from the head; the first entry of a chain links to
 * the genesis hash.
 */
export function chainAuditEntries(
  head: { position: number; entryHash: string } | null,
  entries: readonly Omit<AuditEntry, 'position'>[],
): ChainedAuditEntry[] {
  let prevHash = head?.entryHash ?? AUDIT_GENESIS_HASH;
  let position = head?.position ?? 0;
  return entries.map((partial) => {
    position += 1;
    const entry: AuditEntry = { ...partial, position };
    const entryHash = auditEntryHash(prevHash, entry);
    const chained = { entry, prevHash, entryHash };
    prevHash = entryHash;
    return chained;
  });
}

/** The first link of a chain segment that does not hold, or null when every link holds. */
export function findBrokenAuditLink(
  head: { position: number; entryHash: string } | null,
  chain: readonly ChainedAuditEntry[],
): { position: number; problem: 'position' | 'prev_hash' | 'entry_hash' } | null {
  let expectedPrev = head?.entryHash ?? AUDIT_GENESIS_HASH;
  let expectedPosition = (head?.position ?? 0) + 1;
  for (const link of chain) {
    if (link.entry.position !== expectedPosition)
      return { position: link.entry.position, problem: 'position' };
    if (link.prevHash !== expectedPrev) return { position: link.entry.position, problem: 'prev_hash' };
    if (auditEntryHash(link.prevHash, link.entry) !== link.entryHash)
      return { position: link.entry.position, problem: 'entry_hash' };
    expectedPrev = link.entryHash;
    expectedPosition += 1;
  }
  return null;
}
