import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundleDirectory } from '../../layers/core/src/adapters/local/bundle-directory.ts';
import { FileExportStore } from '../../layers/core/src/adapters/local/file-export-store.ts';
import { KeySigner } from '../../layers/core/src/adapters/local/key-signer.ts';
import { systemClock, uuidV7Ids } from '../../layers/core/src/adapters/system.ts';
import type { AuditExport } from '../../layers/core/src/api/audit.ts';
import { ValidationError } from '../../layers/core/src/domain/errors.ts';
import { AuditExportsService } from '../../layers/core/src/services/audit-exports.ts';
import type { CallContext } from '../../layers/core/src/services/context.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { callAs, testServices } from '../support/services.ts';

/**
 * Export bundles on real PostgreSQL (docs/adr/0012-audit-and-provenance.md): what a window holds, two
 * exports of one window byte for byte, offline verification, and tampering - with a file (one byte, two
 * lines swapped, a line dropped) or with the database itself as a superuser - named where it happened.
 */
describe('audit export bundles', () => {
  let t: TestDatabase;
  let s: ReturnType<typeof testServices>;
  let exports: AuditExportsService;
  let storeDir: string;
  let keyFile: string;
  let workDir: string;
  const tenant = 'exporter';
  const operator: CallContext = {
    ...callAs(tenant, 'alice'),
    requestId: 'req-1',
    note: { reason: 'quarterly review', ticket: 'OPS-7' },
  };
  const worker = callAs(tenant, 'worker-svc');
  let window: { from: string; to: string };
  let runId: string;
  let sourceId: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    s = testServices(t.db);
    storeDir = await mkdtemp(join(tmpdir(), 'jobengine-exports-'));
    workDir = await mkdtemp(join(tmpdir(), 'jobengine-tamper-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    keyFile = join(workDir, 'signer.pub.pem');
    await writeFile(keyFile, publicKey);
    const signer = new KeySigner(privateKey);
    exports = new AuditExportsService({
      db: t.db,
      clock: systemClock,
      ids: uuidV7Ids,
      store: new FileExportStore(storeDir),
      signer: async () => signer,
    });

    const from = new Date(Date.now() - 1000).toISOString();
    const source = await s.sources.create(operator, {
      name: 'nvd',
      type: 'advisory_feed',
      upstreamHost: 'nvd.example',
      config: {},
      enabled: true,
    });
    sourceId = source.id;
    await s.sources.update(operator, source.id, { enabled: false }, null);
    const run = await s.runs.submit(operator, {
      priority: 0,
      sourceId: source.id,
      jobs: [
        { key: 'fetch', type: 'export.fetch', payload: { page: 1 }, dependsOn: [] },
        { key: 'parse', type: 'export.parse', payload: {}, dependsOn: ['fetch'] },
      ],
    });
    runId = run.id;
    await s.runs.plan(tenant, run.id);
    const digestA = `sha256:${'a'.repeat(64)}`;
    const digestB = `sha256:${'b'.repeat(64)}`;
    const [fetch] = await s.leasing.lease(worker, {
      workerId: 'w1',
      types: ['export.fetch'],
      max: 1,
      leaseSeconds: 60,
    });
    await s.leasing.progress(worker, fetch!.jobId, {
      leaseId: fetch!.leaseId,
      progress: { percent: 50 },
      artifacts: [
        {
          uri: 's3://bucket/raw.json',
          digest: digestA,
          sizeBytes: 10,
          mediaType: 'application/json',
          kind: 'raw',
        },
      ],
    });
    await s.leasing.complete(worker, [
      { jobId: fetch!.jobId, leaseId: fetch!.leaseId, outcome: 'succeeded', artifacts: [] },
    ]);
    const [parse] = await s.leasing.lease(worker, {
      workerId: 'w1',
      types: ['export.parse'],
      max: 1,
      leaseSeconds: 60,
    });
    await s.leasing.complete(worker, [
      {
        jobId: parse!.jobId,
        leaseId: parse!.leaseId,
        outcome: 'succeeded',
        artifacts: [
          {
            uri: 's3://bucket/parsed.json',
            digest: digestB,
            sizeBytes: 20,
            mediaType: 'application/json',
            kind: 'sbom',
          },
        ],
      },
    ]);
    const other = await s.runs.submit(operator, {
      priority: 0,
      jobs: [{ key: 'x', type: 'export.other', payload: {}, dependsOn: [] }],
    });
    await s.runs.cancel(operator, other.id);
    await t.admin.query(
      `INSERT INTO throttles (tenant_id, id, target_kind, target_id, kind, starts_at, reason, created_by, created_at)
       VALUES ($1, gen_random_uuid(), 'source', $2, 'pause', now(), 'upstream maintenance', 'alice', now())`,
      [tenant, source.id],
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    window = { from, to: new Date().toISOString() };
  });
  afterAll(async () => {
    s.planQueue.close();
    await t.drop();
    await rm(storeDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  const bundleDir = (e: AuditExport) => join(storeDir, tenant, e.id);
  const lines = async (e: AuditExport, name: string) =>
    (await readFile(join(bundleDir(e), name), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));

  it('exports the window: the audit chain segment, the runs created in it, their history, artifacts and provenance', async () => {
    const bundle = await exports.create(operator, window);
    expect(bundle).toMatchObject({ status: 'succeeded', error: null, requestedBy: 'alice', window });
    expect(bundle.files.map((f) => f.name)).toEqual([
      'audit.jsonl',
      'jobs.jsonl',
      'history.jsonl',
      'throttles.jsonl',
      'artifacts.jsonl',
      'provenance.jsonl',
      'manifest.json',
      'manifest.dsse.json',
      'public-key.pem',
    ]);
    const audit = await lines(bundle, 'audit.jsonl');
    expect(audit.map((l) => l.entry.action)).toEqual([
      'source.create',
      'source.update',
      'run.submit',
      'run.submit',
      'run.cancel',
    ]);
    expect(audit[1].entry).toMatchObject({ reason: 'quarterly review', ticket: 'OPS-7', requestId: 'req-1' });
    expect(audit[1].entry.beforeDigest).not.toBe(audit[1].entry.afterDigest);
    const jobs = (await lines(bundle, 'jobs.jsonl')).map((l) => l.record);
    expect(jobs.map((j) => j.key).sort()).toEqual(['fetch', 'parse']);
    expect(jobs[0]).not.toHaveProperty('payload');
    const history = (await lines(bundle, 'history.jsonl')).map((l) => l.record);
    expect(history.filter((h) => h.transition === 'lease')).toHaveLength(2);
    expect((await lines(bundle, 'artifacts.jsonl')).map((l) => l.record.kind)).toEqual(['raw', 'sbom']);
    expect((await lines(bundle, 'throttles.jsonl')).map((l) => l.record.reason)).toEqual([
      'upstream maintenance',
    ]);

    const provenance = (await lines(bundle, 'provenance.jsonl')).map((l) => l.record);
    const statement = provenance.find((p) => p.predicate.run.id === runId);
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'urn:jobengine:provenance:run:v1',
      subject: [
        { name: 's3://bucket/raw.json', digest: { sha256: 'a'.repeat(64) } },
        { name: 's3://bucket/parsed.json', digest: { sha256: 'b'.repeat(64) } },
      ],
      predicate: { tenant, workers: ['worker-svc'] },
    });
    expect(statement.predicate.inputs.map((i: { jobKey: string }) => i.jobKey)).toEqual(['fetch', 'parse']);
    expect(statement.predicate.jobs[0].attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        worker: 'worker-svc',
        outcome: 'succeeded',
        artifacts: [`sha256:${'a'.repeat(64)}`],
      }),
    ]);
    const canceled = provenance.find((p) => p.predicate.run.id !== runId);
    expect(canceled.subject[0].name).toMatch(/^jobengine:run\/.+\/dag$/);

    const report = await verifyBundleDirectory(bundleDir(bundle), { publicKeyFile: keyFile });
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, trust: 'given-key' });
    expect(report.manifest?.chain).toMatchObject({ entries: 5, fromPosition: 1, toPosition: 5 });
  });

  it('makes byte-identical bundles of the same window, and audits each export', async () => {
    const first = await exports.create(operator, window);
    const second = await exports.create(operator, window);
    expect(second.id).not.toBe(first.id);
    expect(second.files).toEqual(
      first.files.map((f) => ({ ...f, href: f.href.replace(first.id, second.id) })),
    );
    for (const name of await readdir(bundleDir(first))) {
      expect(
        (await readFile(join(bundleDir(second), name))).equals(await readFile(join(bundleDir(first), name))),
        name,
      ).toBe(true);
    }
    const { rows } = await t.admin.query(
      `SELECT target_id FROM audit_log WHERE tenant_id = $1 AND action = 'audit_export.create' ORDER BY position`,
      [tenant],
    );
    expect(rows.map((r) => r.target_id)).toEqual(expect.arrayContaining([first.id, second.id]));
    expect(await exports.file(operator, first.id, 'manifest.json')).toMatchObject({
      digest: first.manifestDigest,
    });
  });

  it('narrows runs to a run or a source filter; the audit segment stays whole', async () => {
    const one = await exports.create(operator, { ...window, runId });
    expect((await lines(one, 'jobs.jsonl')).map((l) => l.record.key).sort()).toEqual(['fetch', 'parse']);
    expect(await lines(one, 'audit.jsonl')).toHaveLength(5);
    const bySource = await exports.create(operator, { ...window, sourceId });
    expect((await lines(bySource, 'provenance.jsonl')).map((l) => l.record.predicate.run.id)).toEqual([
      runId,
    ]);
    expect((await verifyBundleDirectory(bundleDir(bySource), { publicKeyFile: keyFile })).ok).toBe(true);
    await expect(
      exports.create(operator, { ...window, runId: '0193a1b2-0000-7000-8000-000000000001' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('refuses an open window and records a failed export when it cannot sign', async () => {
    await expect(
      exports.create(operator, { from: window.from, to: new Date(Date.now() + 60_000).toISOString() }),
    ).rejects.toBeInstanceOf(ValidationError);
    const unsigned = new AuditExportsService({
      db: t.db,
      clock: systemClock,
      ids: uuidV7Ids,
      store: new FileExportStore(storeDir),
      signer: async () => {
        throw new Error('configuration: no audit signing key');
      },
    });
    const failed = await unsigned.create(operator, window);
    expect(failed).toMatchObject({
      status: 'failed',
      error: 'configuration: no audit signing key',
      files: [],
    });
    expect(await exports.get(operator, failed.id)).toEqual(failed);
    await expect(exports.file(operator, failed.id, 'manifest.json')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  /** A copy of the bundle changed by `tamper`, verified: its first problem. */
  async function tampered(e: AuditExport, name: string, tamper: (text: string) => string) {
    const dir = join(workDir, `${e.id}-${name}-${Math.random().toString(36).slice(2)}`);
    await cp(bundleDir(e), dir, { recursive: true });
    const path = join(dir, name);
    await writeFile(path, tamper(await readFile(path, 'utf8')));
    const report = await verifyBundleDirectory(dir, { publicKeyFile: keyFile });
    expect(report.ok, `${name} tampered but verified`).toBe(false);
    return report.problems[0]!;
  }

  /** Changes one hex digit in the middle of the text (the JSON stays valid). */
  const flipOneByte = (text: string) => {
    const at = text.slice(Math.floor(text.length / 2)).search(/[0-9a-f]/) + Math.floor(text.length / 2);
    return text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1);
  };
  const swapLines = (i: number, j: number) => (text: string) => {
    const parts = text.split('\n');
    [parts[i], parts[j]] = [parts[j]!, parts[i]!];
    return parts.join('\n');
  };
  const dropLine = (i: number) => (text: string) =>
    text
      .split('\n')
      .filter((_, n) => n !== i)
      .join('\n');

  it('names the file, line and field when one byte of any file changes', async () => {
    const bundle = await exports.create(operator, window);
    const expected: Record<string, RegExp> = {
      'audit.jsonl': /^audit\.jsonl:\d+ (entryHash|prevHash|entry\.\w+)/,
      'jobs.jsonl': /^jobs\.jsonl:\d+ (record|hash|prev)/,
      'history.jsonl': /^history\.jsonl:\d+ (record|hash|prev)/,
      'throttles.jsonl': /^throttles\.jsonl:1 (record|hash|prev)/,
      'artifacts.jsonl': /^artifacts\.jsonl:\d (record|hash|prev)/,
      'provenance.jsonl': /^provenance\.jsonl:\d (record|hash|prev)/,
      'manifest.json': /^manifest\.json \w+/,
      'manifest.dsse.json': /^manifest\.dsse\.json/,
      'public-key.pem': /^public-key\.pem/,
    };
    const { formatProblem } = await import('../../layers/core/src/domain/verify-bundle.ts');
    for (const [name, where] of Object.entries(expected)) {
      const problem = await tampered(bundle, name, flipOneByte);
      expect(formatProblem(problem), name).toMatch(where);
    }
  });

  it('names the line where two lines were swapped or one was dropped', async () => {
    const bundle = await exports.create(operator, window);
    expect(await tampered(bundle, 'history.jsonl', swapLines(2, 3))).toMatchObject({
      file: 'history.jsonl',
      line: 3,
      field: 'prev',
    });
    expect(await tampered(bundle, 'history.jsonl', dropLine(4))).toMatchObject({
      file: 'history.jsonl',
      line: 5,
      field: 'prev',
    });
    expect(await tampered(bundle, 'audit.jsonl', swapLines(0, 1))).toMatchObject({
      file: 'audit.jsonl',
      line: 1,
      field: 'entry.position',
    });
    expect(await tampered(bundle, 'audit.jsonl', dropLine(2))).toMatchObject({
      file: 'audit.jsonl',
      line: 3,
      field: 'entry.position',
    });
    const lastJob = (await lines(bundle, 'jobs.jsonl')).length - 1;
    expect(await tampered(bundle, 'jobs.jsonl', dropLine(lastJob))).toMatchObject({
      file: 'jobs.jsonl',
      field: 'hash',
      message: expect.stringContaining('dropped or added at the end'),
    });
  });

  it('detects an audit row edited in the database by a superuser, at its position', async () => {
    await expect(
      t.admin.query(`UPDATE audit_log SET reason = 'nothing to see' WHERE tenant_id = $1 AND position = 2`, [
        tenant,
      ]),
    ).rejects.toThrow(/append-only/);
    await t.admin.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    try {
      await t.admin.query(
        `UPDATE audit_log SET reason = 'nothing to see' WHERE tenant_id = $1 AND position = 2`,
        [tenant],
      );
    } finally {
      await t.admin.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    }
    const bundle = await exports.create(operator, window);
    expect(bundle.status).toBe('succeeded');
    const report = await verifyBundleDirectory(bundleDir(bundle), { publicKeyFile: keyFile });
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ file: 'audit.jsonl', line: 2, field: 'entryHash' });
    expect(report.problems[0]!.message).toMatch(/position 2 .*changed after it was written/);
  });
});
