import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { issueToken, SCOPES } from '../../layers/core/src/auth/tokens.ts';

export interface RunningRuntime {
  /** The key the runtime trusts (pass it to a restarted runtime so old tokens stay valid). */
  privateJwk: JWK;
  url: string;
  wsUrl: string;
  process: ChildProcess;
  /** The latest lines the runtime printed (structured JSON logs and the banner), bounded. */
  output: string[];
  /** Signs a token the runtime accepts; defaults: every scope, the given tenants, 1 h. */
  token(options?: {
    tenants?: string[] | '*';
    scopes?: string[];
    subject?: string;
    expiresIn?: string;
    key?: JWK;
  }): Promise<string>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `local/main.ts` - the `npm start` entry point - as a child process on a free port against the
 * given database, with a key set generated for this test so it can mint any token it needs.
 */
export async function startLocalRuntime(
  databaseUrl: string,
  env: Record<string, string> = {},
  options: { privateJwk?: JWK } = {},
): Promise<RunningRuntime> {
  const privateJwk = options.privateJwk ?? (await generateSigningKey());
  const { d: _d, ...publicJwk } = privateJwk;
  const dataDir = await mkdtemp(join(tmpdir(), 'jobengine-e2e-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: join(import.meta.dirname, '../..'),
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      LOCAL_DATA_DIR: dataDir,
      AUTH_JWKS: JSON.stringify({ keys: [publicJwk] }),
      LOG_LEVEL: 'INFO',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runtime did not start:\n${output.join('\n')}`)), 30_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (output.length > 2000) output.splice(0, output.length - 1000);
        const match = /"message":"JobEngine local runtime listening".*"url":"([^"]+)"/.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code} before listening:\n${output.join('\n')}`));
    });
  });
  return {
    privateJwk,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    process: child,
    output,
    token: (options = {}) =>
      issueToken({
        privateJwk: options.key ?? privateJwk,
        issuer: 'jobengine-local',
        audience: 'jobengine',
        subject: options.subject ?? 'e2e-tester',
        scopes: options.scopes ?? SCOPES,
        tenants: options.tenants ?? '*',
        expiresIn: options.expiresIn ?? '1h',
      }),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      await rm(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** An Ed25519 signing key for test tokens. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { ...(await exportJWK(privateKey)), alg: 'EdDSA', kid: 'e2e' };
}
