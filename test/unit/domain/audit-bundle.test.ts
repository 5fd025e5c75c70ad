import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeySigner } from '../../../layers/core/src/adapters/local/key-signer.ts';
import { AUDIT_GENESIS_HASH, chainAuditEntries } from '../../../layers/core/src/domain/audit.ts';
import {
  type BundleInput,
  buildBundle,
  GENERATOR,
  MANIFEST_PAYLOAD_TYPE,
} from '../../../layers/core/src/domain/audit-bundle.ts';
import { canonicalJson } from '../../../layers/core/src/domain/canonical-json.ts';
import { preAuthEncoding } from '../../../layers/core/src/domain/dsse.ts';
import { runProvenance } from '../../../layers/core/src/domain/provenance.ts';
import {
  firstDifference,
  formatProblem,
  verifyBundle,
} from '../../../layers/core/src/domain/verify-bundle.ts';

/** The bundle format and its verifier, without a database: determinism, signatures, and every tamper. */
const keys = generateKeyPairSync('ed25519', {
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const signer = new KeySigner(keys.privateKey);

function input(): BundleInput {
  const entries = chainAuditEntries(
    { position: 4, entryHash: `sha256:${'1'.repeat(64)}` },
    ['source.create', 'run.submit', 'run.cancel'].map((action, i) => ({
      tenantId: 'acme',
      entryId: `0193a1b2-0000-7000-8000-00000000000${i}`,
      occurredAt: `2026-01-01T00:0${i}:00.000Z`,
      actor: { subject: 'alice', scopes: ['orch:operate'] },
      projectId: null,
      action,
      target: { kind: action.split('.')[0]!, id: `t-${i}` },
      reason: 'why',
      ticket: null,
      requestId: `r-${i}`,
      correlationId: null,
      beforeDigest: null,
      afterDigest: null,
    })),
  );
  const records = (n: number, kind: string) =>
    Array.from({ length: n }, (_, i) => ({ id: `${kind}-${i}`, n: i }));
  return {
    tenant: 'acme',
    window: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' },
    filter: { runId: null, sourceId: null },
    audit: { anchor: `sha256:${'1'.repeat(64)}`, entries },
    records: {
      'jobs.jsonl': records(3, 'job'),
      'history.jsonl': records(6, 'h'),
      'throttles.jsonl': [],
      'artifacts.jsonl': records(2, 'a'),
      'provenance.jsonl': records(1, 'p'),
    },
  };
}

async function files(bundleInput = input()): Promise<Map<string, Buffer>> {
  const built = buildBundle(bundleInput);
  const sig = await signer.sign(preAuthEncoding(MANIFEST_PAYLOAD_TYPE, built.manifestBytes));
  const envelope = {
    payloadType: MANIFEST_PAYLOAD_TYPE,
    payload: built.manifestBytes.toString('base64'),
    signatures: [{ keyid: await signer.keyId(), sig: sig.toString('base64') }],
  };
  return new Map<string, Buffer>([
    ...built.files.map((f) => [f.name, f.content] as [string, Buffer]),
    ['manifest.json', built.manifestBytes],
    ['manifest.dsse.json', Buffer.from(`${canonicalJson(envelope)}\n`)],
    ['public-key.pem', Buffer.from(keys.publicKey)],
  ]);
}

const edit = (bundle: Map<string, Buffer>, name: string, change: (lines: string[]) => string[]) => {
  const copy = new Map(bundle);
  copy.set(name, Buffer.from(change(bundle.get(name)!.toString('utf8').split('\n')).join('\n')));
  return verifyBundle(copy, { publicKeyPem: keys.publicKey });
};

describe('export bundles', () => {
  it('are byte-identical for the same input and verify against the signer key', async () => {
    const [a, b] = [await files(), await files()];
    for (const [name, content] of a) expect(content.equals(b.get(name)!), name).toBe(true);
    const report = verifyBundle(a, { publicKeyPem: keys.publicKey });
    expect(report).toMatchObject({ ok: true, problems: [], trust: 'given-key', keyId: await signer.keyId() });
    expect(report.manifest?.chain).toEqual({
      entries: 3,
      fromPosition: 5,
      toPosition: 7,
      prevHash: `sha256:${'1'.repeat(64)}`,
      head: input().audit.entries[2]!.entryHash,
    });
    expect(verifyBundle(a)).toMatchObject({ ok: true, trust: 'bundle-key' });
  });

  it('record the generator version of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8'));
    expect(GENERATOR).toEqual({ name: 'jobengine', version: pkg.version });
  });

  it('name the line and field of an edited record, a swapped, dropped or added line', async () => {
    const bundle = await files();
    const jobs = edit(bundle, 'jobs.jsonl', (lines) =>
      lines.map((l, i) => (i === 1 ? l.replace('"n":1', '"n":7') : l)),
    );
    expect(jobs.problems[0]).toMatchObject({ file: 'jobs.jsonl', line: 2, field: 'record' });
    const swapped = edit(bundle, 'history.jsonl', ([a, b, ...rest]) => [b!, a!, ...rest]);
    expect(swapped.problems[0]).toMatchObject({ file: 'history.jsonl', line: 1, field: 'prev' });
    const dropped = edit(bundle, 'history.jsonl', (lines) => lines.filter((_, i) => i !== 3));
    expect(dropped.problems[0]).toMatchObject({ file: 'history.jsonl', line: 4, field: 'prev' });
    const added = edit(bundle, 'throttles.jsonl', () => ['{"hash":"x","prev":"y","record":{}}', '']);
    expect(added.problems[0]).toMatchObject({ file: 'throttles.jsonl', line: 1, field: 'hash' });
    const spaced = edit(bundle, 'artifacts.jsonl', (lines) =>
      lines.map((l, i) => (i === 0 ? l.replace(':', ': ') : l)),
    );
    expect(formatProblem(spaced.problems[0]!)).toBe(
      'artifacts.jsonl:1: not canonical JSON: the line was edited',
    );
    const unterminated = edit(bundle, 'provenance.jsonl', (lines) => lines.slice(0, -1));
    expect(unterminated.problems[0]).toMatchObject({
      file: 'provenance.jsonl',
      line: 1,
      message: 'the file does not end with a newline',
    });
  });

  it('name the audit entry whose content, link or position does not hold', async () => {
    const bundle = await files();
    const content = edit(bundle, 'audit.jsonl', (lines) =>
      lines.map((l, i) => (i === 1 ? l.replace('"why"', '"because"') : l)),
    );
    expect(content.problems[0]).toMatchObject({ file: 'audit.jsonl', line: 2, field: 'entryHash' });
    expect(content.problems[0]!.message).toContain('position 6');
    const dropped = edit(bundle, 'audit.jsonl', (lines) => lines.filter((_, i) => i !== 0));
    expect(dropped.problems[0]).toMatchObject({ file: 'audit.jsonl', line: 1, field: 'entry.position' });
    const tail = edit(bundle, 'audit.jsonl', (lines) => [...lines.slice(0, 2), '']);
    expect(tail.problems[0]).toMatchObject({ file: 'audit.jsonl', line: 2, field: 'entryHash' });
    expect(tail.problems[0]!.message).toContain('dropped or added at the end');
  });

  it('catch an edited manifest, a forged signature, another key and missing files', async () => {
    const bundle = await files();
    const manifest = new Map(bundle);
    const edited = JSON.parse(bundle.get('manifest.json')!.toString());
    edited.files[1].lines = 99;
    manifest.set('manifest.json', Buffer.from(`${canonicalJson(edited)}\n`));
    expect(verifyBundle(manifest, { publicKeyPem: keys.publicKey }).problems[0]).toMatchObject({
      file: 'manifest.json',
      field: 'files[1].lines',
    });

    const forged = new Map(bundle);
    const envelope = JSON.parse(bundle.get('manifest.dsse.json')!.toString());
    envelope.payload = Buffer.from(`${canonicalJson(edited)}\n`).toString('base64');
    forged.set('manifest.dsse.json', Buffer.from(JSON.stringify(envelope)));
    forged.set('manifest.json', Buffer.from(`${canonicalJson(edited)}\n`));
    expect(verifyBundle(forged, { publicKeyPem: keys.publicKey }).problems[0]).toMatchObject({
      file: 'manifest.dsse.json',
      field: 'signatures[0].sig',
    });

    const stranger = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const resigned = new Map(bundle);
    resigned.set('public-key.pem', Buffer.from(stranger.publicKey));
    const strangerEnvelope = JSON.parse(bundle.get('manifest.dsse.json')!.toString());
    strangerEnvelope.signatures = [
      {
        keyid: 'sha256:whatever',
        sig: sign(
          null,
          preAuthEncoding(MANIFEST_PAYLOAD_TYPE, bundle.get('manifest.json')!),
          stranger.privateKey,
        ).toString('base64'),
      },
    ];
    resigned.set('manifest.dsse.json', Buffer.from(JSON.stringify(strangerEnvelope)));
    const problems = verifyBundle(resigned, { publicKeyPem: keys.publicKey }).problems;
    expect(problems.map((p) => p.file)).toEqual(['public-key.pem', 'manifest.dsse.json']);

    const missing = new Map(bundle);
    missing.delete('artifacts.jsonl');
    expect(verifyBundle(missing, { publicKeyPem: keys.publicKey }).problems).toEqual([
      { file: 'artifacts.jsonl', message: 'missing from the bundle' },
    ]);
    const unsigned = new Map(bundle);
    unsigned.delete('manifest.dsse.json');
    expect(verifyBundle(unsigned).problems[0]).toMatchObject({ file: 'manifest.dsse.json' });
  });

  it('find the first differing path of two JSON values', () => {
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }, '')).toBe('a[1].b');
    expect(firstDifference({ a: 1 }, { a: 1 }, '')).toBe('');
  });
});

describe('run provenance', () => {
  it('links inputs, attempts, workers and artifacts; a run without outputs attests its DAG', () => {
    const run = {
      id: 'r1',
      kind: 'adhoc',
      status: 'succeeded',
      projectId: null,
      sourceId: null,
      dagDigest: `sha256:${'d'.repeat(64)}`,
      priority: 0,
      correlationId: 'c',
      createdBy: 'alice',
      createdAt: 't0',
      startedAt: null,
      finishedAt: null,
    };
    const job = (id: string, key: string) => ({
      id,
      runId: 'r1',
      key,
      type: 'x',
      status: 'succeeded',
      priority: 0,
      attempt: 2,
      maxAttempts: 3,
      payloadDigest: `sha256:${'0'.repeat(64)}`,
      sourceId: null,
      projectId: null,
      replayOf: null,
      correlationId: 'c',
      reason: null,
      lastError: null,
      createdAt: 't0',
      startedAt: null,
      finishedAt: null,
    });
    const h = (
      id: number,
      attempt: number,
      from: string | null,
      to: string,
      transition: string,
      actor: string,
    ) => ({
      id,
      jobId: 'j1',
      runId: 'r1',
      attempt,
      fromStatus: from,
      toStatus: to,
      transition,
      reason: null,
      leaseId: transition === 'lease' ? `l${attempt}` : null,
      actor,
      details: null,
      at: `t${id}`,
    });
    const history = [
      h(1, 0, null, 'queued', 'plan', 'system:planner'),
      h(2, 1, 'queued', 'leased', 'lease', 'w-a'),
      h(3, 1, 'leased', 'queued', 'retry', 'w-a'),
      h(4, 2, 'queued', 'leased', 'lease', 'w-b'),
      h(5, 2, 'leased', 'succeeded', 'succeed', 'w-b'),
    ];
    const artifact = {
      id: 'a1',
      digest: `sha256:${'e'.repeat(64)}`,
      runId: 'r1',
      jobId: 'j1',
      attempt: 2,
      uri: 's3://out',
      sizeBytes: 1,
      mediaType: 'text/plain',
      kind: 'report',
      createdAt: 't5',
    };
    const statement = runProvenance('acme', run, [job('j2', 'b'), job('j1', 'a')], history, [artifact]);
    expect(statement.subject).toEqual([{ name: 's3://out', digest: { sha256: 'e'.repeat(64) } }]);
    expect(statement.predicate.inputs.map((i) => i.jobKey)).toEqual(['a', 'b']);
    expect(statement.predicate.workers).toEqual(['w-a', 'w-b']);
    expect(statement.predicate.jobs[0]!.attempts).toEqual([
      {
        attempt: 1,
        leaseId: 'l1',
        worker: 'w-a',
        leasedAt: 't2',
        outcome: 'queued',
        endedAt: 't3',
        artifacts: [],
      },
      {
        attempt: 2,
        leaseId: 'l2',
        worker: 'w-b',
        leasedAt: 't4',
        outcome: 'succeeded',
        endedAt: 't5',
        artifacts: [artifact.digest],
      },
    ]);
    expect(runProvenance('acme', run, [], [], []).subject).toEqual([
      { name: 'jobengine:run/r1/dag', digest: { sha256: 'd'.repeat(64) } },
    ]);
    expect(AUDIT_GENESIS_HASH).toMatch(/^sha256:0{64}$/);
  });
});
