import { AUDIT_GENESIS_HASH, type ChainedAuditEntry } from './audit.ts';
import { canonicalJson, sha256Digest } from './canonical-json.ts';

/**
 * The audit export bundle (docs/adr/0012-audit-and-provenance.md): JSON-lines files, a manifest of their
 * digests, and a DSSE envelope signing the manifest. Everything here is pure, so the same inputs always
 * give the same bytes: records are written as canonical JSON in a fixed order, and nothing records when
 * the bundle was made.
 *
 * Every line of a data file is `{"hash","prev","record"}` with `hash = sha256(prev ‖ canonicalJson(record))`
 * and `prev` the hash of the line before (the genesis hash for line 1) - the audit chain's own rule. A
 * changed byte breaks that line's hash, a dropped, added or swapped line breaks the next line's `prev`, so
 * a verifier names the line, not just the file. `audit.jsonl` needs no wrapper: its lines are the tenant's
 * chained audit entries themselves.
 */
export const BUNDLE_SCHEMA = 'jobengine.audit-export/v1';
/** What wrote the bundle; recorded in the manifest (a unit test keeps it equal to package.json). */
export const GENERATOR = { name: 'jobengine', version: '0.1.0' } as const;
export const MANIFEST_FILE = 'manifest.json';
export const ENVELOPE_FILE = 'manifest.dsse.json';
export const PUBLIC_KEY_FILE = 'public-key.pem';
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.jobengine.audit-manifest+json';

/** The data files, in manifest order. */
export const DATA_FILES = [
  'audit.jsonl',
  'jobs.jsonl',
  'history.jsonl',
  'throttles.jsonl',
  'artifacts.jsonl',
  'provenance.jsonl',
] as const;
export type DataFile = (typeof DATA_FILES)[number];
export type RecordFile = Exclude<DataFile, 'audit.jsonl'>;

export interface ManifestFile {
  name: DataFile;
  digest: string;
  bytes: number;
  lines: number;
  /** Hash of the last line (the genesis hash for an empty file). */
  head: string;
}

/** The audit chain segment in the bundle: contiguous positions, anchored to the entry before it. */
export interface ManifestChain {
  entries: number;
  fromPosition: number | null;
  toPosition: number | null;
  /** entryHash of the entry before the segment (the genesis hash at the start of the chain). */
  prevHash: string;
  /** entryHash of the segment's last entry (= prevHash when the segment is empty). */
  head: string;
}

export interface Manifest {
  schema: typeof BUNDLE_SCHEMA;
  generator: { name: string; version: string };
  tenant: string;
  window: { from: string; to: string };
  filter: { runId: string | null; sourceId: string | null };
  chain: ManifestChain;
  files: ManifestFile[];
}

export interface BundleInput {
  tenant: string;
  window: { from: string; to: string };
  filter: { runId: string | null; sourceId: string | null };
  /** The contiguous chain segment, in position order, and the hash it links to. */
  audit: { anchor: string; entries: readonly ChainedAuditEntry[] };
  /** Records of each other file, already in their deterministic order. */
  records: Record<RecordFile, readonly unknown[]>;
}

export interface BuiltBundle {
  files: { name: DataFile; content: Buffer }[];
  manifest: Manifest;
  /** The manifest's bytes: what manifest.json holds and the envelope signs. */
  manifestBytes: Buffer;
}

const line = (value: unknown) => `${canonicalJson(value)}\n`;

/** Lines `{"hash","prev","record"}`, each linked to the one before; returns the text and the last hash. */
export function chainedLines(records: readonly unknown[]): { text: string; head: string } {
  let prev = AUDIT_GENESIS_HASH;
  const lines = records.map((record) => {
    // The record is serialized once: `{"hash","prev","record"}` is already in canonical key order.
    const json = canonicalJson(record);
    const hash = sha256Digest(prev + json);
    const text = `{"hash":${JSON.stringify(hash)},"prev":${JSON.stringify(prev)},"record":${json}}\n`;
    prev = hash;
    return text;
  });
  return { text: lines.join(''), head: prev };
}

export function lineHash(prev: string, record: unknown): string {
  return sha256Digest(prev + canonicalJson(record));
}

export function buildBundle(input: BundleInput): BuiltBundle {
  const entries = input.audit.entries;
  const auditHead = entries.at(-1)?.entryHash ?? input.audit.anchor;
  const texts: Record<DataFile, { text: string; head: string; lines: number }> = {
    'audit.jsonl': { text: entries.map(line).join(''), head: auditHead, lines: entries.length },
  } as Record<DataFile, { text: string; head: string; lines: number }>;
  for (const name of DATA_FILES) {
    if (name === 'audit.jsonl') continue;
    const records = input.records[name];
    texts[name] = { ...chainedLines(records), lines: records.length };
  }
  const files = DATA_FILES.map((name) => ({ name, content: Buffer.from(texts[name].text, 'utf8') }));
  const manifest: Manifest = {
    schema: BUNDLE_SCHEMA,
    generator: { ...GENERATOR },
    tenant: input.tenant,
    window: input.window,
    filter: input.filter,
    chain: {
      entries: entries.length,
      fromPosition: entries[0]?.entry.position ?? null,
      toPosition: entries.at(-1)?.entry.position ?? null,
      prevHash: input.audit.anchor,
      head: auditHead,
    },
    files: files.map((file) => ({
      name: file.name,
      digest: sha256Digest(file.content),
      bytes: file.content.length,
      lines: texts[file.name].lines,
      head: texts[file.name].head,
    })),
  };
  return { files, manifest, manifestBytes: Buffer.from(line(manifest), 'utf8') };
}
