import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BundleReport, type VerifyOptions, verifyBundle } from '../../domain/verify-bundle.ts';

/** Every regular file of a bundle directory, by name (bundles are flat). */
export async function readBundleDirectory(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) files.set(entry.name, await readFile(join(dir, entry.name)));
  }
  return files;
}

/**
 * Verifies a bundle directory offline (scripts/audit-verify.ts, the CLI): reads it, then checks signature,
 * digests, counts and chains with no network. `publicKeyFile` is the signer's key (PEM).
 */
export async function verifyBundleDirectory(
  dir: string,
  options: { publicKeyFile?: string | undefined } = {},
): Promise<BundleReport> {
  const verify: VerifyOptions = {};
  if (options.publicKeyFile) verify.publicKeyPem = await readFile(options.publicKeyFile, 'utf8');
  return verifyBundle(await readBundleDirectory(dir), verify);
}
