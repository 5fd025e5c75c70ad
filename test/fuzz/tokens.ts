import { base64url, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

/**
 * Bearer tokens, good and bad, for a runtime that trusts `privateJwk` (issuer `jobengine-local`, audience
 * `jobengine`, as test/support/local-runtime.ts configures it).
 */
export const ISSUER = 'jobengine-local';
export const AUDIENCE = 'jobengine';
const ALL_SCOPES = ['orch:read', 'orch:operate', 'orch:quota', 'orch:backfill'];

export interface TokenSet {
  /** Every scope, for the fuzzing tenant only. */
  valid: string;
  /** Tokens the runtime must refuse with 401, by what is wrong with them. */
  unauthenticated: Record<string, string>;
  /** Valid tokens that must not pass for the fuzzing tenant's operations (403), by why. */
  forbidden: Record<string, string>;
}

interface Claims {
  scope?: unknown;
  tenants?: unknown;
  sub?: string | undefined;
  iss?: string;
  aud?: string;
  exp?: number | undefined;
  nbf?: number;
  iat?: number;
}

async function sign(privateJwk: JWK, claims: Claims, header: Record<string, unknown> = {}): Promise<string> {
  const alg = privateJwk.alg ?? 'EdDSA';
  const key = await importJWK(privateJwk, alg);
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'fuzzer',
    iat: now,
    exp: now + 3600,
    scope: ALL_SCOPES.join(' '),
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload)
    .setProtectedHeader({ alg, kid: privateJwk.kid, typ: 'JWT', ...header } as never)
    .sign(key);
}

const encode = (value: unknown) => base64url.encode(JSON.stringify(value));

export async function tokenSet(privateJwk: JWK, tenant: string, otherTenant: string): Promise<TokenSet> {
  const now = Math.floor(Date.now() / 1000);
  const mine = { tenants: [tenant] };
  const valid = await sign(privateJwk, mine);
  const [header, payload, signature] = valid.split('.') as [string, string, string];
  const { privateKey: strangerKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const stranger = { ...(await exportJWK(strangerKey)), alg: 'EdDSA', kid: privateJwk.kid };
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
  const { d: _secret, ...publicJwk } = privateJwk;
  const hmacKey = new TextEncoder().encode(JSON.stringify(publicJwk));
  const confused = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: privateJwk.kid })
    .sign(hmacKey);
  return {
    valid,
    unauthenticated: {
      'alg none': `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg none, signature kept': `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`,
      'HS256 keyed with the public key': confused,
      expired: await sign(privateJwk, { ...mine, exp: now - 3600, iat: now - 7200 }),
      'not yet valid': await sign(privateJwk, { ...mine, nbf: now + 3600 }),
      'signed by another key with the same kid': await sign(stranger, mine),
      'wrong issuer': await sign(privateJwk, { ...mine, iss: 'https://evil.example' }),
      'wrong audience': await sign(privateJwk, { ...mine, aud: 'someone-else' }),
      'no subject': await sign(privateJwk, { ...mine, sub: undefined }),
      'no expiry': await sign(privateJwk, { ...mine, exp: undefined }),
      'no tenants claim': await sign(privateJwk, {}),
      'tenants claim is a number': await sign(privateJwk, { tenants: 5 }),
      'tenants claim holds an object': await sign(privateJwk, { tenants: [{ $ne: null }] }),
      'payload edited after signing': `${header}.${encode({ ...claims, tenants: '*' })}.${signature}`,
      'signature stripped': `${header}.${payload}.`,
      'two segments': `${header}.${payload}`,
      garbage: 'not-a-token',
      huge: `${header}.${'A'.repeat(8_000)}.${signature}`,
      'unknown kid': await sign(privateJwk, mine, { kid: 'nobody' }),
    },
    forbidden: {
      'no scopes': await sign(privateJwk, { ...mine, scope: '' }),
      'scope claim is not a string': await sign(privateJwk, { ...mine, scope: ['orch:operate'] }),
      'another tenant only': await sign(privateJwk, { tenants: [otherTenant] }),
      'empty tenant list': await sign(privateJwk, { tenants: [] }),
    },
  };
}

/** A token with exactly these scopes for the fuzzing tenant (403 on operations needing another scope). */
export function scopedToken(privateJwk: JWK, tenant: string, scopes: string[]): Promise<string> {
  return sign(privateJwk, { tenants: [tenant], scope: scopes.join(' ') });
}
