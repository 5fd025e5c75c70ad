import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createRequestAuthorizer,
  type RequestAuthorizer,
  stageWildcardArn,
} from '../../../layers/core/src/auth/authorizer.ts';
import { bearerToken, createTokenVerifier, issueToken } from '../../../layers/core/src/auth/tokens.ts';

/**
 * The authorizer against real tokens: an Ed25519 key generated per run, verified by the very verifier the
 * functions use (createTokenVerifier), with the issuer, audience and clock skew of a deployment.
 */
const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'jobengine';
const SKEW_S = 60;
const REGION_ACCOUNT = 'arn:aws:execute-api:eu-west-1:123456789012';
const STAGE_ARN = `${REGION_ACCOUNT}:a1b2c3d4e5/live`;

let privateJwk: JWK;
let privateKey: CryptoKey;
let authorize: RequestAuthorizer;

beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  privateKey = pair.privateKey;
  privateJwk = { ...(await exportJWK(pair.privateKey)), alg: 'EdDSA', kid: 'test-key' };
  const { d: _secret, ...publicJwk } = privateJwk;
  const verifier = createTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    clockSkewSeconds: SKEW_S,
    jwks: { keys: [publicJwk] },
  });
  authorize = createRequestAuthorizer(verifier);
});

const token = (
  tenants: readonly string[] | '*' = ['acme', 'other'],
  scopes = ['orch:read', 'orch:operate'],
) =>
  issueToken({
    privateJwk,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: 'alice',
    scopes,
    tenants,
    expiresIn: '5m',
  });

/** A token with claims set by hand, signed with the trusted key unless told otherwise. */
async function signed(
  claims: JWTPayload,
  options: { key?: CryptoKey | Uint8Array; alg?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'orch:read', tenants: ['acme'], ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'EdDSA', kid: 'test-key', typ: 'JWT' })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setSubject('alice')
    .setIssuedAt(now - 600)
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now + 300)
    .sign(options.key ?? privateKey);
}

function event(
  headers: Record<string, string>,
  methodArn = `${STAGE_ARN}/POST/api/v1/jobs`,
): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn,
    resource: '/api/v1/jobs',
    path: '/api/v1/jobs',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'req-1' } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

const request = async (bearer: string | undefined, tenant: string | undefined, methodArn?: string) => {
  const headers: Record<string, string> = {};
  if (bearer !== undefined) headers.Authorization = bearer;
  if (tenant !== undefined) headers['X-Stella-Tenant'] = tenant;
  return authorize(event(headers, methodArn));
};

describe('REST API authorizer: Allow', () => {
  it('allows a valid token for a granted tenant, on every method of the stage, with the principal as context', async () => {
    const result = await request(`Bearer ${await token()}`, 'acme');
    expect(result).toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${STAGE_ARN}/*` }],
      },
      context: { subject: 'alice', scopes: 'orch:operate orch:read', tenants: '["acme","other"]' },
    });
  });

  it('answers the same wildcard policy whichever route asks first, since API Gateway caches it for all', async () => {
    const bearer = `Bearer ${await token()}`;
    const arns = [
      `${STAGE_ARN}/GET/api/v1/sources/0190b2c4-0000-7000-8000-000000000000`,
      `${STAGE_ARN}/POST/api/v1/runs/abc:cancel`,
      `${STAGE_ARN}/GET/api/v1/deadletter/stats`,
    ];
    const resources = await Promise.all(
      arns.map(async (arn) => (await request(bearer, 'acme', arn)).policyDocument.Statement[0]),
    );
    for (const statement of resources) {
      expect(statement).toMatchObject({ Effect: 'Allow', Resource: `${STAGE_ARN}/*` });
    }
  });

  it("allows any well-formed tenant for a token granting '*', and says so in the context", async () => {
    const result = await request(`Bearer ${await token('*')}`, 'someone-else_2');
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.context).toMatchObject({ tenants: '"*"' });
    expect(JSON.parse(String(result.context?.tenants))).toBe('*');
  });

  it('reads headers whatever their case, as clients send them', async () => {
    const result = await authorize(
      event({ authorization: `Bearer ${await token()}`, 'x-stella-tenant': 'other' }),
    );
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('gives an empty scopes string to a token without scopes', async () => {
    const result = await request(`Bearer ${await token(['acme'], [])}`, 'acme');
    expect(result.context).toMatchObject({ scopes: '' });
  });

  it('accepts a token expired by less than the clock skew', async () => {
    const exp = Math.floor(Date.now() / 1000) - (SKEW_S - 20);
    const result = await request(`Bearer ${await signed({ exp })}`, 'acme');
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });
});

describe('REST API authorizer: Deny (403)', () => {
  it('denies a valid token for a tenant it does not grant, on the whole stage, with a FORBIDDEN context', async () => {
    const result = await request(`Bearer ${await token(['acme'])}`, 'globex');
    expect(result).toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: `${STAGE_ARN}/*` }],
      },
      context: { code: 'FORBIDDEN', message: "the token does not grant tenant 'globex'" },
    });
  });

  it('denies without a tenant header: TENANT_REQUIRED', async () => {
    for (const tenant of [undefined, '']) {
      const result = await request(`Bearer ${await token()}`, tenant);
      expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
      expect(result.context).toEqual({
        code: 'TENANT_REQUIRED',
        message: 'X-Stella-Tenant header is required',
      });
    }
  });

  it('denies a malformed tenant, even for a wildcard token, without echoing it', async () => {
    for (const tenant of ['ACME', '-acme', 'a"b', 'a\\b', '$context.requestId', 'x'.repeat(64)]) {
      const result = await request(`Bearer ${await token('*')}`, tenant);
      expect(result.context, tenant).toEqual({ code: 'FORBIDDEN', message: 'X-Stella-Tenant is malformed' });
    }
  });

  it('keeps Deny messages safe to insert unescaped into the JSON of the gateway response', async () => {
    const messages = [
      (await request(`Bearer ${await token(['acme'])}`, 'globex')).context?.message,
      (await request(`Bearer ${await token()}`, undefined)).context?.message,
      (await request(`Bearer ${await token()}`, 'NOT valid')).context?.message,
    ];
    for (const message of messages) {
      expect(message).toMatch(/^[^"\\$]+$/);
      expect(JSON.parse(`{"message":"${message}"}`)).toEqual({ message });
    }
  });
});

describe("REST API authorizer: 'Unauthorized' (401)", () => {
  const rejects = async (bearer: string | undefined, tenant = 'acme') =>
    expect(request(bearer, tenant)).rejects.toThrow(/^Unauthorized$/);

  it('rejects a missing, empty or non-Bearer Authorization header', async () => {
    await rejects(undefined);
    await rejects('');
    await rejects('Bearer ');
    await rejects(`Basic ${Buffer.from('alice:secret').toString('base64')}`);
    await rejects(`Bearer ${await token()} trailing`);
  });

  it('accepts the auth scheme in any case (RFC 9110: schemes are case-insensitive)', async () => {
    const result = await request(`bearer ${await token()}`, 'acme');
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('rejects a token expired beyond the clock skew', async () => {
    await rejects(`Bearer ${await signed({ exp: Math.floor(Date.now() / 1000) - (SKEW_S + 5) })}`);
  });

  it('rejects a token for another audience or from another issuer', async () => {
    await rejects(`Bearer ${await signed({ aud: 'someone-else' })}`);
    await rejects(`Bearer ${await signed({ iss: 'https://evil.example.test/' })}`);
  });

  it("rejects an unsigned token (alg 'none')", async () => {
    const unsigned = new UnsecuredJWT({ scope: 'orch:operate', tenants: '*' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('mallory')
      .setExpirationTime('5m')
      .encode();
    await rejects(`Bearer ${unsigned}`);
  });

  it('rejects a token signed by an unknown key, an HMAC token under the trusted kid, and a tampered one', async () => {
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    await rejects(`Bearer ${await signed({}, { key: stranger.privateKey })}`);
    await rejects(
      `Bearer ${await signed({}, { key: new TextEncoder().encode('x'.repeat(32)), alg: 'HS256' })}`,
    );
    const [header, , signature] = (await token()).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'mallory', tenants: '*', iss: ISSUER, aud: AUDIENCE }));
    await rejects(`Bearer ${header}.${forged.toString('base64url')}.${signature}`);
  });

  it('rejects a token without a valid tenants claim', async () => {
    await rejects(`Bearer ${await signed({ tenants: 'acme' })}`);
    await rejects(`Bearer ${await signed({ tenants: [1, 2] })}`);
  });

  it('rejects a bad token before looking at the tenant (401 wins over 403)', async () => {
    await rejects('Bearer not.a.token', 'globex');
    await rejects('Bearer not.a.token', '');
  });
});

describe('REST API authorizer: failures that are not the caller', () => {
  it('lets an unexpected verifier error through, so API Gateway answers 500 rather than 401', async () => {
    const broken = createRequestAuthorizer(async () => {
      throw new Error('key set unreachable: ECONNRESET');
    });
    await expect(broken(event({ Authorization: 'Bearer a.b.c', 'X-Stella-Tenant': 'acme' }))).rejects.toThrow(
      'ECONNRESET',
    );
  });

  it('refuses an event that is not for an execute-api method', async () => {
    await expect(
      request(`Bearer ${await token()}`, 'acme', 'arn:aws:lambda:eu-west-1:1:function:x'),
    ).rejects.toThrow('not an execute-api method ARN');
  });
});

describe('stageWildcardArn', () => {
  it('keeps region, account, API and stage, and widens method and path', () => {
    expect(stageWildcardArn(`${STAGE_ARN}/GET/healthz`)).toBe(`${STAGE_ARN}/*`);
    expect(stageWildcardArn(`${STAGE_ARN}/POST/api/v1/deadletter:replay`)).toBe(`${STAGE_ARN}/*`);
    expect(stageWildcardArn('arn:aws-cn:execute-api:cn-north-1:123456789012:api/dev/GET/')).toBe(
      'arn:aws-cn:execute-api:cn-north-1:123456789012:api/dev/*',
    );
  });

  it('throws on anything else', () => {
    for (const arn of [
      '',
      'arn:aws:execute-api:eu-west-1:123456789012:api',
      'arn:aws:s3:::bucket/key',
      '*',
    ]) {
      expect(() => stageWildcardArn(arn), arn).toThrow('not an execute-api method ARN');
    }
  });
});

describe('bearerToken', () => {
  it('extracts the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Token abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
  });
});
