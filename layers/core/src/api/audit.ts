import { z } from 'zod';
import { DATA_FILES, ENVELOPE_FILE, MANIFEST_FILE, PUBLIC_KEY_FILE } from '../domain/audit-bundle.ts';
import { pageQuery } from '../http/pagination.ts';
import { digest, timestamp, uuid } from './common.ts';

/** The audit log, export bundles and artifacts (DESIGN §2, §8, §10; docs/adr/0012-audit-and-provenance.md). */

export const auditAction = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/, 'e.g. source.update');
export const targetKind = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'e.g. source, job, dead_letter');

/** Order: chain position ascending (the order entries were appended). */
export const ListAuditQuery = z
  .strictObject({
    ...pageQuery,
    action: auditAction.max(128).optional(),
    target_kind: targetKind.optional(),
    target_id: z.string().min(1).max(256).optional(),
    /** The acting subject. */
    actor: z.string().min(1).max(256).optional(),
    /** occurredAt ≥ from */
    from: timestamp.optional(),
    /** occurredAt < to */
    to: timestamp.optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) > Date.parse(q.from), {
    message: 'to must be after from',
    path: ['to'],
  });
export type ListAuditInput = z.output<typeof ListAuditQuery>;

const hash = digest;

export const AuditEntry = z.object({
  tenantId: z.string(),
  position: z.number().int().min(1),
  entryId: uuid,
  occurredAt: timestamp,
  actor: z.object({ subject: z.string(), scopes: z.array(z.string()) }),
  projectId: z.string().nullable(),
  action: z.string(),
  target: z.object({ kind: z.string(), id: z.string().nullable() }),
  reason: z.string().nullable(),
  ticket: z.string().nullable(),
  requestId: z.string().nullable(),
  correlationId: z.string().nullable(),
  beforeDigest: hash.nullable(),
  afterDigest: hash.nullable(),
  /** entryHash of the entry before (the genesis hash, 64 zeros, for position 1). */
  prevHash: hash,
  /** sha256(prevHash ‖ canonicalJson(entry)), the entry being every field above but the two hashes. */
  entryHash: hash,
});
export type AuditEntry = z.output<typeof AuditEntry>;

/** Every file of a bundle, by name. */
export const BUNDLE_FILE_NAMES = [...DATA_FILES, MANIFEST_FILE, ENVELOPE_FILE, PUBLIC_KEY_FILE] as const;
export const BundleFileName = z.enum(BUNDLE_FILE_NAMES);

export const CreateAuditExportBody = z
  .strictObject({
    /** Window start (inclusive). */
    from: timestamp,
    /** Window end (exclusive); not in the future, so the window is closed and its export final. */
    to: timestamp,
    /** Only this run (its jobs, history, artifacts, provenance, and the throttles that could apply). */
    runId: uuid.optional(),
    /** Only runs of this source (the run's own or any of its jobs'). */
    sourceId: uuid.optional(),
  })
  .refine((b) => Date.parse(b.to) > Date.parse(b.from), { message: 'to must be after from', path: ['to'] });
export type CreateAuditExportInput = z.output<typeof CreateAuditExportBody>;

export const AuditExport = z.object({
  id: uuid,
  /** `running` only while the request that creates it builds it (or if that request died). */
  status: z.enum(['running', 'succeeded', 'failed']),
  window: z.object({ from: timestamp, to: timestamp }),
  filter: z.object({ runId: uuid.nullable(), sourceId: uuid.nullable() }),
  requestedBy: z.string(),
  createdAt: timestamp,
  finishedAt: timestamp.nullable(),
  /** Digest of manifest.json (what the DSSE envelope signs). */
  manifestDigest: hash.nullable(),
  /** Id of the signing key: `sha256:` of its public key (SubjectPublicKeyInfo, DER). */
  keyId: z.string().nullable(),
  error: z.string().nullable(),
  files: z.array(
    z.object({
      name: BundleFileName,
      digest: hash,
      bytes: z.number().int().min(0),
      /** Lines of a JSON-lines file; null for the manifest, the envelope and the key. */
      lines: z.number().int().min(0).nullable(),
      /** Where to download it. */
      href: z.string(),
    }),
  ),
});
export type AuditExport = z.output<typeof AuditExport>;

/** Order: id ascending (registration order). */
export const ListRunArtifactsQuery = z.strictObject({ ...pageQuery });

export const ArtifactRecord = z.object({
  id: uuid,
  digest: hash,
  runId: uuid,
  jobId: uuid,
  attempt: z.number().int(),
  uri: z.string(),
  sizeBytes: z.number().int().min(0),
  mediaType: z.string(),
  kind: z.string(),
  createdAt: timestamp,
});
export type ArtifactRecord = z.output<typeof ArtifactRecord>;

/** GET /artifacts/{digest}: every registration of these bytes in the tenant, oldest first. */
export const ArtifactByDigest = z.object({
  digest: hash,
  registrations: z.array(ArtifactRecord),
  /** More registrations exist than the first MAX_REGISTRATIONS returned. */
  more: z.boolean(),
});
export const MAX_REGISTRATIONS = 100;
