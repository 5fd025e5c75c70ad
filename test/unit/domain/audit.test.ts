import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  type AuditEntry,
  auditEntryHash,
  chainAuditEntries,
  findBrokenAuditLink,
  stateDigest,
} from '../../../layers/core/src/domain/audit.ts';
import { canonicalJson, sha256Digest } from '../../../layers/core/src/domain/canonical-json.ts';

const entry = (action: string): Omit<AuditEntry, 'position'> => ({
  tenantId: 'acme',
  entryId: `0190f0a0-0000-7000-8000-00000000000${action.length % 10}`,
  occurredAt: '2026-11-28T12:00:00.000Z',
  actor: { subject: 'ops@acme', scopes: ['orch:operate'] },
  projectId: null,
  action,
  target: { kind: 'source', id: 'src-1' },
  reason: 'maintenance',
  ticket: null,
  requestId: 'req-1',
  correlationId: 'corr-1',
  beforeDigest: null,
  afterDigest: stateDigest({ enabled: false }),
});

describe('audit hash chain', () => {
  it('hashes prevHash followed by the canonical JSON of the entry', () => {
    const [first] = chainAuditEntries(null, [entry('source.create')]);
    expect(first?.prevHash).toBe(AUDIT_GENESIS_HASH);
    expect(first?.entry.position).toBe(1);
    expect(first?.entryHash).toBe(sha256Digest(AUDIT_GENESIS_HASH + canonicalJson(first?.entry)));
  });

  it('continues from a head and links each entry to the one before', () => {
    const chain = chainAuditEntries({ position: 41, entryHash: sha256Digest('x') }, [
      entry('source.update'),
      entry('source.pause'),
    ]);
    expect(chain.map((c) => c.entry.position)).toEqual([42, 43]);
    expect(chain[0]?.prevHash).toBe(sha256Digest('x'));
    expect(chain[1]?.prevHash).toBe(chain[0]?.entryHash);
    expect(findBrokenAuditLink({ position: 41, entryHash: sha256Digest('x') }, chain)).toBeNull();
  });

  it('names the first broken link: an edited field, a dropped entry, a swapped pair', () => {
    const chain = chainAuditEntries(null, [
      entry('a.one'),
      entry('b.two'),
      entry('c.three'),
      entry('d.four'),
    ]);
    const edited = chain.map((c, i) => (i === 1 ? { ...c, entry: { ...c.entry, reason: 'other' } } : c));
    expect(findBrokenAuditLink(null, edited)).toEqual({ position: 2, problem: 'entry_hash' });
    const dropped = chain.filter((_, i) => i !== 2);
    expect(findBrokenAuditLink(null, dropped)).toEqual({ position: 4, problem: 'position' });
    const swapped = [chain[0], chain[2], chain[1], chain[3]].filter((c) => c !== undefined);
    expect(findBrokenAuditLink(null, swapped)).toEqual({ position: 3, problem: 'position' });
    const relinked = chain.map((c, i) => (i === 3 ? { ...c, prevHash: AUDIT_GENESIS_HASH } : c));
    expect(findBrokenAuditLink(null, relinked)).toEqual({ position: 4, problem: 'prev_hash' });
  });

  it('digests states canonically and has no digest for absent states', () => {
    expect(stateDigest({ b: 1, a: 2 })).toBe(stateDigest({ a: 2, b: 1 }));
    expect(stateDigest(undefined)).toBeNull();
    expect(stateDigest(null)).toBeNull();
    expect(auditEntryHash(AUDIT_GENESIS_HASH, { ...entry('x.y'), position: 1 })).toMatch(
      /^sha256:[0-9a-f]{64}$/,
    );
  });
});
