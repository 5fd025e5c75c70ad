import { describe, expect, it } from 'vitest';
import {
  type ApiError,
  JobEngineApi,
  NotAvailableError,
  parseSseBlock,
} from '../../../cli/src/api/client.ts';
import { backfillProgress } from '../../../cli/src/api/progress.ts';
import { assignments } from '../../../cli/src/context.ts';
import { EXIT, exitCodeOf, Unsuccessful, UsageError } from '../../../cli/src/exit-codes.ts';
import { progressBar } from '../../../cli/src/output.ts';

/** A scripted server: answers by "METHOD path" (without the query), records the requests it got. */
function scripted(routes: Record<string, () => Response>) {
  const requests: { method: string; url: string; headers: Headers; body: string | null }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    requests.push({
      method: init?.method ?? 'GET',
      url: String(url),
      headers: new Headers(init?.headers),
      body: (init?.body as string) ?? null,
    });
    const answer = routes[`${init?.method ?? 'GET'} ${url.pathname}`];
    return answer
      ? answer()
      : Response.json({ error: { code: 'NOT_FOUND', message: 'no route', trace_id: 't' } }, { status: 404 });
  };
  return { requests, fetch: fetch as typeof globalThis.fetch };
}

const openapi = (paths: Record<string, Record<string, unknown>>) => () =>
  Response.json({ openapi: '3.1.0', paths });

describe('JobEngineApi', () => {
  it('tells a route the server lacks (not in its OpenAPI document) from a resource that is not found', async () => {
    const server = scripted({
      'GET /.well-known/openapi': openapi({ '/api/v1/jobs/{id}': { get: {} } }),
      'GET /api/v1/jobs/abc': () =>
        Response.json(
          { error: { code: 'NOT_FOUND', message: 'job abc not found', trace_id: 't1' } },
          { status: 404 },
        ),
      'POST /api/v1/sources/s1:pause': () =>
        Response.json(
          { error: { code: 'METHOD_NOT_ALLOWED', message: 'no', trace_id: 't2' } },
          { status: 405 },
        ),
    });
    const api = new JobEngineApi({
      endpoint: 'http://cp.test/',
      token: 'tok',
      tenant: 'acme',
      fetch: server.fetch,
    });

    const missing = await api.listQuotas().catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotAvailableError);
    expect((missing as ApiError).message).toBe('GET /api/v1/quotas is not available on this server');
    expect(exitCodeOf(missing)).toBe(EXIT.NOT_AVAILABLE);

    const paused = await api.pauseSource('s1', { reason: 'maintenance' }).catch((error: unknown) => error);
    expect(paused).toBeInstanceOf(NotAvailableError);

    const notFound = await api.getJob('abc').catch((error: unknown) => error);
    expect(notFound).not.toBeInstanceOf(NotAvailableError);
    expect(notFound).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      traceId: 't1',
      route: 'GET /api/v1/jobs/{id}',
    });
    expect(exitCodeOf(notFound)).toBe(EXIT.REFUSED);
    // the document is read once
    expect(server.requests.filter((r) => r.url.endsWith('/.well-known/openapi'))).toHaveLength(1);
  });

  it('sends token, tenant, operator notes and an idempotency key on every POST; encodes path parameters', async () => {
    const server = scripted({
      'POST /api/v1/jobs/a%2Fb:cancel': () => Response.json({ id: 'a/b', status: 'canceled' }),
    });
    const api = new JobEngineApi({
      endpoint: 'http://cp.test',
      token: 'tok',
      tenant: 'acme',
      project: 'p1',
      fetch: server.fetch,
    });
    await api.cancelJob('a/b', { reason: 'why', ticket: 'OPS-1' });
    await api.cancelJob('a/b');
    const [first, second] = server.requests;
    expect(first!.headers.get('authorization')).toBe('Bearer tok');
    expect(first!.headers.get('x-stella-tenant')).toBe('acme');
    expect(first!.headers.get('x-stella-project')).toBe('p1');
    expect(first!.headers.get('x-stella-operator-reason')).toBe('why');
    expect(first!.headers.get('x-stella-operator-ticket')).toBe('OPS-1');
    expect(first!.body).toBeNull();
    expect(first!.headers.get('idempotency-key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(second!.headers.get('idempotency-key')).not.toBe(first!.headers.get('idempotency-key'));
    expect(second!.headers.has('x-stella-operator-reason')).toBe(false);
  });

  it('maps answers to exit codes: auth 4, other 4xx 2, 5xx and no answer 3', async () => {
    const server = scripted({
      'GET /api/v1/runs': () =>
        Response.json({ error: { code: 'UNAUTHENTICATED', message: 'bad', trace_id: 't' } }, { status: 401 }),
      'GET /api/v1/sources': () => new Response('<html>bad gateway</html>', { status: 502 }),
    });
    const api = new JobEngineApi({
      endpoint: 'http://cp.test',
      token: 't',
      tenant: 'x',
      fetch: server.fetch,
    });
    expect(exitCodeOf(await api.listRuns().catch((e: unknown) => e))).toBe(EXIT.AUTH);
    const gateway = await api.listSources().catch((e: unknown) => e);
    expect(gateway).toMatchObject({ status: 502, code: 'HTTP_502' });
    expect(exitCodeOf(gateway)).toBe(EXIT.UNAVAILABLE);
    const down = new JobEngineApi({
      endpoint: 'http://cp.test',
      token: 't',
      tenant: 'x',
      fetch: (async () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      }) as typeof fetch,
    });
    const refused = await down.listRuns().catch((e: unknown) => e);
    expect(refused).toMatchObject({
      status: undefined,
      code: 'UNAVAILABLE',
      message: 'no answer from the server (ECONNREFUSED)',
    });
    expect(exitCodeOf(refused)).toBe(EXIT.UNAVAILABLE);
    expect(exitCodeOf(new UsageError('x'))).toBe(EXIT.USAGE);
    expect(exitCodeOf(new Unsuccessful('x'))).toBe(EXIT.UNSUCCESSFUL);
  });

  it('reads Server-Sent Events split across chunks, with comments and CRLF', async () => {
    const frames = [
      'retry: 1000\r\n\r\n: ping\n\nid: 5.1\nevent: job.queued\ndata: {"eventType":"job.queued",',
      '"subject":{"kind":"job","id":"j1"}}\n\nid: 5.2\nevent: job.leased\ndata: {"eventType":"job.leased","subject":{"kind":"job","id":"j1"}}\n\n',
    ];
    const server = scripted({
      'GET /api/v1/streams/events': () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (const frame of frames) controller.enqueue(new TextEncoder().encode(frame));
              controller.close();
            },
          }),
          { headers: { 'Content-Type': 'text/event-stream' } },
        ),
    });
    const api = new JobEngineApi({
      endpoint: 'http://cp.test',
      token: 't',
      tenant: 'x',
      fetch: server.fetch,
    });
    const seen = [];
    for await (const event of api.streamEvents({ job_type: 'a.b' }, { lastEventId: '4.9' })) seen.push(event);
    expect(seen.map((e) => [e.position, e.eventType, e.event.subject.id])).toEqual([
      ['5.1', 'job.queued', 'j1'],
      ['5.2', 'job.leased', 'j1'],
    ]);
    expect(server.requests[0]!.url).toBe('http://cp.test/api/v1/streams/events?job_type=a.b');
    expect(server.requests[0]!.headers.get('last-event-id')).toBe('4.9');
    expect(parseSseBlock(': ping')).toBeUndefined();
  });
});

describe('CLI helpers', () => {
  it('parses key=value assignments with nesting and JSON values', () => {
    expect(assignments(['a=1', 'b.c=true', 'b.d=text', 'e={"x":[1]}', 'f=a=b'])).toEqual({
      a: 1,
      b: { c: true, d: 'text' },
      e: { x: [1] },
      f: 'a=b',
    });
    expect(() => assignments(['novalue'])).toThrow(UsageError);
  });

  it('draws progress bars and reads backfill progress in its known shapes', () => {
    expect(progressBar(0, 4, 8)).toBe('[--------] 0/4   0%');
    expect(progressBar(3, 4, 8)).toBe('[######--] 3/4  75%');
    expect(progressBar(5, 0, 4)).toBe('[----] 5/0   0%');
    expect(backfillProgress({ id: 'b', progress: { done: 2, total: 10 } })).toEqual({ done: 2, total: 10 });
    expect(backfillProgress({ id: 'b', chunks: { total: 6, completed: 3 } })).toEqual({ done: 3, total: 6 });
    expect(backfillProgress({ id: 'b', completedChunks: 1, totalChunks: 2 })).toEqual({ done: 1, total: 2 });
    expect(backfillProgress({ id: 'b', status: 'planned' })).toBeUndefined();
  });
});
