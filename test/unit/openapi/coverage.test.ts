import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, ROUTES } from '../../../functions/routes.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../../layers/core/src/http/api.ts';
import * as core from '../../../layers/core/src/index.ts';
import { bodyLimit, OPERATIONS, openApiDocument, splitKey } from '../../../layers/core/src/openapi/index.ts';

/**
 * The registry the document is generated from covers every route and every operation a handler
 * registers, and nothing else. Handlers keep their operation tables private (wrapped by tenantApi /
 * publicApi), so their keys are read from the source: each is a `'METHOD /path': operation(` entry.
 * The REST functions are those ROUTES sends requests to.
 */
const ROOT = join(import.meta.dirname, '../../..');
const restFunctions = [...new Set(ROUTES.map((route) => route.fn))];

/** `'GET /path': operation(` - or any `…Operation(` helper (streamingOperation). */
const KEY = /^\s*'((?:GET|POST|PATCH|PUT|DELETE) \/[^']*)'\s*:\s*(?:\w+O|o)peration\b/gm;

/** Each operation a handler registers, with the options it declares before `handle`. */
function handlerOperations(fn: string) {
  const entry = (FUNCTIONS as Record<string, { entry: string }>)[fn]!.entry;
  const source = readFileSync(join(ROOT, entry), 'utf8');
  const matches = [...source.matchAll(KEY)];
  return matches.map((match, i) => {
    const end = matches[i + 1]?.index ?? source.length;
    const block = source.slice(match.index, end);
    const spec = block.split(/\bhandle\b/)[0]!;
    return {
      key: match[1]!,
      operator: /\boperator(?:Call|Note)\(/.test(block),
      scope: /\bscope:\s*'([^']+)'/.exec(spec)?.[1],
      body: /\bbody:\s*(\w+)/.exec(spec)?.[1],
      query: /\bquery:\s*(\w+)/.exec(spec)?.[1],
      maxBodyBytes: /\bmaxBodyBytes:\s*([\d_]+)/.exec(spec)?.[1]?.replaceAll('_', ''),
    };
  });
}

const handlerKeys = (fn: string) => handlerOperations(fn).map((op) => op.key);

/** The name `@jobengine/core` exports a schema under (what a handler imports). */
function exportName(schema: unknown): string | undefined {
  return Object.entries(core).find(([, value]) => value === schema)?.[0];
}

describe('the operation registry', () => {
  it('lists exactly the operations the REST handlers register, each under its function', () => {
    const registered = restFunctions.flatMap((fn) => handlerKeys(fn).map((key) => `${fn} ${key}`)).sort();
    const documented = OPERATIONS.map((spec) => `${spec.fn} ${spec.key}`).sort();
    expect(registered.length).toBeGreaterThan(25);
    expect(documented).toEqual(registered);
  });

  it('documents the scope, body, query, body limit and operator notes of each handler operation', () => {
    for (const fn of restFunctions) {
      for (const declared of handlerOperations(fn)) {
        const spec = OPERATIONS.find((candidate) => candidate.key === declared.key);
        expect(spec, declared.key).toBeDefined();
        expect(spec!.scope, declared.key).toBe(declared.scope);
        expect(spec!.body && exportName(spec!.body), declared.key).toBe(declared.body);
        expect(spec!.query && exportName(spec!.query), declared.key).toBe(declared.query);
        expect(spec!.operator === true, `${declared.key} records operator notes`).toBe(declared.operator);
        expect(bodyLimit(spec!), declared.key).toBe(Number(declared.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
      }
    }
  });

  it('serves every operation through a route of ROUTES with the same authentication', () => {
    for (const spec of OPERATIONS) {
      const { method, routePath } = splitKey(spec.key);
      const route = ROUTES.find((r) => r.method === method && r.path === routePath);
      expect(route, spec.key).toBeDefined();
      expect(route!.fn, spec.key).toBe(spec.fn);
      expect(route!.authenticated, spec.key).toBe(spec.scope !== undefined);
    }
  });

  it('documents at least one operation for every route of ROUTES', () => {
    const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;
    for (const route of ROUTES) {
      const served = OPERATIONS.filter((spec) => {
        const { method, routePath } = splitKey(spec.key);
        return method === route.method && routePath === route.path;
      });
      expect(served.length, `${route.method} ${route.path}`).toBeGreaterThan(0);
      for (const spec of served) {
        const { method, path } = splitKey(spec.key);
        expect(paths[path]?.[method.toLowerCase()], spec.key).toBeDefined();
      }
    }
  });
});
