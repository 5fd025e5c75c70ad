import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { AppError, type ErrorDetail, ValidationError } from '../domain/errors.ts';

/** Header lookup is case-insensitive: API Gateway passes names as the client sent them. */
export function lowerCaseHeaders(event: APIGatewayProxyEvent): Record<string, string> {
  // Null prototype: looking up a header the client did not send never finds an Object.prototype member.
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  return headers;
}

/**
 * The request body as JSON: bounded in size (413), JSON content type required (415), syntax errors 400.
 * An absent body is `undefined`.
 */
export function parseJsonBody(
  event: APIGatewayProxyEvent,
  headers: Record<string, string>,
  maxBytes: number,
): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
  }
  const contentType = headers['content-type'] ?? '';
  if (!/^application\/([a-z0-9.+-]+\+)?json\b/i.test(contentType)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError('INVALID_JSON', 'request body is not valid JSON');
  }
  const problem = storableJsonProblem(body);
  if (problem) throw new ValidationError('request body holds a value that cannot be stored', [problem]);
  return body;
}

/** Deeper JSON than this is refused: payloads are data, and deep nesting only costs stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * The first value in a parsed JSON document that PostgreSQL or canonical JSON cannot take - a NUL
 * character or unpaired surrogate in a string or key, a number beyond double range (`1e400` parses to
 * Infinity), nesting beyond MAX_JSON_DEPTH - so it is a 400 here instead of a 500 later. Iterative, so
 * hostile nesting cannot exhaust the stack.
 */
export function storableJsonProblem(value: unknown): ErrorDetail | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  const badString = (text: string) => text.includes('\u0000') || !text.isWellFormed();
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.depth > MAX_JSON_DEPTH)
      return { path: item.path, message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    if (typeof item.value === 'string') {
      if (badString(item.value))
        return { path: item.path, message: 'contains a NUL character or unpaired surrogate' };
    } else if (typeof item.value === 'number') {
      if (!Number.isFinite(item.value)) return { path: item.path, message: 'number out of range' };
    } else if (item.value !== null && typeof item.value === 'object') {
      for (const [key, child] of Object.entries(item.value)) {
        const path = item.path ? `${item.path}.${key}` : key;
        if (badString(key)) return { path, message: 'key contains a NUL character or unpaired surrogate' };
        stack.push({ value: child, path, depth: item.depth + 1 });
      }
    }
  }
  return null;
}

/** Validates `input` with a zod schema; failures list every offending field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details: ErrorDetail[] = result.error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  throw new ValidationError(`invalid ${where}`, details);
}

/** Query parameters, rejecting repeats of a parameter rather than silently picking one. */
export function queryParameters(event: APIGatewayProxyEvent): Record<string, string> {
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [name, values] of Object.entries(multi)) {
    if (values && values.length > 1) throw new ValidationError(`query parameter '${name}' is repeated`);
  }
  const single: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (typeof value === 'string') single[name] = value;
  }
  return single;
}
