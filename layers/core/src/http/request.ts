import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { AppError, type ErrorDetail, ValidationError } from '../domain/errors.ts';

/** Header lookup is case-insensitive: API Gateway passes names as the client sent them. */
export function lowerCaseHeaders(event: APIGatewayProxyEvent): Record<string, string> {
  const headers: Record<string, string> = {};
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
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError('INVALID_JSON', 'request body is not valid JSON');
  }
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
  const single: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (typeof value === 'string') single[name] = value;
  }
  return single;
}
