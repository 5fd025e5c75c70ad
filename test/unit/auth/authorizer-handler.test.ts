import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/authorizer/handler.ts';
import { issueToken } from '../../../layers/core/src/auth/tokens.ts';

/**
 * The deployed entry point: configured from AUTH_* alone, as the authorizer function is on AWS - no
 * DATABASE_* variable, no cursor secret - and its verifier built once, on first use.
 */
const event = (authorization: string): APIGatewayRequestAuthorizerEvent => ({
  type: 'REQUEST',
  methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/live/GET/api/v1/sources',
  resource: '/api/v1/sources',
  path: '/api/v1/sources',
  httpMethod: 'GET',
  headers: { Authorization: authorization, 'X-Stella-Tenant': 'acme' },
  multiValueHeaders: null,
  pathParameters: null,
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  stageVariables: null,
  requestContext: { requestId: 'req-1' } as APIGatewayRequestAuthorizerEvent['requestContext'],
});

afterEach(() => vi.unstubAllEnvs());

describe('functions/authorizer/handler.ts', () => {
  it('fails (500, not 401) until a key set is configured, then verifies with AUTH_* and no database', async () => {
    for (const name of [
      'DATABASE_URL',
      'DATABASE_SECRET_ARN',
      'DATABASE_PROXY_ENDPOINT',
      'CURSOR_SECRET_ARN',
    ]) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv('AUTH_JWKS', undefined);
    vi.stubEnv('AUTH_JWKS_URL', undefined);
    await expect(handler(event('Bearer a.b.c'))).rejects.toThrow('set AUTH_JWKS');

    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), alg: 'EdDSA', kid: 'k1' };
    const { d: _secret, ...publicJwk } = privateJwk;
    vi.stubEnv('AUTH_JWKS', JSON.stringify({ keys: [publicJwk] }));
    vi.stubEnv('AUTH_ISSUER', 'https://login.example.test/');
    vi.stubEnv('AUTH_AUDIENCE', 'jobengine');
    const token = await issueToken({
      privateJwk,
      issuer: 'https://login.example.test/',
      audience: 'jobengine',
      subject: 'alice',
      scopes: ['orch:read'],
      tenants: ['acme'],
      expiresIn: '5m',
    });
    const result = await handler(event(`Bearer ${token}`));
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.context).toEqual({ subject: 'alice', scopes: 'orch:read', tenants: '["acme"]' });

    // built once per container: a later change of the environment does not rebuild the verifier
    vi.stubEnv('AUTH_AUDIENCE', 'someone-else');
    await expect(handler(event(`Bearer ${token}`))).resolves.toMatchObject({ principalId: 'alice' });
    await expect(handler(event('Bearer not.a.token'))).rejects.toThrow(/^Unauthorized$/);
  });
});
