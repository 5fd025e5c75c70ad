import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundleDirectory } from '../../layers/core/src/adapters/local/bundle-directory.ts';
import { type E2e, httpCaller, startE2e } from './helpers.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

/**
 * Audit and provenance over real HTTP (docs/adr/0012-audit-and-provenance.md): operator actions land in
 * the audit log with their reason and ticket; an export is downloaded file by file and verified offline by
 * scripts/audit-verify.ts, which names the line a tampered byte is on; another tenant sees none of it.
 */
describe('audit log, exports and artifacts through the local runtime', () => {
  let e: E2e;
  let other: ReturnType<typeof httpCaller>;
  let dir: string;
  let publicKeyFile: string;
  const operator = { 'X-Stella-Operator-Reason': 'rotate feed', 'X-Stella-Operator-Ticket': 'CHG-12' };

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    dir = await mkdtemp(join(tmpdir(), 'jobengine-audit-e2e-'));
    publicKeyFile = join(dir, 'signer.pub.pem');
    await writeFile(publicKeyFile, publicKey);
    e = await startE2e({ tenant: 'acme' }, { AUDIT_SIGNING_KEY: privateKey, TICK_INTERVAL_MS: '3600000' });
    other = httpCaller(e.runtime.url, {
      token: await e.runtime.token({ tenants: ['globex'] }),
      tenant: 'globex',
    });
  });
  afterAll(async () => {
    await e?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function download(exportId: string, into: string, files: { name: string; href: string }[]) {
    const token = await e.runtime.token({ tenants: ['acme'] });
    for (const file of files) {
      const response = await fetch(`${e.runtime.url}${file.href}`, {
        headers: { Authorization: `Bearer ${token}`, 'X-Stella-Tenant': 'acme' },
      });
      expect(response.status, `${exportId} ${file.name}`).toBe(200);
      await writeFile(join(into, file.name), Buffer.from(await response.arrayBuffer()));
    }
  }

  const verify = async (bundle: string) =>
    run(
      process.execPath,
      ['--import', 'tsx', 'scripts/audit-verify.ts', bundle, '--public-key', publicKeyFile],
      {
        cwd: ROOT,
      },
    ).then(
      (ok) => ({ code: 0, out: ok.stdout }),
      (failed: { code: number; stdout: string }) => ({ code: failed.code, out: failed.stdout }),
    );

  it('records operator actions, exports them signed, and the offline verifier holds the bundle to it', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const source = await e.call('POST', '/api/v1/sources', {
      body: { name: 'osv', type: 'advisory_feed', upstreamHost: 'osv.example' },
      headers: operator,
    });
    expect(source.status).toBe(201);
    const job = await e.call('POST', '/api/v1/jobs', {
      body: { type: 'audit.e2e', sourceId: source.json.id },
    });
    const leased = await e.call('POST', '/api/v1/worker/leases', {
      body: { workerId: 'w', types: ['audit.e2e'] },
    });
    const digest = `sha256:${'9'.repeat(64)}`;
    const completed = await e.call('POST', `/api/v1/worker/jobs/${job.json.id}:complete`, {
      body: {
        leaseId: leased.json.leases[0].leaseId,
        outcome: 'succeeded',
        artifacts: [
          {
            uri: 'file:///out/sbom.json',
            digest,
            sizeBytes: 42,
            mediaType: 'application/json',
            kind: 'sbom',
          },
        ],
      },
    });
    expect(completed.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const to = new Date().toISOString();

    const log = await e.call('GET', `/api/v1/audit?target_kind=source&target_id=${source.json.id}`);
    expect(log.json.items).toEqual([
      expect.objectContaining({ action: 'source.create', reason: 'rotate feed', ticket: 'CHG-12' }),
    ]);
    expect((await e.call('GET', '/api/v1/audit?action=job.submit')).json.items).toHaveLength(1);

    const created = await e.call('POST', '/api/v1/audit/exports', {
      body: { from, to, sourceId: source.json.id },
      headers: operator,
    });
    expect(created.status).toBe(201);
    expect(created.json.status).toBe('succeeded');
    const bundle = join(dir, 'bundle');
    await mkdir(bundle);
    await download(created.json.id, bundle, created.json.files);
    const provenance = JSON.parse((await readFile(join(bundle, 'provenance.jsonl'), 'utf8')).split('\n')[0]!);
    expect(provenance.record.subject).toEqual([
      { name: 'file:///out/sbom.json', digest: { sha256: '9'.repeat(64) } },
    ]);

    // The CLI's logic, in process (the CLI itself runs once below, on the tampered copy).
    const verified = await verifyBundleDirectory(bundle, { publicKeyFile });
    expect(verified).toMatchObject({ ok: true, problems: [], trust: 'given-key' });

    const history = join(bundle, 'history.jsonl');
    const text = await readFile(history, 'utf8');
    const second = text.indexOf('\n') + 1;
    const at = text.indexOf('"actor":"', second) + '"actor":"'.length;
    await writeFile(history, `${text.slice(0, at)}X${text.slice(at + 1)}`);
    const broken = await verify(bundle);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^BROKEN {2}first broken link: history\.jsonl:2 record: /);

    const again = await e.call('POST', '/api/v1/audit/exports', {
      body: { from, to, sourceId: source.json.id },
    });
    expect(again.json.manifestDigest).toBe(created.json.manifestDigest);
    const exportsLog = await e.call('GET', '/api/v1/audit?action=audit_export.create');
    expect(exportsLog.json.items.map((i: { target: { id: string } }) => i.target.id)).toEqual([
      created.json.id,
      again.json.id,
    ]);

    expect((await other('GET', `/api/v1/audit/exports/${created.json.id}`)).status).toBe(404);
    expect((await other('GET', `/api/v1/audit/exports/${created.json.id}/files/manifest.json`)).status).toBe(
      404,
    );
    expect((await other('GET', `/api/v1/artifacts/${digest}`)).status).toBe(404);
    expect((await other('GET', `/api/v1/runs/${job.json.runId}/artifacts`)).status).toBe(404);
    expect((await other('GET', '/api/v1/audit')).json.items).toEqual([]);
    expect((await e.call('GET', `/api/v1/artifacts/${digest}`)).json.registrations).toHaveLength(1);
  });
});
