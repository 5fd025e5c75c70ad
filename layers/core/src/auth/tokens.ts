import {
  createLocalJWKSet,
  createRemoteJWKSet,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Config } from '../config.ts';
import { AppError } from '../domain/errors.ts';

export const SCOPES = ['orch:read', 'orch:operate', 'orch:quota', 'orch:backfill'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, as proven by the bearer token. */
export interface Principal {
  subject: string;
  scopes: ReadonlySet<string>;
  /** Tenants the token grants; '*' grants every tenant (operators of the whole platform). */
  tenants: readonly string[] | '*';
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  clockSkewSeconds: number;
  /** A JWKS document (offline) or a URL serving one. */
  jwks: { keys: JWK[] } | URL;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * Verifies JWT bearer tokens with jose: signature against the key set, issuer, audience, expiry (bounded
 * clock skew), and the claims we rely on (`sub`, `scope`, `tenants`). Any failure is 401 UNAUTHENTICATED
 * with a reason that does not leak key material.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keys: JWTVerifyGetKey =
    options.jwks instanceof URL ? createRemoteJWKSet(options.jwks) : createLocalJWKSet(options.jwks);
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw new AppError('UNAUTHENTICATED', describeJoseError(error));
    }
    const tenants = payload.tenants;
    const validTenants =
      tenants === '*' || (Array.isArray(tenants) && tenants.every((tenant) => typeof tenant === 'string'));
    if (!validTenants) throw new AppError('UNAUTHENTICATED', 'token has no valid tenants claim');
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    return {
      subject: String(payload.sub),
      scopes: new Set(scope.split(' ').filter(Boolean)),
      tenants: tenants as Principal['tenants'],
    };
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `token claim '${error.claim}' is invalid`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'token was signed by an unknown key';
  if (error instanceof joseErrors.JOSEError) return 'token is malformed or unverifiable';
  return 'token could not be verified';
}

export function grantsTenant(principal: Principal, tenantId: string): boolean {
  return principal.tenants === '*' || principal.tenants.includes(tenantId);
}

export interface IssueTokenOptions {
  privateJwk: JWK;
  issuer: string;
  audience: string;
  subject: string;
  scopes: readonly string[];
  tenants: readonly string[] | '*';
  expiresIn: string;
}

/** Signs a token (local runtime's development token, tests, CLI login against a local key). */
export async function issueToken(options: IssueTokenOptions): Promise<string> {
  const alg = options.privateJwk.alg ?? 'EdDSA';
  const key = await importJWK(options.privateJwk, alg);
  return new SignJWT({ scope: options.scopes.join(' '), tenants: options.tenants })
    .setProtectedHeader({ alg, kid: options.privateJwk.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn)
    .sign(key);
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

/** The token of an `Authorization: Bearer <token>` header, or undefined when absent or malformed. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return BEARER.exec(authorization ?? '')?.[1];
}

/**
 * The token verifier the functions' runtime uses, from the same configuration: issuer, audience, bounded
 * clock skew and the key set (`AUTH_JWKS` or `AUTH_JWKS_URL`). Needs nothing else - no database.
 */
export function tokenVerifierFromConfig(config: Config): TokenVerifier {
  if (!config.AUTH_JWKS && !config.AUTH_JWKS_URL) {
    throw new Error('configuration: set AUTH_JWKS (a JWKS document) or AUTH_JWKS_URL');
  }
  return createTokenVerifier({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    clockSkewSeconds: config.AUTH_CLOCK_SKEW_S,
    jwks: config.AUTH_JWKS ? JSON.parse(config.AUTH_JWKS) : new URL(config.AUTH_JWKS_URL!),
  });
}
