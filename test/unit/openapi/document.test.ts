import { describe, expect, it, vi } from 'vitest';
import * as core from '../../../layers/core/src/index.ts';
import {
  errorCodesFor,
  OPERATIONS,
  openApiDocument,
  REQUEST_SCHEMAS,
  splitKey,
} from '../../../layers/core/src/openapi/index.ts';
import { documentedOperations, type Json, resolveRef, schemaValidator } from '../../fuzz/openapi.ts';

/** The generated document is OpenAPI 3.1, self-consistent, deterministic, and its examples are valid. */
const document = openApiDocument() as Json;
const operations = documentedOperations(document);
const validator = schemaValidator(document);

function* walk(value: unknown, path = '#'): Generator<[string, Json]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* walk(item, `${path}/${i}`);
  } else if (value !== null && typeof value === 'object') {
    yield [path, value as Json];
    for (const [key, inner] of Object.entries(value)) yield* walk(inner, `${path}/${key}`);
  }
}

describe('the OpenAPI document', () => {
  it('has the top-level fields of OpenAPI 3.1', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(document.servers).toEqual([{ url: '/' }]);
    expect(Object.keys(document.paths as Json).length).toBeGreaterThan(0);
    expect((document.components as Json).securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
    for (const path of Object.keys(document.paths as Json)) expect(path).toMatch(/^\//);
  });

  it('resolves every $ref', () => {
    const refs = [...walk(document)].filter(([, node]) => typeof node.$ref === 'string');
    expect(refs.length).toBeGreaterThan(50);
    for (const [at, node] of refs) {
      expect(() => resolveRef(document, node), at).not.toThrow();
    }
  });

  it('names each operation once and declares exactly the path parameters of its template', () => {
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations) {
      const template = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(op.pathParams, op.key).toEqual(template);
      expect(op.operationId, op.key).toMatch(/^[a-z][A-Za-z]+$/);
    }
  });

  it('documents auth, tenant, idempotency and concurrency headers where they apply', () => {
    for (const op of operations) {
      const header = (name: string) => op.headers.find((h) => h.name === name);
      if (op.scope) {
        expect(op.scope, op.key).toMatch(/^orch:/);
        expect(header('X-Stella-Tenant')?.required, op.key).toBe(true);
        expect(header('X-Stella-Project'), op.key).toBeDefined();
        for (const status of ['400', '401', '403', '429', '503'])
          expect(op.responses[status], op.key).toBeDefined();
      } else {
        expect(header('X-Stella-Tenant'), op.key).toBeUndefined();
      }
      if (op.method === 'POST' && op.scope) {
        expect(header('Idempotency-Key')?.required, op.key).toBe(false);
        expect(op.responses['422'], op.key).toBeDefined();
        const success = op.responses[String(op.successStatus)]!;
        expect((success.headers as Json)['Idempotent-Replayed'], op.key).toBeDefined();
      }
      if (op.body) {
        expect(op.responses['413'], op.key).toBeDefined();
        expect(op.responses['415'], op.key).toBeDefined();
      }
      if (op.pathParams.length > 0 && op.scope && !op.key.includes(':heartbeat')) {
        expect(op.responses['404'], op.key).toBeDefined();
      }
    }
    const patch = operations.find((op) => op.key === 'PATCH /api/v1/sources/{id}')!;
    expect(patch.headers.map((h) => h.name)).toContain('If-Match');
    expect(patch.responses['412']).toBeDefined();
    const cancel = operations.find((op) => op.key === 'POST /api/v1/runs/{id}:cancel')!;
    expect(cancel.headers.map((h) => h.name)).toContain('X-Stella-Operator-Reason');
  });

  it('puts Retry-After on 429 and 503 and the X-RateLimit headers on 429', () => {
    const responses = (document.components as Json).responses as Record<string, Json>;
    expect(Object.keys(responses.TooManyRequests!.headers as Json).sort()).toEqual([
      'Retry-After',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
    ]);
    expect(Object.keys(responses.ServiceUnavailable!.headers as Json)).toEqual(['Retry-After']);
  });

  it('answers errors with the envelope, restricted to the codes of each status', () => {
    for (const op of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const body = { error: { code: errorCodesFor(Number(status))[0], message: 'm', trace_id: 't' } };
        expect(validator.responseErrors(op, Number(status), body), `${op.key} ${status}`).toEqual([]);
        const wrong = { error: { code: 'INTERNAL', message: 'm', trace_id: 't' } };
        expect(
          validator.responseErrors(op, Number(status), wrong).length,
          `${op.key} ${status}`,
        ).toBeGreaterThan(0);
        expect(
          validator.responseErrors(op, Number(status), { message: 'no envelope' }).length,
        ).toBeGreaterThan(0);
        expect(response.description, `${op.key} ${status}`).toEqual(expect.any(String));
      }
    }
  });

  it('closes response objects, so an undocumented field in an answer is a contract violation', () => {
    const getJob = operations.find((op) => op.key === 'GET /api/v1/jobs/{id}')!;
    const job = (((getJob.responses['200']!.content as Json)['application/json'] as Json).schema as Json)
      .$ref as string;
    expect(job).toBe('#/components/schemas/Job');
    const listJobs = operations.find((op) => op.key === 'GET /api/v1/jobs')!;
    const example = (
      (((listJobs.responses['200']!.content as Json)['application/json'] as Json).examples as Json)
        .nextPage as Json
    ).value as { items: Json[] };
    const item = example.items[0]!;
    expect(validator.responseErrors(getJob, 200, item)).toEqual([]);
    expect(validator.responseErrors(getJob, 200, { ...item, tenantId: 'acme' }).join()).toMatch(/additional/);
    expect(validator.responseErrors(getJob, 200, { ...item, status: 'lost' }).length).toBeGreaterThan(0);
    expect(validator.responseErrors(getJob, 201, item)).toEqual([
      'status 201 is not documented for GET /api/v1/jobs/{id}',
    ]);
  });

  // Grows with every schema of the API; ~2 s alone, several times that on a loaded machine.
  it('compiles every component schema with a strict JSON Schema 2020-12 validator', () => {
    for (const name of Object.keys((document.components as Json).schemas as Json)) {
      expect(() => validator.errors({ $ref: `#/components/schemas/${name}` }, {}), name).not.toThrow();
    }
  }, 30_000);

  it('has examples for pagination, idempotent replays and errors, each valid against its schema', () => {
    let checked = 0;
    const kinds = new Set<string>();
    for (const [at, node] of walk(document)) {
      if (node.examples === undefined || node.schema === undefined) continue;
      for (const [name, example] of Object.entries(node.examples as Record<string, Json>)) {
        expect(validator.errors(node.schema as Json, example.value), `${at} ${name}`).toEqual([]);
        kinds.add(name);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
    for (const kind of ['nextPage', 'lastPage', 'replayed', 'validationFailed', 'invalidPageToken']) {
      expect(kinds).toContain(kind);
    }
    const jobs = operations.find((op) => op.key === 'GET /api/v1/jobs')!;
    const examples = ((jobs.responses['200']!.content as Json)['application/json'] as Json).examples as Json;
    expect((examples.nextPage as Json).value).toMatchObject({ next_page_token: expect.any(String) });
    const pageToken = jobs.query.find((q) => q.name === 'page_token');
    expect(pageToken).toBeDefined();
    const validation = (
      ((((document.components as Json).responses as Json).BadRequest as Json).content as Json)[
        'application/json'
      ] as Json
    ).examples as Json;
    expect((validation.validationFailed as Json).value).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: expect.arrayContaining([expect.any(Object)]) },
    });
  });

  it('is generated from the very schemas the handlers validate with', () => {
    const exported = core as unknown as Record<string, unknown>;
    let shared = 0;
    for (const [name, schema] of REQUEST_SCHEMAS) {
      if (name in exported) {
        expect(exported[name], name).toBe(schema);
        shared++;
      }
    }
    expect(shared).toBe(REQUEST_SCHEMAS.length);
    for (const spec of OPERATIONS) {
      if (spec.query) expect(Object.values(exported)).toContain(spec.query);
    }
  });

  it('takes request schemas from their input side and responses from their output side', () => {
    const schemas = (document.components as Json).schemas as Record<string, Json>;
    // a defaulted field is optional to send but always present in what comes back
    expect(schemas.CreateJobBody!.required).toEqual(['type']);
    expect(schemas.Job!.required).toContain('priority');
    const listJobs = operations.find((op) => op.key === 'GET /api/v1/jobs')!;
    expect(listJobs.query.find((q) => q.name === 'page_size')).toMatchObject({
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    });
  });

  it('maps custom methods to paths with the verb after the id', () => {
    expect(splitKey('POST /api/v1/runs/{id}:cancel')).toEqual({
      method: 'POST',
      path: '/api/v1/runs/{id}:cancel',
      routePath: '/api/v1/runs/{id}',
      verb: 'cancel',
    });
    expect(splitKey('POST /api/v1/deadletter:replay')).toEqual({
      method: 'POST',
      path: '/api/v1/deadletter:replay',
      routePath: '/api/v1/deadletter:replay',
    });
    expect(Object.keys(document.paths as Json)).toContain('/api/v1/worker/leases/{leaseId}:heartbeat');
  });

  it('is built once and byte-stable: keys sorted at every level, identical across fresh builds', async () => {
    expect(openApiDocument()).toBe(document);
    expect(Object.isFrozen(document)).toBe(true);
    for (const [at, node] of walk(document)) {
      if (Array.isArray(node)) continue;
      const keys = Object.keys(node);
      expect(keys, at).toEqual([...keys].sort());
    }
    vi.resetModules();
    const fresh = await import('../../../layers/core/src/openapi/document.ts');
    const rebuilt = fresh.openApiDocument();
    expect(rebuilt).not.toBe(document);
    expect(JSON.stringify(rebuilt)).toBe(JSON.stringify(document));
  });
});
