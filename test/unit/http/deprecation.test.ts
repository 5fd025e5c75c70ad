import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  type HttpResult,
  operation,
  publicApi,
  type RequestContext,
  type TenantContext,
} from '../../../layers/core/src/http/api.ts';
import {
  type DeprecationPolicy,
  deprecated,
  deprecationHeaders,
  withDeprecation,
} from '../../../layers/core/src/http/deprecation.ts';

vi.mock('../../../layers/core/src/runtime.ts', () => ({
  getRuntime: async () => ({ config: { MAX_BODY_BYTES: 6_000_000 } }),
}));

const POLICY: DeprecationPolicy = {
  since: new Date('2026-01-01T00:00:00Z'),
  sunset: new Date('2026-07-01T12:30:00Z'),
  successor: '/api/v2/jobs',
};

describe('deprecationHeaders', () => {
  it('formats Deprecation as an RFC 9745 date, Sunset as an HTTP-date and Link to the successor', () => {
    expect(deprecationHeaders(POLICY)).toEqual({
      Deprecation: '@1767225600',
      Sunset: 'Wed, 01 Jul 2026 12:30:00 GMT',
      Link: '</api/v2/jobs>; rel="successor-version"',
    });
  });

  it('links the documentation with rel="deprecation" when given', () => {
    const headers = deprecationHeaders({ ...POLICY, documentation: 'https://docs.example.com/v1-sunset' });
    expect(headers.Link).toBe(
      '</api/v2/jobs>; rel="successor-version", <https://docs.example.com/v1-sunset>; rel="deprecation"',
    );
  });

  it('truncates to whole seconds, as both formats require', () => {
    const headers = deprecationHeaders({
      ...POLICY,
      since: new Date('2026-01-01T00:00:00.999Z'),
      sunset: new Date('2026-03-05T07:08:09.500Z'),
    });
    expect(headers.Deprecation).toBe('@1767225600');
    expect(headers.Sunset).toBe('Thu, 05 Mar 2026 07:08:09 GMT');
  });

  it('always produces an IMF-fixdate Sunset and an integer Deprecation', () => {
    const day = 86_400_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 * 365 * day }),
        fc.integer({ min: 1000, max: 10 * 365 * day }),
        (since, gap) => {
          const headers = deprecationHeaders({
            ...POLICY,
            since: new Date(since),
            sunset: new Date(since + gap),
          });
          expect(headers.Deprecation).toMatch(/^@\d+$/);
          expect(headers.Sunset).toMatch(
            /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
          );
          expect(Date.parse(headers.Sunset!)).toBe(Math.floor((since + gap) / 1000) * 1000);
          expect(Number(headers.Deprecation!.slice(1)) * 1000).toBe(Math.floor(since / 1000) * 1000);
        },
      ),
    );
  });

  it('refuses a sunset that is not after the deprecation', () => {
    expect(() => deprecationHeaders({ ...POLICY, sunset: POLICY.since })).toThrow('sunset');
    expect(() => deprecationHeaders({ ...POLICY, sunset: new Date('2025-12-31T00:00:00Z') })).toThrow(
      'must be after since',
    );
  });

  it('refuses invalid dates', () => {
    expect(() => deprecationHeaders({ ...POLICY, since: new Date('not a date') })).toThrow(
      'since must be a valid Date',
    );
    expect(() => deprecationHeaders({ ...POLICY, sunset: '2026-07-01' as unknown as Date })).toThrow(
      'sunset must be a valid Date',
    );
  });

  it('refuses links that are not URI references or would break the Link header', () => {
    for (const successor of [
      '',
      '/api/v2/jobs with space',
      '/api/v2/<jobs>',
      '/a"b',
      '/jobs\r\nX-Injected: 1',
      '/é',
    ]) {
      expect(() => deprecationHeaders({ ...POLICY, successor }), successor).toThrow(
        'successor must be a URI',
      );
    }
    expect(() => deprecationHeaders({ ...POLICY, documentation: 'http://[bad' })).toThrow(
      'documentation must be a URI',
    );
    expect(deprecationHeaders({ ...POLICY, successor: 'https://api.example.com/v2/jobs?x=1#y' }).Link).toBe(
      '<https://api.example.com/v2/jobs?x=1#y>; rel="successor-version"',
    );
  });
});

describe('withDeprecation', () => {
  it('adds the headers to a result, keeping its own and its existing links', () => {
    const result: HttpResult = {
      status: 200,
      body: { items: [] },
      headers: { ETag: '"3"', link: '</api/v1/jobs?page_token=x>; rel="next"' },
    };
    expect(withDeprecation(result, POLICY)).toEqual({
      status: 200,
      body: { items: [] },
      headers: {
        ETag: '"3"',
        Deprecation: '@1767225600',
        Sunset: 'Wed, 01 Jul 2026 12:30:00 GMT',
        Link: '</api/v1/jobs?page_token=x>; rel="next", </api/v2/jobs>; rel="successor-version"',
      },
    });
    expect(result.headers).toEqual({ ETag: '"3"', link: '</api/v1/jobs?page_token=x>; rel="next"' });
  });

  it('adds them to a result without headers', () => {
    expect(withDeprecation({ status: 204 }, POLICY).headers).toEqual(deprecationHeaders(POLICY));
  });
});

describe('deprecated(operation)', () => {
  const listJobs = operation<TenantContext, z.ZodUndefined, z.ZodObject<{ page_size: z.ZodNumber }>>({
    scope: 'orch:read',
    maxBodyBytes: 2048,
    query: z.strictObject({ page_size: z.number() }),
    handle: async ({ query }) => ({ status: 200, body: { pageSize: query.page_size } }),
  });

  it('returns the same operation whose every response carries all three headers, in their exact formats', async () => {
    const legacy = deprecated(listJobs, {
      ...POLICY,
      documentation: 'https://docs.example.com/deprecations#jobs',
    });
    expect(legacy).toMatchObject({ scope: 'orch:read', maxBodyBytes: 2048, query: listJobs.query });
    const input = {
      ctx: {} as TenantContext,
      body: undefined as never,
      query: { page_size: 5 } as never,
      params: {},
    };
    const result = await legacy.handle(input);
    expect(result).toEqual({
      status: 200,
      body: { pageSize: 5 },
      headers: {
        Deprecation: '@1767225600',
        Sunset: 'Wed, 01 Jul 2026 12:30:00 GMT',
        Link: '</api/v2/jobs>; rel="successor-version", <https://docs.example.com/deprecations#jobs>; rel="deprecation"',
      },
    });
    expect(await listJobs.handle(input)).toEqual({ status: 200, body: { pageSize: 5 } });
  });

  it('fails when declared, not on a request, for an invalid policy', () => {
    expect(() => deprecated(listJobs, { ...POLICY, sunset: new Date('2020-01-01T00:00:00Z') })).toThrow(
      'must be after since',
    );
  });

  it('lets errors of the operation through unchanged', async () => {
    const failing = deprecated(
      operation<TenantContext>({
        handle: async () => {
          throw new Error('boom');
        },
      }),
      POLICY,
    );
    await expect(
      failing.handle({
        ctx: {} as TenantContext,
        body: undefined as never,
        query: undefined as never,
        params: {},
      }),
    ).rejects.toThrow('boom');
  });
});

describe('a deprecated operation behind the HTTP edge', () => {
  it('answers with the deprecation headers next to the content type', async () => {
    const handler = publicApi({
      'GET /legacy': deprecated(
        operation<RequestContext>({ handle: async () => ({ status: 200, body: { ok: true } }) }),
        POLICY,
      ),
    });
    const event = {
      httpMethod: 'GET',
      resource: '/legacy',
      path: '/legacy',
      headers: {},
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: null,
      isBase64Encoded: false,
      requestContext: { requestId: 'req-1' },
    } as unknown as APIGatewayProxyEvent;
    const response = await handler(event, { awsRequestId: 'aws-1' } as Context);
    expect(response).toEqual({
      statusCode: 200,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        Deprecation: '@1767225600',
        Sunset: 'Wed, 01 Jul 2026 12:30:00 GMT',
        Link: '</api/v2/jobs>; rel="successor-version"',
      },
      body: '{"ok":true}',
    });
  });
});
