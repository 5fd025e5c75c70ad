import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueToken, SCOPES } from '@jobengine/core';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface DevKeys {
  privateJwk: JWK;
  /** The public key set the runtime verifies tokens against (AUTH_JWKS). */
  jwks: { keys: JWK[] };
}

/**
 * The local runtime's token signing key: an Ed25519 pair created on first start and kept in the data
 * folder, so development tokens stay valid across restarts and nothing is fetched from a network.
 */
export async function loadOrCreateDevKeys(file: string): Promise<DevKeys> {
  try {
    return toDevKeys(JSON.parse(await readFile(file, 'utf8')) as JWK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const privateJwk = {
    ...(await exportJWK(privateKey)),
    alg: 'EdDSA',
    kid: `dev-${Date.now().toString(36)}`,
    use: 'sig',
  };
  await writeFile(file, JSON.stringify(privateJwk), { mode: 0o600 });
  return toDevKeys(privateJwk);
}

function toDevKeys(privateJwk: JWK): DevKeys {
  const { d: _secret, ...publicJwk } = privateJwk;
  return { privateJwk, jwks: { keys: [publicJwk] } };
}

/**
 * Unless a key set is configured (AUTH_JWKS / AUTH_JWKS_URL), trust the local development key and return
 * a development token for it (every scope, every tenant, 30 days); otherwise return ''.
 */
export async function configureDevelopmentAuth(dataDir: string): Promise<string> {
  if (process.env.AUTH_JWKS || process.env.AUTH_JWKS_URL) return '';
  const keys = await loadOrCreateDevKeys(join(dataDir, 'dev-signing-key.json'));
  process.env.AUTH_JWKS = JSON.stringify(keys.jwks);
  return issueToken({
    privateJwk: keys.privateJwk,
    issuer: process.env.AUTH_ISSUER ?? 'jobengine-local',
    audience: process.env.AUTH_AUDIENCE ?? 'jobengine',
    subject: 'local-developer',
    scopes: SCOPES,
    tenants: '*',
    expiresIn: '30d',
  });
}

/**
 * Unless a signing key is configured (AUDIT_SIGNING_KMS_KEY_ID, AUDIT_SIGNING_KEY, AUDIT_SIGNING_KEY_FILE),
 * sign audit export manifests with an Ed25519 key created on first start in the data folder (its public
 * key beside it, for `scripts/audit-verify.ts --public-key`), and keep export bundles there too.
 */
export async function configureDevelopmentAuditExports(dataDir: string): Promise<void> {
  process.env.AUDIT_EXPORT_DIR ??= join(dataDir, 'audit-exports');
  const env = process.env;
  if (env.AUDIT_SIGNING_KMS_KEY_ID || env.AUDIT_SIGNING_KEY || env.AUDIT_SIGNING_KEY_FILE) return;
  const file = join(dataDir, 'audit-signing-key.pem');
  try {
    await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    await writeFile(file, privateKey, { mode: 0o600 });
    await writeFile(join(dataDir, 'audit-signing-key.pub.pem'), publicKey);
  }
  env.AUDIT_SIGNING_KEY_FILE = file;
}
