import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Reading the served OpenAPI document: its operations, their parameters and schemas, and a JSON Schema
 * (2020-12) validator for what they document. Shared by the contract test and the bad-input campaign, so
 * both hold the API to the document a client reads rather than to the code that produced it.
 */
export type Json = { [key: string]: unknown };

export interface DocumentedOperation {
  /** `POST /api/v1/runs/{id}:cancel` */
  key: string;
  method: string;
  /** The OpenAPI path template. */
  path: string;
  operationId: string;
  /** The scope the bearer token needs; undefined for unauthenticated operations. */
  scope: string | undefined;
  pathParams: string[];
  /** Query parameters with their (resolved) schemas. */
  query: { name: string; required: boolean; schema: Json }[];
  /** Header parameter names (resolved from components.parameters). */
  headers: { name: string; required: boolean; schema: Json }[];
  /** The largest body the operation accepts (413 beyond). */
  maxBodyBytes: number;
  /** The request body schema (resolved one level: a component), if the operation takes a body. */
  body: { required: boolean; schema: Json } | undefined;
  /** Status → response (component refs resolved). */
  responses: Record<string, Json>;
  successStatus: number;
  pattern: RegExp;
  /** literal characters in the template: more literal wins when several templates match */
  specificity: number;
}

const SCHEMA_ID = 'urn:jobengine:openapi';

/** Follows `#/components/...` references within the document. */
export function resolveRef<T = Json>(document: Json, value: unknown): T {
  let current = value as Json;
  for (let hops = 0; hops < 10 && typeof current?.$ref === 'string'; hops++) {
    const pointer = current.$ref as string;
    if (!pointer.startsWith('#/')) throw new Error(`external $ref ${pointer}`);
    let target: unknown = document;
    for (const part of pointer.slice(2).split('/')) {
      target = (target as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    if (target === undefined) throw new Error(`unresolvable $ref ${pointer}`);
    current = target as Json;
  }
  return current as T;
}

export function documentedOperations(document: Json): DocumentedOperation[] {
  const operations: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, Json>)) {
    for (const [verb, raw] of Object.entries(item)) {
      const op = raw as Json;
      const method = verb.toUpperCase();
      const parameters = ((op.parameters as unknown[]) ?? []).map((p) => resolveRef(document, p));
      const requestBody = op.requestBody ? resolveRef(document, op.requestBody) : undefined;
      const responses: Record<string, Json> = {};
      for (const [status, response] of Object.entries(op.responses as Json)) {
        responses[status] = resolveRef(document, response);
      }
      const success = Object.keys(responses)
        .map(Number)
        .filter((status) => status < 300);
      const security = op.security as Record<string, string[]>[] | undefined;
      const literal = path.replace(/\{\w+\}/g, '');
      operations.push({
        key: `${method} ${path}`,
        method,
        path,
        operationId: op.operationId as string,
        scope: security?.[0]?.bearerAuth?.[0],
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name as string),
        query: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name as string, required: p.required === true, schema: p.schema as Json })),
        headers: parameters
          .filter((p) => p.in === 'header')
          .map((p) => ({ name: p.name as string, required: p.required === true, schema: p.schema as Json })),
        maxBodyBytes: typeof op['x-max-body-bytes'] === 'number' ? op['x-max-body-bytes'] : 1_048_576,
        body: requestBody
          ? {
              required: requestBody.required === true,
              schema: resolveRef(
                document,
                ((requestBody.content as Json)['application/json'] as Json).schema as Json,
              ),
            }
          : undefined,
        responses,
        successStatus: success[0] ?? 200,
        pattern: new RegExp(
          `^${path
            .split(/(\{\w+\})/)
            .map((part) =>
              /^\{\w+\}$/.test(part) ? '([^/]+?)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
            )
            .join('')}$`,
        ),
        specificity: literal.length,
      });
    }
  }
  return operations;
}

/** The documented operation a concrete request is for (the most literal template wins). */
export function operationFor(
  operations: DocumentedOperation[],
  method: string,
  path: string,
): DocumentedOperation | undefined {
  return operations
    .filter((op) => op.method === method && op.pattern.test(path))
    .sort((a, b) => b.specificity - a.specificity)[0];
}

/** Rewrites `#/components/schemas/X` into references to one schema resource holding them all. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value !== null && typeof value === 'object') {
    const result: Json = {};
    for (const [key, inner] of Object.entries(value)) {
      result[key] =
        key === '$ref' && typeof inner === 'string' && inner.startsWith('#/components/schemas/')
          ? `${SCHEMA_ID}#/$defs/${inner.slice('#/components/schemas/'.length)}`
          : rewriteRefs(inner);
    }
    return result;
  }
  return value;
}

export interface SchemaValidator {
  /** Validates `value` against a schema from the document (which may `$ref` components); errors or []. */
  errors(schema: Json, value: unknown): string[];
  /** Validates a response body against the documented response of `op` for `status`. */
  responseErrors(op: DocumentedOperation, status: number, body: unknown): string[];
}

export function schemaValidator(document: Json): SchemaValidator {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
  addFormats(ajv);
  const components = (document.components as Json).schemas as Json;
  ajv.addSchema({ $id: SCHEMA_ID, $defs: rewriteRefs(components) as Json });
  const compiled = new Map<string, ValidateFunction>();
  const compile = (schema: Json) => {
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(rewriteRefs(schema) as Json);
      compiled.set(key, validate);
    }
    return validate;
  };
  const describe = (errors: ErrorObject[] | null | undefined) =>
    (errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
    );
  const errors = (schema: Json, value: unknown) => {
    const validate = compile(schema);
    return validate(value) ? [] : describe(validate.errors);
  };
  return {
    errors,
    responseErrors(op, status, body) {
      const response = op.responses[String(status)];
      if (!response) return [`status ${status} is not documented for ${op.key}`];
      const media = (response.content as Json | undefined)?.['application/json'] as Json | undefined;
      if (!media) return body === undefined ? [] : [`${op.key} ${status} documents no JSON body`];
      return errors(media.schema as Json, body);
    },
  };
}
