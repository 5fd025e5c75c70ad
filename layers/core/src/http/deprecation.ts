import type { HttpResult, Operation } from './api.ts';

/** When and how a legacy operation goes away. */
export interface DeprecationPolicy {
  /** when the operation was deprecated (may be in the future: an announced deprecation) */
  since: Date;
  /** when it stops being served; strictly after `since` */
  sunset: Date;
  /** the operation replacing it: a URI or a reference relative to the API (`/api/v2/jobs`) */
  successor: string;
  /** a human-readable page about the deprecation, linked with rel="deprecation" */
  documentation?: string;
}

/**
 * The headers announcing a deprecation: `Deprecation` (RFC 9745, a structured-field date `@<epoch seconds>`),
 * `Sunset` (RFC 8594, an HTTP-date) and `Link` to the successor (rel="successor-version") and, when given,
 * to the documentation (rel="deprecation"). Throws on an inconsistent policy, so a bad declaration fails
 * when the function loads rather than on a request.
 */
export function deprecationHeaders(policy: DeprecationPolicy): Record<string, string> {
  const since = validDate(policy.since, 'since');
  const sunset = validDate(policy.sunset, 'sunset');
  if (sunset <= since) {
    throw new RangeError(
      `deprecation: sunset (${policy.sunset.toISOString()}) must be after since (${policy.since.toISOString()})`,
    );
  }
  const links = [`<${uriReference(policy.successor, 'successor')}>; rel="successor-version"`];
  if (policy.documentation !== undefined) {
    links.push(`<${uriReference(policy.documentation, 'documentation')}>; rel="deprecation"`);
  }
  return {
    Deprecation: `@${Math.floor(since / 1000)}`,
    Sunset: new Date(sunset).toUTCString(),
    Link: links.join(', '),
  };
}

/** `result` with the deprecation headers of `policy` added (for a handler that deprecates conditionally). */
export function withDeprecation(result: HttpResult, policy: DeprecationPolicy): HttpResult {
  return addHeaders(result, deprecationHeaders(policy));
}

/**
 * Declares an operation deprecated: the returned operation is the same (scope, schemas, limits) but every
 * response it produces carries the deprecation headers. Error responses do not: errors leave the operation
 * as exceptions and become envelopes at the edge (http/envelope.ts).
 *
 * ```ts
 * 'GET /api/v1/legacy': deprecated(listLegacy, {
 *   since: new Date('2026-01-01T00:00:00Z'),
 *   sunset: new Date('2026-07-01T00:00:00Z'),
 *   successor: '/api/v2/things',
 * }),
 * ```
 */
export function deprecated<Ctx>(operation: Operation<Ctx>, policy: DeprecationPolicy): Operation<Ctx> {
  const headers = deprecationHeaders(policy);
  return {
    ...operation,
    handle: async (input) => addHeaders(await operation.handle(input), headers),
  };
}

/** An existing `Link` header keeps its links, first. */
function addHeaders(result: HttpResult, headers: Record<string, string>): HttpResult {
  const merged = { ...result.headers };
  const linkName = Object.keys(merged).find((name) => name.toLowerCase() === 'link');
  const existingLinks = linkName === undefined ? undefined : merged[linkName];
  if (linkName !== undefined) delete merged[linkName];
  return {
    ...result,
    headers: {
      ...merged,
      ...headers,
      ...(existingLinks ? { Link: `${existingLinks}, ${headers.Link}` } : {}),
    },
  };
}

function validDate(date: Date, name: string): number {
  const time = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(time)) throw new TypeError(`deprecation: ${name} must be a valid Date`);
  return time;
}

/** A URI reference safe inside `<...>` of a Link header: parseable, printable ASCII, no `<`, `>` or `"`. */
function uriReference(value: string, name: string): string {
  const headerSafe = /^[\x21-\x7e]+$/.test(value) && !/[<>"]/.test(value);
  if (!headerSafe || !URL.canParse(value, 'https://api.invalid/')) {
    throw new TypeError(`deprecation: ${name} must be a URI reference, got ${JSON.stringify(value)}`);
  }
  return value;
}
