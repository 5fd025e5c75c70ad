import fc from 'fast-check';
import type { Fixtures, ResourceIds } from './fixtures.ts';
import { type DocumentedOperation, type Json, resolveRef } from './openapi.ts';
import type { TokenSet } from './tokens.ts';
import {
  HEADER_SAFE,
  HOSTILE_STRINGS,
  hostileHeaderValue,
  hostileJsonValue,
  hostileKey,
  hostileString,
  hugeString,
  PROTOTYPE_KEYS,
  RawJson,
  setOwn,
  toJson,
} from './values.ts';

/**
 * Turns each documented operation into hostile requests: a valid request for the operation (own ids,
 * a body that passes validation) that one mutation then breaks. What can be broken - types, required
 * fields, closed objects, lengths, patterns, ranges, query parameters, path ids, headers - is read from
 * the operation's schemas in the OpenAPI document.
 */
export type Segment = string | number;

/** A request under construction: ids and body are values; rendering encodes them. */
export interface Draft {
  method: string;
  /** OpenAPI path template */
  template: string;
  params: Record<string, string>;
  /** already percent-encoded path parameter values (for malformed encodings) */
  rawParams: Record<string, string>;
  query: [string, string][];
  headers: Record<string, string>;
  body: unknown;
  rawBody: Buffer | undefined;
  /** `null` sends no Content-Type with a body */
  contentType: string | null | undefined;
}

export interface Rendered {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export interface Mutation {
  category: string;
  note: string;
  /** Certainly invalid: the answer must be a 4xx (in `expect` when given) and nothing may change. */
  invalid: boolean;
  expect?: number[];
  /** May succeed: runs against new resources so it does not use up the shared ones. */
  fresh: boolean;
  apply(draft: Draft): void;
}

export interface Context {
  document: Json;
  fixtures: Fixtures;
  tokens: TokenSet;
  /** Tokens holding every scope but the one named. */
  tokensWithout: Record<string, string>;
}

let counter = 0;

/** The own resource an operation's path parameter names. */
export function idFor(path: string, ids: ResourceIds): string {
  if (path.startsWith('/api/v1/sources/')) return ids.source;
  if (path.startsWith('/api/v1/runs/')) return ids.run;
  if (path.startsWith('/api/v1/jobs/')) return ids.job;
  if (path.startsWith('/api/v1/worker/leases/')) return ids.lease;
  if (path.startsWith('/api/v1/worker/jobs/')) return ids.leasedJob;
  if (path.startsWith('/api/v1/deadletter/')) return ids.deadLetter;
  if (path.startsWith('/api/v1/pack-runs/')) return ids.packRun ?? '00000000-0000-7000-8000-000000000000';
  if (path.startsWith('/api/v1/streams/events/')) return ids.event ?? '1.1';
  if (path.startsWith('/api/v1/artifacts/')) return `sha256:${'0'.repeat(64)}`;
  return '00000000-0000-7000-8000-000000000000';
}

/** A body that passes validation for the operation, with the given ids. */
export function validBody(op: DocumentedOperation, ids: ResourceIds): unknown {
  const n = ++counter;
  switch (op.operationId) {
    case 'createSource':
      return { name: `fuzz-${n}`, type: 'fuzz_feed', upstreamHost: 'fuzz.example', config: {} };
    case 'updateSource':
      return { name: `fuzz-renamed-${n}` };
    case 'submitRun':
      return { jobs: [{ key: 'a', type: 'fuzz.run', payload: {} }], labels: {} };
    case 'submitJob':
      return { type: 'fuzz.job', payload: {} };
    case 'cancelRun':
    case 'cancelJob':
    case 'discardDeadLetter':
      return { reason: 'fuzz' };
    case 'prioritizeJob':
      return { priority: 1 };
    case 'leaseJobs':
      return { workerId: 'fuzz-worker', types: ['fuzz.nothing'] };
    case 'heartbeatLease':
      return { leaseSeconds: 60 };
    case 'reportProgress':
      return { leaseId: ids.lease, progress: { message: 'fuzz', data: {} } };
    case 'completeJob':
      return { leaseId: ids.lease, outcome: 'succeeded', result: {} };
    case 'completeJobs':
      return {
        completions: [{ jobId: ids.leasedJob, leaseId: ids.lease, outcome: 'succeeded', result: {} }],
      };
    case 'replayDeadLetter':
      return {};
    case 'replayDeadLetters':
      return { filter: { jobType: 'fuzz.nothing' }, dryRun: true };
    case 'createPackRun':
      return { pack: 'fuzz-pack@1.0', projectId: 'fuzz-project', params: {} };
    case 'createAuditExport':
      return { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T01:00:00.000Z' };
    case 'createQuota':
      return { jobType: `fuzz.quota${n}`, maxQueued: 1000, weight: 1 };
    case 'updateQuota':
      return { weight: 2 };
    case 'createBucket':
      return { sourceHost: `b${n}.fuzz.example`, burst: 5, refillPerHour: 60 };
    case 'updateBucket':
      return { burst: 6 };
    case 'createThrottle':
      return {
        target: { kind: 'job_type', id: 'fuzz.nothing' },
        kind: 'blackout',
        expiresAt: '2099-01-01T00:00:00Z',
      };
    case 'createSchedule':
      return {
        name: `fuzz-${n}`,
        cron: '0 * * * *',
        timezone: 'UTC',
        runTemplate: { jobs: [{ key: 'a', type: 'fuzz.scheduled', payload: {} }] },
      };
    case 'updateSchedule':
      return { name: `fuzz-renamed-${n}` };
    case 'createBackfill':
      return {
        sourceId: ids.source,
        start: '2024-01-01T00:00:00Z',
        end: '2024-01-02T00:00:00Z',
        chunkSeconds: 3600,
        dryRun: true,
      };
    default:
      return op.body ? {} : undefined;
  }
}

/** The operator headers an operation requires (backfills: reason and ticket), with valid values. */
function requiredOperatorNotes(op: DocumentedOperation): Record<string, string> {
  const values: Record<string, string> = {
    'X-Stella-Operator-Reason': 'fuzz campaign',
    'X-Stella-Operator-Ticket': 'FUZZ-1',
  };
  return Object.fromEntries(
    op.headers.filter((h) => h.required && h.name in values).map((h) => [h.name, values[h.name]!]),
  );
}

export function baseDraft(op: DocumentedOperation, ids: ResourceIds, token: string, tenant: string): Draft {
  const params: Record<string, string> = {};
  for (const name of op.pathParams) params[name] = idFor(op.path, ids);
  return {
    method: op.method,
    template: op.path,
    params,
    rawParams: {},
    query: [],
    headers: {
      ...(op.scope ? { Authorization: `Bearer ${token}`, 'X-Stella-Tenant': tenant } : {}),
      ...requiredOperatorNotes(op),
    },
    body: validBody(op, ids),
    rawBody: undefined,
    contentType: undefined,
  };
}

export function render(draft: Draft): Rendered {
  const path = draft.template.replace(
    /\{(\w+)\}/g,
    (_, name: string) => draft.rawParams[name] ?? encodeURIComponent(draft.params[name] ?? ''),
  );
  const query = draft.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const body =
    draft.rawBody ?? (draft.body === undefined ? undefined : Buffer.from(toJson(draft.body), 'utf8'));
  const headers = { ...draft.headers };
  if (body && draft.contentType !== null) headers['Content-Type'] = draft.contentType ?? 'application/json';
  return { method: draft.method, path: query ? `${path}?${query}` : path, headers, body };
}

// ---------------------------------------------------------------------------------------------------------
// Schema locations

interface Location {
  path: Segment[];
  schema: Json;
}

const RECORD_KEY = 'fuzzkey';

function typesOf(schema: Json): Set<string> | null {
  if (typeof schema.type === 'string') return new Set([schema.type]);
  if (Array.isArray(schema.type)) return new Set(schema.type as string[]);
  const variants = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (variants) {
    const all = new Set<string>();
    for (const variant of variants) {
      const types = typesOf(variant);
      if (!types) return null;
      for (const type of types) all.add(type);
    }
    return all;
  }
  if (Array.isArray(schema.enum)) {
    return new Set((schema.enum as unknown[]).map((v) => (v === null ? 'null' : typeof v)));
  }
  return null;
}

/** Every place a value can go in a body of `schema`: properties, array items (index 0), record entries. */
function locations(document: Json, schema: Json, path: Segment[] = [], depth = 0): Location[] {
  const resolved = resolveRef(document, schema);
  const result: Location[] = [{ path, schema: resolved }];
  if (depth > 5) return result;
  for (const [name, inner] of Object.entries((resolved.properties as Record<string, Json>) ?? {})) {
    result.push(...locations(document, inner, [...path, name], depth + 1));
  }
  if (resolved.items && typeof resolved.items === 'object') {
    result.push(...locations(document, resolved.items as Json, [...path, 0], depth + 1));
  }
  if (resolved.additionalProperties && typeof resolved.additionalProperties === 'object') {
    result.push(
      ...locations(document, resolved.additionalProperties as Json, [...path, RECORD_KEY], depth + 1),
    );
  }
  return result;
}

function getAt(body: unknown, path: Segment[]): unknown {
  let current = body;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment as string];
  }
  return current;
}

/** Sets `value` at `path`, creating objects and arrays on the way (the body may become invalid there). */
function setAt(draft: Draft, path: Segment[], value: unknown): void {
  if (path.length === 0) {
    draft.body = value;
    return;
  }
  if (draft.body === null || typeof draft.body !== 'object') draft.body = {};
  let current = draft.body as Record<string, unknown>;
  for (const [i, segment] of path.slice(0, -1).entries()) {
    const next = current[segment as string];
    if (next === null || typeof next !== 'object' || Object.hasOwn(current, segment) === false) {
      const fresh = typeof path[i + 1] === 'number' ? [] : {};
      setOwn(current, String(segment), fresh);
      current = fresh as Record<string, unknown>;
    } else {
      current = next as Record<string, unknown>;
    }
  }
  setOwn(current, String(path.at(-1)), value);
}

function deleteAt(draft: Draft, path: Segment[]): void {
  const parent = getAt(draft.body, path.slice(0, -1)) as Record<string, unknown>;
  delete parent[String(path.at(-1))];
}

const where = (path: Segment[]) => (path.length === 0 ? 'the body' : path.join('.'));

function isFreeText(schema: Json): boolean {
  const types = typesOf(schema);
  return (
    types?.has('string') === true &&
    schema.pattern === undefined &&
    schema.enum === undefined &&
    schema.format === undefined &&
    schema.const === undefined &&
    !(schema.anyOf as Json[] | undefined)?.some((v) => v.pattern !== undefined)
  );
}

function isRecord(schema: Json): boolean {
  return (
    typesOf(schema)?.has('object') === true &&
    schema.properties === undefined &&
    schema.additionalProperties !== false
  );
}

// ---------------------------------------------------------------------------------------------------------
// Values that break a schema

const SAMPLE_BY_TYPE: Record<string, unknown[]> = {
  string: ['x', '', '1', 'true', 'null'],
  number: [1.5, -0.25, 1e308],
  integer: [7, 0, -1],
  boolean: [true, false],
  null: [null],
  array: [[], ['x'], [1, 2]],
  object: [{}, { a: 1 }],
};

function wrongTypeValues(schema: Json): unknown[] | null {
  const allowed = typesOf(schema);
  if (!allowed) return null;
  const excluded = new Set(allowed);
  if (allowed.has('number')) excluded.add('integer');
  const values: unknown[] = [];
  for (const [type, samples] of Object.entries(SAMPLE_BY_TYPE)) {
    if (excluded.has(type)) continue;
    if (type === 'number' && allowed.has('integer')) values.push(1.5);
    else values.push(...samples);
  }
  return values.length > 0 ? values : null;
}

function matches(pattern: string, value: string): boolean {
  return new RegExp(pattern, 'u').test(value);
}

/** Values that violate one constraint of a schema, each with what it violates. */
function constraintViolations(schema: Json): fc.Arbitrary<[string, unknown]>[] {
  const variants = (schema.anyOf as Json[] | undefined)?.filter((v) => v.type !== 'null');
  if (variants?.length === 1) return constraintViolations(variants[0]!);
  const out: fc.Arbitrary<[string, unknown]>[] = [];
  const num = (key: string) => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  const violation = (what: string, ...values: unknown[]) =>
    fc.constantFrom(...values).map((value): [string, unknown] => [what, value]);
  const maxLength = num('maxLength');
  if (maxLength !== undefined) {
    out.push(
      fc
        .oneof(
          fc.constant('x'.repeat(maxLength + 1)),
          hugeString.filter((s) => s.length > maxLength),
        )
        .map((s): [string, unknown] => [`longer than ${maxLength}`, s]),
    );
  }
  const minLength = num('minLength');
  if (minLength !== undefined && minLength > 0)
    out.push(violation(`shorter than ${minLength}`, 'x'.repeat(minLength - 1)));
  if (typeof schema.pattern === 'string') {
    const pattern = schema.pattern;
    const failing = HOSTILE_STRINGS.filter((s) => !matches(pattern, s));
    if (failing.length > 0) out.push(violation(`not matching ${pattern}`, ...failing));
  }
  if (Array.isArray(schema.enum)) {
    const allowed = schema.enum as unknown[];
    const wrong = ['not-in-enum', 'TRUE', ' succeeded', 'Open', 'open '].filter((v) => !allowed.includes(v));
    out.push(violation(`not one of ${JSON.stringify(allowed)}`, ...wrong));
  }
  const minimum = num('minimum');
  if (minimum !== undefined) out.push(violation(`below ${minimum}`, minimum - 1, -1e308, -(2 ** 63)));
  const maximum = num('maximum');
  if (maximum !== undefined) out.push(violation(`above ${maximum}`, maximum + 1, 1e308, 2 ** 63));
  const maxItems = num('maxItems');
  if (maxItems !== undefined && maxItems <= 10_000) {
    out.push(violation(`more than ${maxItems} items`, Array(maxItems + 1).fill('x')));
  }
  const minItems = num('minItems');
  if (minItems !== undefined && minItems > 0) out.push(violation(`fewer than ${minItems} items`, []));
  if (schema.format === 'uuid') {
    out.push(
      violation(
        'not a uuid',
        'not-a-uuid',
        '{00000000-0000-7000-8000-000000000000}',
        '00000000-0000-7000-8000-00000000000g',
        "' OR 1=1 --",
      ),
    );
  }
  if (schema.format === 'date-time') {
    out.push(
      violation('not a date-time', '2025-13-01T00:00:00Z', 'yesterday', '2025-01-01', '2025-02-30T00:00:00Z'),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Categories

const MALFORMED_JSON = [
  '{',
  '{"a":}',
  "{'a':1}",
  '{"a":1,}',
  'NaN',
  '{"a":NaN}',
  '[1,2',
  '\ufeff{}',
  '{"a":1}{"b":2}',
  '// comment\n{}',
  'undefined',
  '{"a":"\\x41"}',
  '{"a":"unterminated',
  '{"a":1e}',
  '{"a":01}',
  `${'['.repeat(20_000)}`,
  '\u0000',
];

const NOT_OBJECTS = ['[]', '"string"', '42', 'true', '[{}]'];

const WRONG_CONTENT_TYPES: (string | null)[] = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/json',
  'application/jsonx',
  'application/octet-stream',
  '',
  null,
];

const BAD_IDS = [
  'not-a-uuid',
  "' OR '1'='1",
  '1; DROP TABLE jobs',
  '00000000-0000-0000-0000-000000000000',
  '00000000-0000-7000-8000-00000000000',
  '00000000-0000-7000-8000-0000000000000',
  '__proto__',
  'constructor',
  'null',
  '-1',
  '..',
  '../../etc/passwd',
  'a/b',
  'x'.repeat(5_000),
  'é',
  '\u0000',
  '\ud83d\ude00',
  '\u202e',
];

/** Already percent-encoded ids, including encodings no decoder accepts. */
const RAW_BAD_IDS = ['%00', '%2F', '%2e%2e', '%25', '%E0%A4%A', '%', '%zz', '%C0%AF', '%ED%A0%80'];

const UNKNOWN_QUERY = [
  'colour',
  '__proto__',
  'constructor',
  'tenant_id',
  'page_size[]',
  '$where',
  'PAGE_SIZE',
  '',
];

const FORGED_TOKENS = [
  'forged.token',
  'eyJ2IjoxLCJzIjoieCIsImsiOlsiMDAwMDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAwIl19.AAAAAAAAAAAAAAAAAAAAAA',
  '.',
  '..',
  'x'.repeat(1_025),
  "' OR 1=1 --",
  '%00',
];

/** A filter each list accepts besides the one its fixture page token was minted with. */
const OTHER_FILTER: Record<string, [string, string]> = {
  listSources: ['enabled', 'false'],
  listRuns: ['status', 'failed'],
  listJobs: ['status', 'failed'],
  listDeadLetters: ['status', 'discarded'],
};

function tamper(token: string): string {
  const i = Math.floor(token.length / 3);
  const c = token[i] === 'A' ? 'B' : 'A';
  return `${token.slice(0, i)}${c}${token.slice(i + 1)}`;
}

const forbiddenQueryValue = (schema: Json): string[] => {
  const values = ['', ' ', "' OR 1=1 --", '__proto__', 'x'.repeat(2_000), '\u0000', 'é'];
  const types = typesOf(schema);
  if (types?.has('integer') || types?.has('number')) {
    values.push('abc', '1.5', '0', '-1', '501', '1e3', '0x10', 'Infinity', '99999999999999999999');
  }
  if (Array.isArray(schema.enum)) values.push('TRUE', 'yes', '1');
  return values.filter((v) => {
    if (Array.isArray(schema.enum) && (schema.enum as unknown[]).includes(v)) return false;
    if (types?.has('integer')) {
      const n = Number(v);
      if (
        v.trim() !== '' &&
        Number.isInteger(n) &&
        n >= ((schema.minimum as number) ?? -Infinity) &&
        n <= ((schema.maximum as number) ?? Infinity)
      )
        return false;
    }
    if (
      typeof schema.pattern === 'string' &&
      matches(schema.pattern, v) &&
      (schema.maxLength === undefined || v.length <= (schema.maxLength as number)) &&
      (schema.minLength === undefined || v.length >= (schema.minLength as number))
    ) {
      return false;
    }
    if (
      types?.has('string') &&
      !Array.isArray(schema.enum) &&
      schema.pattern === undefined &&
      schema.format === undefined
    ) {
      return (
        v.length > ((schema.maxLength as number) ?? Infinity) ||
        v.length < ((schema.minLength as number) ?? 0)
      );
    }
    return true;
  });
};

function mutation(
  category: string,
  note: string,
  apply: (draft: Draft) => void,
  options: { invalid?: boolean; expect?: number[]; fresh?: boolean } = {},
): Mutation {
  const invalid = options.invalid ?? true;
  return {
    category,
    note,
    invalid,
    fresh: options.fresh ?? !invalid,
    apply,
    ...(options.expect ? { expect: options.expect } : {}),
  };
}

/** The mutations of every category that applies to `op`, one arbitrary per category. */
export function categories(op: DocumentedOperation, ctx: Context): Map<string, fc.Arbitrary<Mutation>> {
  const { document, fixtures, tokens } = ctx;
  const result = new Map<string, fc.Arbitrary<Mutation>>();
  const bodySchema = op.body?.schema;
  const locs = bodySchema ? locations(document, bodySchema) : [];
  const limit = op.maxBodyBytes;
  const isWorker = op.path.startsWith('/api/v1/worker/');
  const headerNames = new Set(op.headers.map((h) => h.name));

  if (op.scope) {
    result.set(
      'auth',
      fc.oneof(
        fc.constantFrom(...Object.entries(tokens.unauthenticated)).map(([why, token]) =>
          mutation(
            'auth',
            `token: ${why}`,
            (d) => {
              d.headers.Authorization = `Bearer ${token}`;
            },
            { expect: [401] },
          ),
        ),
        fc
          .constantFrom<[string, string | undefined]>(
            ['no Authorization header', undefined],
            ['Basic credentials', 'Basic ZnV6ejpmdXp6'],
            ['Bearer without a token', 'Bearer'],
            ['Bearer with a space only', 'Bearer  '],
            ['two tokens', `Bearer ${tokens.valid} ${tokens.valid}`],
            ['token with a comma', `Bearer ${tokens.valid},x`],
          )
          .map(([why, value]) =>
            mutation(
              'auth',
              why,
              (d) => {
                if (value === undefined) delete d.headers.Authorization;
                else d.headers.Authorization = value;
              },
              { expect: [401] },
            ),
          ),
        fc.constantFrom(...Object.entries(tokens.forbidden)).map(([why, token]) =>
          mutation(
            'auth',
            `token: ${why}`,
            (d) => {
              d.headers.Authorization = `Bearer ${token}`;
            },
            { expect: [403] },
          ),
        ),
        fc.constant(
          mutation(
            'auth',
            `token without scope ${op.scope}`,
            (d) => {
              d.headers.Authorization = `Bearer ${ctx.tokensWithout[op.scope!]}`;
            },
            { expect: [403] },
          ),
        ),
      ),
    );
    result.set(
      'tenant',
      fc.oneof(
        fc.constant(
          mutation(
            'tenant',
            'no X-Stella-Tenant',
            (d) => {
              delete d.headers['X-Stella-Tenant'];
            },
            { expect: [403] },
          ),
        ),
        fc.constant(
          mutation(
            'tenant',
            'empty X-Stella-Tenant',
            (d) => {
              d.headers['X-Stella-Tenant'] = '';
            },
            { expect: [403] },
          ),
        ),
        fc.constantFrom(fixtures.otherTenant, 'fuzz-zzz', 'default').map((tenant) =>
          mutation(
            'tenant',
            `X-Stella-Tenant of a tenant the token does not grant: ${tenant}`,
            (d) => {
              d.headers['X-Stella-Tenant'] = tenant;
            },
            { expect: [403] },
          ),
        ),
        fc
          .constantFrom(
            fixtures.tenant.toUpperCase(),
            `-${fixtures.tenant}`,
            'a'.repeat(64),
            "a' OR '1'='1",
            'a b',
            '../b',
            'café',
            '*',
            `${fixtures.tenant},${fixtures.otherTenant}`,
          )
          .map((tenant) =>
            mutation(
              'tenant',
              `malformed X-Stella-Tenant: ${tenant.slice(0, 40)}`,
              (d) => {
                d.headers['X-Stella-Tenant'] = tenant;
              },
              { expect: [400, 403] },
            ),
          ),
        fc.constantFrom('-x', 'p'.repeat(129), 'p/q', "'; DROP TABLE runs; --", 'é', '').map((project) =>
          mutation(
            'tenant',
            `malformed X-Stella-Project: ${project.slice(0, 40)}`,
            (d) => {
              d.headers['X-Stella-Project'] = project;
            },
            { expect: [400] },
          ),
        ),
      ),
    );
  }

  result.set(
    'content-type',
    fc.constantFrom(...WRONG_CONTENT_TYPES).map((type) =>
      mutation(
        'content-type',
        `body sent as ${type === null ? 'no Content-Type' : `'${type}'`}`,
        (d) => {
          d.body ??= {};
          d.contentType = type;
        },
        // an operation without a body may refuse any body before looking at its type
        { expect: bodySchema ? [415] : [400, 415] },
      ),
    ),
  );
  result.set(
    'malformed-json',
    fc.constantFrom(...MALFORMED_JSON).map((text) =>
      mutation(
        'malformed-json',
        `body ${JSON.stringify(text.slice(0, 30))}`,
        (d) => {
          d.rawBody = Buffer.from(text, 'utf8');
        },
        { expect: [400] },
      ),
    ),
  );
  result.set(
    'body-too-large',
    fc.constantFrom(limit + 1, limit + 10_000, 10 * 1024 * 1024 + 1).map((size) =>
      mutation(
        'body-too-large',
        `a ${size}-byte body (limit ${limit})`,
        (d) => {
          const prefix = '{"pad":"';
          d.rawBody = Buffer.from(`${prefix}${'x'.repeat(size - prefix.length - 2)}"}`, 'utf8');
        },
        { expect: bodySchema ? [413] : [400, 413] },
      ),
    ),
  );
  const pathItem = (document.paths as Record<string, Json>)[op.path] ?? {};
  const otherMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !pathItem[m.toLowerCase()]);
  result.set(
    'method',
    fc.constantFrom(...otherMethods).map((method) =>
      mutation(
        'method',
        `${method} instead of ${op.method}`,
        (d) => {
          d.method = method;
        },
        { expect: [404, 405] },
      ),
    ),
  );

  if (!bodySchema) {
    result.set(
      'unexpected-body',
      fc.constantFrom('{}', '{"a":1}', '[]', '""').map((text) =>
        mutation(
          'unexpected-body',
          `a body (${text}) for an operation that takes none`,
          (d) => {
            d.rawBody = Buffer.from(text);
          },
          { expect: [400] },
        ),
      ),
    );
  } else {
    result.set(
      'not-an-object',
      fc.constantFrom(...NOT_OBJECTS).map((text) =>
        mutation(
          'not-an-object',
          `body ${text}`,
          (d) => {
            d.rawBody = Buffer.from(text);
          },
          { expect: [400] },
        ),
      ),
    );
    const typed = locs.filter((l) => l.path.length > 0 && wrongTypeValues(l.schema));
    if (typed.length > 0) {
      result.set(
        'wrong-type',
        fc.constantFrom(...typed).chain((loc) =>
          fc.constantFrom(...wrongTypeValues(loc.schema)!).map((value) =>
            mutation(
              'wrong-type',
              `${where(loc.path)} = ${JSON.stringify(value)}`,
              (d) => setAt(d, loc.path, value),
              {
                expect: [400],
              },
            ),
          ),
        ),
      );
    }
    const hasRequired = locs.some((l) => Array.isArray(l.schema.required) && l.schema.required.length > 0);
    if (hasRequired)
      result.set(
        'missing-required',
        fc.constant(null).map(() =>
          mutation(
            'missing-required',
            'a required field left out',
            (d) => {
              const present = locs.filter((l) => {
                const value = getAt(d.body, l.path);
                return Array.isArray(l.schema.required) && value !== null && typeof value === 'object';
              });
              const candidates = present.flatMap((l) =>
                (l.schema.required as string[])
                  .filter((name) => Object.hasOwn(getAt(d.body, l.path) as object, name))
                  .map((name) => [...l.path, name]),
              );
              // a base body always carries its required fields; an array is invalid for every body all the same
              if (candidates.length === 0) {
                d.body = [];
                return;
              }
              deleteAt(d, candidates[counter++ % candidates.length]!);
            },
            { expect: [400] },
          ),
        ),
      );
    const closed = locs.filter(
      (l) => l.schema.additionalProperties === false && typesOf(l.schema)?.has('object'),
    );
    if (closed.length > 0) {
      result.set(
        'extra-field',
        fc
          .tuple(
            fc.constantFrom(...closed),
            fc.oneof(
              fc.constantFrom(...PROTOTYPE_KEYS, 'isAdmin', 'tenantId', 'id', '$where', ''),
              fc.string({ maxLength: 12 }),
            ),
            fc.jsonValue({ maxDepth: 2 }),
          )
          .filter(([loc, key]) => !Object.hasOwn((loc.schema.properties as Json) ?? {}, key))
          .map(([loc, key, value]) =>
            mutation(
              'extra-field',
              `unknown field ${JSON.stringify(key)} in ${where(loc.path)}`,
              (d) => {
                const target = getAt(d.body, loc.path);
                if (target === null || typeof target !== 'object' || Array.isArray(target))
                  setAt(d, loc.path, {});
                setOwn(getAt(d.body, loc.path) as Record<string, unknown>, key, value);
              },
              { expect: [400] },
            ),
          ),
      );
    }
    const constrained = locs
      .filter((l) => l.path.length > 0)
      .flatMap((l) =>
        constraintViolations(l.schema).map((arb) => arb.map(([what, value]) => ({ l, what, value }))),
      );
    const keyed = locs.filter((l) => (l.schema.propertyNames as Json | undefined)?.maxLength !== undefined);
    for (const l of keyed) {
      const max = (l.schema.propertyNames as Json).maxLength as number;
      constrained.push(
        fc.constant({
          l: { ...l, path: [...l.path, 'k'.repeat(max + 1)] },
          what: `a key longer than ${max}`,
          value: 1,
        }),
      );
    }
    if (constrained.length > 0) {
      result.set(
        'constraint',
        fc.oneof(...constrained).map(({ l, what, value }) =>
          mutation('constraint', `${where(l.path)} ${what}`, (d) => setAt(d, l.path, value), {
            expect: [400, 413],
          }),
        ),
      );
    }
    const texts = locs.filter((l) => l.path.length > 0 && isFreeText(l.schema));
    if (texts.length > 0) {
      result.set(
        'hostile-text',
        fc.tuple(fc.constantFrom(...texts), hostileString).map(([loc, value]) => {
          const max = loc.schema.maxLength as number | undefined;
          const text = max === undefined ? value : value.slice(0, max) || 'x';
          return mutation(
            'hostile-text',
            `${where(loc.path)} = ${JSON.stringify(text.slice(0, 40))}${text.length > 40 ? `… (${text.length})` : ''}`,
            (d) => setAt(d, loc.path, text),
            { invalid: false },
          );
        }),
      );
    }
    const records = locs.filter((l) => isRecord(l.schema));
    if (records.length > 0) {
      result.set(
        'hostile-json',
        fc.tuple(fc.constantFrom(...records), hostileKey, hostileJsonValue).map(([loc, key, value]) =>
          mutation(
            'hostile-json',
            `${where(loc.path)}[${JSON.stringify(key)}] = ${toJson(value).slice(0, 40)}`,
            (d) => {
              const target = getAt(d.body, loc.path);
              if (target === null || typeof target !== 'object' || Array.isArray(target))
                setAt(d, loc.path, {});
              setOwn(getAt(d.body, loc.path) as Record<string, unknown>, key, value);
            },
            { invalid: false },
          ),
        ),
      );
    }
  }

  const queryMutations: fc.Arbitrary<Mutation>[] = [
    fc.tuple(fc.constantFrom(...UNKNOWN_QUERY), fc.constantFrom('1', 'x', '')).map(([name, value]) =>
      mutation(
        'query',
        `unknown query parameter ${JSON.stringify(name)}`,
        (d) => {
          d.query.push([name, value]);
        },
        { expect: [400] },
      ),
    ),
  ];
  if (op.query.length > 0) {
    queryMutations.push(
      fc.constantFrom(...op.query).map((q) =>
        mutation(
          'query',
          `${q.name} repeated`,
          (d) => {
            d.query.push(
              [q.name, q.name === 'page_size' ? '5' : 'x'],
              [q.name, q.name === 'page_size' ? '6' : 'y'],
            );
          },
          { expect: [400] },
        ),
      ),
      fc
        .constantFrom(...op.query.filter((q) => q.name !== 'page_token'))
        .chain((q) => fc.constantFrom(...forbiddenQueryValue(q.schema)).map((value) => ({ q, value })))
        .map(({ q, value }) =>
          mutation(
            'query',
            `${q.name}=${JSON.stringify(value.slice(0, 30))}`,
            (d) => {
              d.query.push([q.name, value]);
            },
            { expect: [400] },
          ),
        ),
    );
    if (op.query.some((q) => q.name === 'page_token')) {
      const own = fixtures.pageTokens[op.operationId];
      const ownFilter = (fixtures.pageFilters[op.operationId] ?? '')
        .split('&')
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string]);
      const variants: [string, [string, string][]][] = [
        ...FORGED_TOKENS.map((t): [string, [string, string][]] => [
          `forged page_token ${t.slice(0, 20)}`,
          [['page_token', t]],
        ]),
        ...Object.entries(fixtures.pageTokens)
          .filter(([id]) => id !== op.operationId)
          .map(([id, t]): [string, [string, string][]] => [`page_token of ${id}`, [['page_token', t]]]),
      ];
      if (own) {
        variants.push(['tampered page_token', [...ownFilter, ['page_token', tamper(own)]]]);
        variants.push([
          'page_token with its signature cut',
          [...ownFilter, ['page_token', own.slice(0, own.indexOf('.') + 5)]],
        ]);
        const other = OTHER_FILTER[op.operationId];
        if (other)
          variants.push(['page_token used with other filters', [...ownFilter, other, ['page_token', own]]]);
      }
      queryMutations.push(
        fc.constantFrom(...variants).map(([why, pairs]) =>
          mutation(
            'query',
            why,
            (d) => {
              d.query.push(...pairs);
            },
            { expect: [400] },
          ),
        ),
      );
    }
  }
  result.set('query', fc.oneof(...queryMutations));

  if (op.pathParams.length > 0) {
    const statuses = isWorker ? [404, 409] : [404];
    result.set(
      'path-id',
      fc.oneof(
        fc.constant(
          mutation(
            'path-id',
            'an id of another tenant',
            (d) => {
              for (const name of op.pathParams) d.params[name] = idFor(op.path, fixtures.other);
            },
            { expect: statuses },
          ),
        ),
        fc.constant(
          mutation(
            'path-id',
            'an id of another tenant, upper-cased',
            (d) => {
              for (const name of op.pathParams) d.params[name] = idFor(op.path, fixtures.other).toUpperCase();
            },
            { expect: statuses },
          ),
        ),
        fc.uuid({ version: [4, 7] }).map((id) =>
          mutation(
            'path-id',
            `an unknown id ${id}`,
            (d) => {
              for (const name of op.pathParams) d.params[name] = id;
            },
            { expect: statuses },
          ),
        ),
        fc.constantFrom(...BAD_IDS).map((id) =>
          mutation(
            'path-id',
            `id ${JSON.stringify(id.slice(0, 30))}`,
            (d) => {
              for (const name of op.pathParams) d.params[name] = id;
            },
            { expect: statuses },
          ),
        ),
        fc.constantFrom(...RAW_BAD_IDS).map((raw) =>
          mutation(
            'path-id',
            `raw id ${raw}`,
            (d) => {
              for (const name of op.pathParams) d.rawParams[name] = raw;
            },
            { expect: [...statuses, 400] },
          ),
        ),
      ),
    );
    result.set(
      'unknown-verb',
      fc
        .constantFrom(':frobnicate', ':', ':cancel:cancel', ':CANCEL', ':__proto__', ':constructor')
        .map((suffix) =>
          mutation(
            'unknown-verb',
            `id followed by ${suffix}`,
            (d) => {
              for (const name of op.pathParams)
                d.rawParams[name] = `${encodeURIComponent(d.params[name]!)}${suffix}`;
            },
            { expect: [...statuses, 405] },
          ),
        ),
    );
  }

  if (op.method === 'POST' && headerNames.has('Idempotency-Key')) {
    result.set(
      'idempotency-key',
      fc.constantFrom('', 'k'.repeat(256), 'clé', 'a\tb', '\u00ff').map((key) =>
        mutation(
          'idempotency-key',
          `malformed Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`,
          (d) => {
            d.headers['Idempotency-Key'] = key;
          },
          { expect: [400] },
        ),
      ),
    );
  }
  if (headerNames.has('If-Match')) {
    result.set(
      'if-match',
      fc.oneof(
        fc.constantFrom('3', '"abc"', 'W/', '"9999999999"', '*', '"1", "2"', "' OR 1=1").map((value) =>
          mutation(
            'if-match',
            `malformed If-Match ${value}`,
            (d) => {
              d.headers['If-Match'] = value;
            },
            { expect: [400] },
          ),
        ),
        fc.constant(
          mutation(
            'if-match',
            'stale If-Match "999999"',
            (d) => {
              d.headers['If-Match'] = '"999999"';
            },
            { expect: [412] },
          ),
        ),
      ),
    );
  }

  const headerTargets = [
    'X-Correlation-Id',
    ...(headerNames.has('X-Stella-Operator-Reason')
      ? ['X-Stella-Operator-Reason', 'X-Stella-Operator-Ticket']
      : []),
    ...(headerNames.has('Idempotency-Key') ? ['Idempotency-Key'] : []),
  ];
  result.set(
    'hostile-headers',
    fc.tuple(fc.constantFrom(...headerTargets), hostileHeaderValue).map(([name, value]) =>
      mutation(
        'hostile-headers',
        `${name}: ${JSON.stringify(value.slice(0, 30))}${value.length > 30 ? `… (${value.length})` : ''}`,
        (d) => {
          if (!HEADER_SAFE.test(value)) throw new Error(`not a header value: ${JSON.stringify(value)}`);
          d.headers[name] = name === 'Idempotency-Key' ? `${value}-${++counter}` : value;
        },
        { invalid: false },
      ),
    ),
  );
  result.set(
    'header-names',
    fc
      .tuple(
        fc.constantFrom(...PROTOTYPE_KEYS, '__defineGetter__', 'X-Stella-Tenant-Override', 'X-Forwarded-For'),
        hostileHeaderValue,
      )
      .map(([name, value]) =>
        mutation(
          'header-names',
          `an extra header ${name}: ${JSON.stringify(value.slice(0, 20))}`,
          (d) => {
            d.headers[name] = value;
          },
          { invalid: false },
        ),
      ),
  );
  return result;
}

/** True for an Idempotency-Key the API accepts (and may therefore keep, even for a 4xx). */
export function isValidIdempotencyKey(value: string | undefined): boolean {
  return value !== undefined && /^[\x20-\x7e]{1,255}$/.test(value);
}

export { RawJson };
