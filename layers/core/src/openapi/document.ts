import { z } from 'zod';
import { TENANT_ID_PATTERN } from '../adapters/postgres/database.ts';
import { projectId } from '../api/sources.ts';
import { StreamPositionText } from '../api/streams.ts';
import { ERROR_CODES } from '../domain/errors.ts';
import {
  createdExamples,
  deadLetterExample,
  EXAMPLE_TENANT,
  errorExamples,
  IDEMPOTENCY_KEY_EXAMPLE,
  jobExample,
  lastPageExample,
  PAGE_TOKEN_EXAMPLE,
  packRunExample,
  pageExample,
  runExample,
  sourceExample,
} from './examples.ts';
import {
  bodyLimit,
  OPERATIONS,
  type OperationSpec,
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
  splitKey,
} from './operations.ts';
import { flaggedPatterns } from './patterns.ts';
import { ErrorEnvelope } from './responses.ts';

/**
 * The OpenAPI 3.1 document (DESIGN §8), generated from the operation registry and the zod schemas the
 * handlers validate with. OpenAPI 3.1 schemas are JSON Schema 2020-12, so zod emits that dialect directly:
 * request bodies and query parameters from the input side of each schema (defaults make fields optional),
 * responses from the output side (objects closed with `additionalProperties: false`).
 */
export type JsonObject = { [key: string]: unknown };

export const OPENAPI_VERSION = '3.1.0';
export const API_VERSION = '1.0.0';

const SCHEMA_REF = (name: string) => `#/components/schemas/${name}`;
const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** Converts named zod schemas into components.schemas; references between them become `$ref`s. */
function componentSchemas(
  entries: ReadonlyArray<readonly [string, z.ZodType]>,
  io: 'input' | 'output',
): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of entries) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'throw',
    uri: SCHEMA_REF,
    override: flaggedPatterns,
  });
  const result: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonObject;
    result[id] = rest;
  }
  return result;
}

function inputSchema(schema: z.ZodType): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'throw',
    override: flaggedPatterns,
  }) as JsonObject;
  return rest;
}

const nameOf = (() => {
  const names = new Map<z.ZodType, string>();
  for (const [name, schema] of [...REQUEST_SCHEMAS, ...RESPONSE_SCHEMAS]) names.set(schema, name);
  return (schema: z.ZodType): string => {
    const name = names.get(schema);
    if (!name) throw new Error('openapi: a schema used by an operation is not in REQUEST/RESPONSE_SCHEMAS');
    return name;
  };
})();

/** Error statuses, each with the codes of domain/errors.ts that answer it. */
const ERROR_RESPONSES: Record<number, { name: string; description: string; examples?: string[] }> = {
  400: {
    name: 'BadRequest',
    description: 'The request is malformed: invalid body, query, header or page token.',
    examples: ['validationFailed', 'invalidPageToken'],
  },
  401: {
    name: 'Unauthorized',
    description: 'No valid bearer token (missing, malformed, expired, wrongly signed).',
    examples: ['unauthenticated'],
  },
  403: {
    name: 'Forbidden',
    description: 'No X-Stella-Tenant, a tenant the token does not grant, or a missing scope.',
    examples: ['tenantRequired'],
  },
  404: {
    name: 'NotFound',
    description:
      'No such resource in this tenant. Ids of other tenants and ids that are no UUID answer alike.',
    examples: ['notFound'],
  },
  409: { name: 'Conflict', description: 'The resource is not in a state that allows this, or has changed.' },
  412: { name: 'PreconditionFailed', description: 'If-Match names a version that is no longer current.' },
  413: { name: 'PayloadTooLarge', description: 'The body exceeds the limit of the operation.' },
  415: { name: 'UnsupportedMediaType', description: 'The body is not `application/json`.' },
  422: {
    name: 'UnprocessableEntity',
    description: 'The Idempotency-Key was used with a different request, or a required project is missing.',
    examples: ['idempotencyKeyReused'],
  },
  429: {
    name: 'TooManyRequests',
    description: 'Backpressure applies; retry after `Retry-After` seconds.',
    examples: ['rateLimited'],
  },
  503: {
    name: 'ServiceUnavailable',
    description: 'A dependency (the database) is unavailable; retry after `Retry-After` seconds.',
    examples: ['databaseUnavailable'],
  },
};

export function errorCodesFor(status: number): string[] {
  return Object.entries(ERROR_CODES)
    .filter(([, s]) => s === status)
    .map(([code]) => code)
    .sort();
}

function errorResponse(status: number): JsonObject {
  const spec = ERROR_RESPONSES[status]!;
  const codes = errorCodesFor(status);
  const headers: JsonObject = {};
  if (status === 429 || status === 503) headers['Retry-After'] = ref('headers', 'RetryAfter');
  if (status === 429) {
    headers['X-RateLimit-Limit'] = ref('headers', 'RateLimitLimit');
    headers['X-RateLimit-Remaining'] = ref('headers', 'RateLimitRemaining');
    headers['X-RateLimit-Reset'] = ref('headers', 'RateLimitReset');
  }
  const examples = Object.fromEntries(
    (spec.examples ?? []).map((name) => [name, errorExamples[name as keyof typeof errorExamples]]),
  );
  return {
    description: `${spec.description} Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: SCHEMA_REF('ErrorEnvelope') },
            {
              type: 'object',
              properties: { error: { type: 'object', properties: { code: { enum: codes } } } },
            },
          ],
        },
        ...(Object.keys(examples).length > 0 ? { examples } : {}),
      },
    },
  };
}

/** Statuses an operation can answer with the error envelope, from its kind and its extras. */
export function errorStatuses(spec: OperationSpec): number[] {
  const { method } = splitKey(spec.key);
  const statuses = new Set<number>([400, ...(spec.errors ?? [])]);
  if (spec.scope) for (const status of [401, 403, 429, 503]) statuses.add(status);
  if (spec.body) {
    statuses.add(413);
    statuses.add(415);
  }
  if (method === 'POST' && spec.scope) statuses.add(422);
  return [...statuses].sort((a, b) => a - b);
}

function parameters(spec: OperationSpec): JsonObject[] {
  const { method, path } = splitKey(spec.key);
  const result: JsonObject[] = [];
  for (const match of path.matchAll(/\{(\w+)\}/g)) {
    const name = match[1]!;
    const own = spec.pathParams?.[name];
    result.push({
      name,
      in: 'path',
      required: true,
      description: own
        ? 'Any other value answers 404.'
        : "An id of this tenant; any other value (another tenant's id, not a UUID) answers 404.",
      schema: own ? inputSchema(own) : { type: 'string', format: 'uuid' },
    });
  }
  if (spec.query) {
    const schema = inputSchema(spec.query);
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, JsonObject>)) {
      const parameter: JsonObject = { name, in: 'query', required: required.has(name), schema: property };
      if (name === 'page_size') parameter.description = 'Items per page.';
      if (name === 'page_token') {
        parameter.description = 'The `next_page_token` of the previous page, with the same filters.';
        parameter.examples = { nextPage: { summary: 'The second page', value: PAGE_TOKEN_EXAMPLE } };
      }
      result.push(parameter);
    }
  }
  if (spec.scope) result.push(ref('parameters', 'Tenant'), ref('parameters', 'Project'));
  result.push(ref('parameters', 'CorrelationId'));
  if (method === 'POST' && spec.scope) result.push(ref('parameters', 'IdempotencyKey'));
  if (spec.ifMatch) result.push(ref('parameters', 'IfMatch'));
  for (const header of spec.headers ?? []) result.push(ref('parameters', header));
  if (spec.operator) {
    const required = spec.operatorRequires;
    result.push(
      ref('parameters', required ? 'OperatorReasonRequired' : 'OperatorReason'),
      ref('parameters', required === 'reasonAndTicket' ? 'OperatorTicketRequired' : 'OperatorTicket'),
    );
  }
  return result;
}

const LIST_EXAMPLES: Record<string, Record<string, unknown>> = {
  SourcePage: sourceExample,
  RunPage: runExample,
  JobPage: jobExample,
  DeadLetterPage: deadLetterExample,
};
const CREATED_EXAMPLES: Record<string, Record<string, unknown>> = {
  createSource: sourceExample,
  createPackRun: packRunExample,
  submitRun: runExample,
  submitJob: jobExample,
};

function successResponse(spec: OperationSpec): JsonObject {
  const { method } = splitKey(spec.key);
  const name = nameOf(spec.success.schema);
  const headers: JsonObject = {};
  for (const header of spec.success.headers ?? []) headers[header] = ref('headers', header);
  if (method === 'POST' && spec.scope) headers['Idempotent-Replayed'] = ref('headers', 'IdempotentReplayed');
  const media: JsonObject = { schema: { $ref: SCHEMA_REF(name) } };
  const mediaType = spec.success.mediaType ?? 'application/json';
  const listItem = LIST_EXAMPLES[name];
  if (listItem) media.examples = { nextPage: pageExample(listItem), lastPage: lastPageExample };
  const created = CREATED_EXAMPLES[spec.operationId];
  if (created) media.examples = createdExamples(created);
  return {
    description: spec.success.description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: { [mediaType]: media },
  };
}

function operationObject(spec: OperationSpec): JsonObject {
  const operation: JsonObject = {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: spec.scope ? [{ bearerAuth: [spec.scope] }] : [],
    parameters: parameters(spec),
  };
  if (spec.body) {
    const name = nameOf(spec.body);
    const required = ((inputSchema(spec.body).required as string[] | undefined) ?? []).length > 0;
    operation['x-max-body-bytes'] = bodyLimit(spec);
    operation.requestBody = {
      required,
      description: `JSON, at most ${bodyLimit(spec)} bytes.${required ? '' : ' May be omitted.'}`,
      content: { 'application/json': { schema: { $ref: SCHEMA_REF(name) } } },
    };
  }
  const responses: JsonObject = { [String(spec.success.status)]: successResponse(spec) };
  if (spec.alternateSuccess) {
    const replayed =
      splitKey(spec.key).method === 'POST' && spec.scope
        ? { headers: { 'Idempotent-Replayed': ref('headers', 'IdempotentReplayed') } }
        : {};
    responses[String(spec.alternateSuccess.status)] = {
      description: spec.alternateSuccess.description,
      ...replayed,
      content: { 'application/json': { schema: { $ref: SCHEMA_REF(nameOf(spec.alternateSuccess.schema)) } } },
    };
  }
  for (const status of errorStatuses(spec)) {
    responses[String(status)] = ref('responses', ERROR_RESPONSES[status]!.name);
  }
  operation.responses = responses;
  return operation;
}

function stringHeader(description: string, schema: JsonObject, extra: JsonObject = {}): JsonObject {
  return { description, schema, ...extra };
}

function components(): JsonObject {
  const requestSchemas = componentSchemas(REQUEST_SCHEMAS, 'input');
  const responseSchemas = componentSchemas(
    [...RESPONSE_SCHEMAS, ['ErrorEnvelope', ErrorEnvelope] as const],
    'output',
  );
  for (const name of Object.keys(requestSchemas)) {
    if (name in responseSchemas) throw new Error(`openapi: schema name ${name} is used twice`);
  }
  const header = (name: string, required: boolean, description: string, schema: JsonObject, extra = {}) => ({
    name,
    in: 'header',
    required,
    description,
    schema,
    ...extra,
  });
  return {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'A JWT from the configured issuer: `sub`, `exp`, `scope` (space-separated: orch:read, ' +
          'orch:operate, orch:quota, orch:backfill) and `tenants` (a list, or "*"). Each operation names ' +
          'the scope it needs.',
      },
    },
    parameters: {
      Tenant: header(
        'X-Stella-Tenant',
        true,
        'The tenant acted for; the token must grant it. Missing: 403 `TENANT_REQUIRED`.',
        { type: 'string', pattern: TENANT_ID_PATTERN.source },
        { example: EXAMPLE_TENANT },
      ),
      Project: header(
        'X-Stella-Project',
        false,
        'The project acted for, within the tenant.',
        inputSchema(projectId),
      ),
      CorrelationId: header(
        'X-Correlation-Id',
        false,
        'Carried on events and logs (first 128 characters); defaults to the request id.',
        { type: 'string' },
      ),
      IdempotencyKey: header(
        'Idempotency-Key',
        false,
        'Scoped to tenant and route: the same key with the same body replays the first response ' +
          '(`Idempotent-Replayed: true`); with a different body it is a 422 `IDEMPOTENCY_KEY_REUSED`; ' +
          'concurrent duplicates have one effect.',
        { type: 'string', pattern: '^[\\x20-\\x7e]{1,255}$' },
        { example: IDEMPOTENCY_KEY_EXAMPLE },
      ),
      IfMatch: header(
        'If-Match',
        false,
        'The ETag of the version the change is based on; 412 `PRECONDITION_FAILED` when it is stale.',
        { type: 'string', pattern: '^(?:W/)?"\\d{1,9}"$' },
        { example: '"3"' },
      ),
      OperatorReason: header(
        'X-Stella-Operator-Reason',
        false,
        'Why an operator makes this change; recorded in the audit log.',
        { type: 'string', minLength: 1, maxLength: 256 },
      ),
      LastEventId: header(
        'Last-Event-ID',
        false,
        'The `id` of the last event received: the stream resumes after it (wins over `since`).',
        inputSchema(StreamPositionText),
      ),
      OperatorTicket: header(
        'X-Stella-Operator-Ticket',
        false,
        'The ticket an operator change belongs to; recorded in the audit log.',
        { type: 'string', minLength: 1, maxLength: 128 },
      ),
      OperatorReasonRequired: header(
        'X-Stella-Operator-Reason',
        true,
        'Why an operator makes this change (required here; 400 `VALIDATION_FAILED` without it); recorded in the audit log.',
        { type: 'string', minLength: 1, maxLength: 256 },
      ),
      OperatorTicketRequired: header(
        'X-Stella-Operator-Ticket',
        true,
        'The ticket an operator change belongs to (required here; 400 `VALIDATION_FAILED` without it); recorded in the audit log.',
        { type: 'string', minLength: 1, maxLength: 128 },
      ),
    },
    headers: {
      Location: stringHeader('The URL of the created resource.', { type: 'string' }),
      ETag: stringHeader('The version of the resource, for If-Match.', {
        type: 'string',
        pattern: '^"\\d+"$',
      }),
      IdempotentReplayed: stringHeader(
        'Present (`true`) when this response replays the first response to the same Idempotency-Key.',
        { type: 'string', enum: ['true'] },
        { example: 'true' },
      ),
      RetryAfter: stringHeader('Seconds to wait before retrying.', { type: 'string', pattern: '^\\d+$' }),
      RateLimitLimit: stringHeader('Requests allowed in the current window.', { type: 'string' }),
      RateLimitRemaining: stringHeader('Requests left in the current window.', { type: 'string' }),
      RateLimitReset: stringHeader('Seconds until the window resets.', { type: 'string' }),
    },
    responses: Object.fromEntries(
      Object.keys(ERROR_RESPONSES).map((status) => [
        ERROR_RESPONSES[Number(status)]!.name,
        errorResponse(Number(status)),
      ]),
    ),
    schemas: { ...requestSchemas, ...responseSchemas },
  };
}

const TAGS = [
  { name: 'sources', description: 'Upstream systems that jobs fetch from.' },
  { name: 'runs', description: 'DAGs of jobs, planned asynchronously.' },
  { name: 'jobs', description: 'Single jobs: submit, read, history, cancel, retry, prioritize.' },
  { name: 'worker', description: 'The worker bridge: lease, heartbeat, progress, complete.' },
  { name: 'dead letters', description: 'Jobs that failed for good: inspect, replay, discard.' },
  { name: 'queues', description: 'Infrastructure queues: redrive the plan and fanout dead-letter queues.' },
  { name: 'pack runs', description: 'Versioned analysis packs run in a project, with their logs.' },
  { name: 'streams', description: "The tenant's events as Server-Sent Events, and one event by position." },
  { name: 'probes', description: 'Liveness and readiness.' },
  { name: 'meta', description: 'This document.' },
];

function build(): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const spec of OPERATIONS) {
    const { method, path } = splitKey(spec.key);
    paths[path] ??= {};
    const item = paths[path]!;
    const verb = method.toLowerCase();
    if (item[verb]) throw new Error(`openapi: ${spec.key} is registered twice`);
    item[verb] = operationObject(spec);
  }
  return {
    openapi: OPENAPI_VERSION,
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'JobEngine API',
      version: API_VERSION,
      summary: 'Multi-tenant control plane for ingestion and analysis jobs.',
      description:
        'Conventions (ADR 0005): JSON bodies (camelCase); errors are always ' +
        '`{"error":{"code","message","trace_id","details"?}}`; lists take `page_size` (default 50, ' +
        'max 500) and an opaque, signed `page_token` and answer `{items, next_page_token}`; every POST ' +
        'accepts an `Idempotency-Key`; custom methods are `POST /resource/{id}:verb`; unknown fields and ' +
        'query parameters are 400s.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags: TAGS,
    paths,
    components: components(),
  };
}

/** Recursively sorts object keys so the serialized document is byte-stable; arrays keep their order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return Object.freeze(value.map(canonical));
  if (value !== null && typeof value === 'object') {
    const sorted: JsonObject = {};
    for (const key of Object.keys(value).sort()) sorted[key] = canonical((value as JsonObject)[key]);
    return Object.freeze(sorted);
  }
  return value;
}

let document: JsonObject | undefined;

/** The document, built on first use and shared afterwards (once per container); deeply frozen. */
export function openApiDocument(): JsonObject {
  document ??= canonical(build()) as JsonObject;
  return document;
}
