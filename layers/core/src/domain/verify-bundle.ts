import type { KeyObject } from 'node:crypto';
import { AUDIT_GENESIS_HASH, auditEntryHash } from './audit.ts';
import {
  BUNDLE_SCHEMA,
  DATA_FILES,
  ENVELOPE_FILE,
  lineHash,
  MANIFEST_FILE,
  MANIFEST_PAYLOAD_TYPE,
  type Manifest,
  PUBLIC_KEY_FILE,
} from './audit-bundle.ts';
import { canonicalJson, DIGEST_PATTERN, sha256Digest } from './canonical-json.ts';
import { type DsseEnvelope, keyIdOf, publicKeyFromPem, verifyDsseSignature } from './dsse.ts';

/**
 * Offline verification of an export bundle: the signature over the manifest, each file's digest, size and
 * line count, every line's link, and the audit chain's continuity and entry hashes. Nothing here touches a
 * network. Problems come in the order they are found, each naming its file and, where it applies, the
 * line (1-based) and the field; the first one is the first broken link.
 */
export interface BundleProblem {
  file: string;
  line?: number;
  field?: string;
  message: string;
}

export interface BundleReport {
  ok: boolean;
  problems: BundleProblem[];
  /** Whose key the signature was checked against: the one given, or the copy inside the bundle. */
  trust: 'given-key' | 'bundle-key' | 'none';
  keyId: string | null;
  manifest: Manifest | null;
}

export interface VerifyOptions {
  /** The signer's public key (PEM). Without it the bundle's own public-key.pem is used and reported. */
  publicKeyPem?: string | undefined;
}

export function verifyBundle(
  files: ReadonlyMap<string, Uint8Array>,
  options: VerifyOptions = {},
): BundleReport {
  const problems: BundleProblem[] = [];
  const report = (problem: BundleProblem) => problems.push(problem);
  const signed = checkSignature(files, options, report);
  const manifest = signed.manifest ?? readManifestFile(files, report);
  if (manifest) checkFiles(files, manifest, report);
  return { ok: problems.length === 0, problems, trust: signed.trust, keyId: signed.keyId, manifest };
}

/** One line per problem: `file:line field: message`. */
export function formatProblem(problem: BundleProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return `${where}${problem.field ? ` ${problem.field}` : ''}: ${problem.message}`;
}

type Report = (problem: BundleProblem) => void;

function checkSignature(
  files: ReadonlyMap<string, Uint8Array>,
  options: VerifyOptions,
  report: Report,
): { manifest: Manifest | null; trust: BundleReport['trust']; keyId: string | null } {
  const none = { manifest: null, trust: 'none' as const, keyId: null };
  const envelopeBytes = files.get(ENVELOPE_FILE);
  if (!envelopeBytes) {
    report({ file: ENVELOPE_FILE, message: 'missing: the manifest is unsigned' });
    return none;
  }
  const envelope = parseJson(envelopeBytes) as Partial<DsseEnvelope> | undefined;
  if (!isEnvelope(envelope)) {
    report({ file: ENVELOPE_FILE, message: 'not a DSSE envelope (payloadType, payload, signatures)' });
    return none;
  }
  if (envelope.payloadType !== MANIFEST_PAYLOAD_TYPE) {
    report({ file: ENVELOPE_FILE, field: 'payloadType', message: `must be ${MANIFEST_PAYLOAD_TYPE}` });
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  const signedManifest = parseJson(payload) as Manifest | undefined;
  const key = resolveKey(files, options, report);
  const keyId = key ? keyIdOf(key.key) : null;
  if (key) {
    const signature = envelope.signatures.findIndex((s) => s.keyid === keyId);
    if (signature < 0) {
      report({
        file: ENVELOPE_FILE,
        field: 'signatures[0].keyid',
        message: `no signature by key ${keyId}${key.trust === 'given-key' ? ' (the key given)' : ''}`,
      });
    } else if (
      !verifyDsseSignature(
        envelope,
        payload,
        Buffer.from(envelope.signatures[signature]!.sig, 'base64'),
        key.key,
      )
    ) {
      report({
        file: ENVELOPE_FILE,
        field: `signatures[${signature}].sig`,
        message: 'the signature does not verify: the signed manifest or the signature was changed',
      });
    }
  }
  const manifestBytes = files.get(MANIFEST_FILE);
  if (manifestBytes && !payload.equals(Buffer.from(manifestBytes))) {
    const onDisk = parseJson(manifestBytes);
    report({
      file: MANIFEST_FILE,
      field: (onDisk === undefined ? '' : firstDifference(signedManifest, onDisk, '')) || undefined,
      message: 'differs from the manifest signed in manifest.dsse.json',
    });
  }
  return { manifest: signedManifest ?? null, trust: key?.trust ?? 'none', keyId };
}

function resolveKey(
  files: ReadonlyMap<string, Uint8Array>,
  options: VerifyOptions,
  report: Report,
): { key: KeyObject; trust: 'given-key' | 'bundle-key' } | null {
  const bundled = files.get(PUBLIC_KEY_FILE);
  const bundledKey = bundled ? tryKey(Buffer.from(bundled).toString('utf8')) : null;
  if (bundled && !bundledKey) report({ file: PUBLIC_KEY_FILE, message: 'not a PEM public key' });
  if (options.publicKeyPem !== undefined) {
    const given = tryKey(options.publicKeyPem);
    if (!given) {
      report({ file: '--public-key', message: 'not a PEM public key' });
      return null;
    }
    if (bundledKey && keyIdOf(bundledKey) !== keyIdOf(given)) {
      report({ file: PUBLIC_KEY_FILE, message: 'is not the key given with --public-key' });
    }
    return { key: given, trust: 'given-key' };
  }
  if (!bundled) {
    report({
      file: PUBLIC_KEY_FILE,
      message: 'missing, and no --public-key given: the signature cannot be checked',
    });
    return null;
  }
  return bundledKey ? { key: bundledKey, trust: 'bundle-key' } : null;
}

function tryKey(pem: string): KeyObject | null {
  try {
    return publicKeyFromPem(pem);
  } catch {
    return null;
  }
}

function readManifestFile(files: ReadonlyMap<string, Uint8Array>, report: Report): Manifest | null {
  const bytes = files.get(MANIFEST_FILE);
  if (!bytes) {
    report({ file: MANIFEST_FILE, message: 'missing' });
    return null;
  }
  const manifest = parseJson(bytes) as Manifest | undefined;
  if (!manifest) report({ file: MANIFEST_FILE, message: 'not valid JSON' });
  return manifest ?? null;
}

function checkFiles(files: ReadonlyMap<string, Uint8Array>, manifest: Manifest, report: Report): void {
  if (manifest.schema !== BUNDLE_SCHEMA || !Array.isArray(manifest.files)) {
    report({ file: MANIFEST_FILE, field: 'schema', message: `not a ${BUNDLE_SCHEMA} manifest` });
    return;
  }
  for (const name of DATA_FILES) {
    const index = manifest.files.findIndex((f) => f.name === name);
    const listed = manifest.files[index];
    if (!listed) {
      report({ file: MANIFEST_FILE, field: 'files', message: `does not list ${name}` });
      continue;
    }
    const content = files.get(name);
    if (!content) {
      report({ file: name, message: 'missing from the bundle' });
      continue;
    }
    const lineProblem =
      name === 'audit.jsonl'
        ? checkAuditLines(content, manifest)
        : checkRecordLines(name, content, listed.head);
    if (lineProblem) {
      report(lineProblem);
      continue;
    }
    const field = (f: string) => `files[${index}].${f}`;
    const lines = countLines(content);
    if (lines !== listed.lines) {
      report({
        file: name,
        message: `has ${lines} lines; the manifest (${field('lines')}) says ${listed.lines}`,
      });
    } else if (content.length !== listed.bytes) {
      report({
        file: name,
        message: `has ${content.length} bytes; the manifest (${field('bytes')}) says ${listed.bytes}`,
      });
    } else if (sha256Digest(content) !== listed.digest) {
      report({ file: name, message: `its digest does not match the manifest (${field('digest')})` });
    }
  }
}

/** The first broken line of a `{"hash","prev","record"}` file, or of its tail against the manifest head. */
function checkRecordLines(name: string, content: Uint8Array, head: string): BundleProblem | null {
  let prev = AUDIT_GENESIS_HASH;
  const lines = splitLines(name, content);
  if ('problem' in lines) return lines.problem;
  for (const [index, text] of lines.lines.entries()) {
    const at = { file: name, line: index + 1 };
    const value = parseCanonicalLine(text, at);
    if ('problem' in value) return value.problem;
    const item = value.json as { hash?: unknown; prev?: unknown; record?: unknown };
    if (typeof item !== 'object' || item === null || !('record' in item)) {
      return { ...at, message: 'not a {"hash","prev","record"} line' };
    }
    for (const field of ['hash', 'prev'] as const) {
      if (!isDigest(item[field])) return { ...at, field, message: 'is not a sha256: digest' };
    }
    if (item.prev !== prev) {
      return {
        ...at,
        field: 'prev',
        message:
          index === 0
            ? 'the first line does not start the chain: lines before it were dropped or reordered'
            : `does not link to line ${index}: a line was dropped, added or reordered here`,
      };
    }
    if (lineHash(item.prev, item.record) !== item.hash) {
      return {
        ...at,
        field: 'record',
        message: 'does not hash to the line\'s "hash": the record or its hash was changed',
      };
    }
    prev = item.hash;
  }
  if (prev !== head) {
    return {
      file: name,
      line: lines.lines.length,
      field: 'hash',
      message: 'the last line is not the manifest head: lines were dropped or added at the end',
    };
  }
  return null;
}

/** The first broken link of audit.jsonl: positions, prevHash links and recomputed entry hashes. */
function checkAuditLines(content: Uint8Array, manifest: Manifest): BundleProblem | null {
  const name = 'audit.jsonl';
  const chain = manifest.chain;
  const lines = splitLines(name, content);
  if ('problem' in lines) return lines.problem;
  let prev = chain.prevHash;
  let position = chain.fromPosition ?? 0;
  for (const [index, text] of lines.lines.entries()) {
    const at = { file: name, line: index + 1 };
    const value = parseCanonicalLine(text, at);
    if ('problem' in value) return value.problem;
    const link = value.json as { entry?: Record<string, unknown>; prevHash?: unknown; entryHash?: unknown };
    if (typeof link?.entry !== 'object' || link.entry === null) {
      return { ...at, message: 'not an audit chain entry {"entry","prevHash","entryHash"}' };
    }
    for (const field of ['prevHash', 'entryHash'] as const) {
      if (!isDigest(link[field])) return { ...at, field, message: 'is not a sha256: digest' };
    }
    const entry = link.entry as unknown as Parameters<typeof auditEntryHash>[1];
    if (entry.position !== position) {
      return {
        ...at,
        field: 'entry.position',
        message: `is ${String(entry.position)}, expected ${position}: an entry is missing, added or out of order`,
      };
    }
    if (entry.tenantId !== manifest.tenant) {
      return { ...at, field: 'entry.tenantId', message: `is not the bundle's tenant '${manifest.tenant}'` };
    }
    if (link.prevHash !== prev) {
      return {
        ...at,
        field: 'prevHash',
        message: `does not link to ${index === 0 ? 'the entry before the segment (manifest chain.prevHash)' : `line ${index}`} (position ${position})`,
      };
    }
    if (auditEntryHash(link.prevHash, entry) !== link.entryHash) {
      return {
        ...at,
        field: 'entryHash',
        message: `the entry at position ${position} does not hash to its entryHash: its content was changed after it was written`,
      };
    }
    prev = link.entryHash;
    position += 1;
  }
  if (prev !== chain.head || lines.lines.length !== chain.entries) {
    return {
      file: name,
      line: lines.lines.length,
      field: 'entryHash',
      message: `the segment ends at ${lines.lines.length} entries / ${prev}, the manifest chain at ${chain.entries} / ${chain.head}: entries were dropped or added at the end`,
    };
  }
  return null;
}

function splitLines(name: string, content: Uint8Array): { lines: string[] } | { problem: BundleProblem } {
  const text = Buffer.from(content).toString('utf8');
  if (text.length === 0) return { lines: [] };
  const lines = text.split('\n');
  const last = lines.pop();
  if (last !== '') {
    return {
      problem: { file: name, line: lines.length + 1, message: 'the file does not end with a newline' },
    };
  }
  return { lines };
}

function parseCanonicalLine(
  text: string,
  at: { file: string; line: number },
): { json: unknown } | { problem: BundleProblem } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: { ...at, message: 'not valid JSON' } };
  }
  if (canonicalJson(json) !== text)
    return { problem: { ...at, message: 'not canonical JSON: the line was edited' } };
  return { json };
}

function countLines(content: Uint8Array): number {
  let n = 0;
  for (const byte of content) if (byte === 0x0a) n += 1;
  return n;
}

function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}

function isEnvelope(value: Partial<DsseEnvelope> | undefined): value is DsseEnvelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.payloadType === 'string' &&
    typeof value.payload === 'string' &&
    Array.isArray(value.signatures) &&
    value.signatures.every((s) => typeof s?.keyid === 'string' && typeof s?.sig === 'string')
  );
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The path of the first place two JSON values differ (`files[2].digest`), or '' for the whole value. */
export function firstDifference(a: unknown, b: unknown, path: string): string {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return canonicalJson(a ?? null) === canonicalJson(b ?? null) ? '' : path;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = Array.isArray(a)
    ? Array.from({ length: Math.max(a.length, (b as unknown[]).length) }, (_, i) => String(i))
    : [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const child = Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    const difference = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      child,
    );
    if (difference) return difference;
  }
  return '';
}
