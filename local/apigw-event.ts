import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionName, ROUTES, type RouteDefinition } from '../functions/routes.ts';

/**
 * Turns local HTTP requests into the API Gateway REST proxy events (v1) the Lambda handlers receive on
 * AWS, so the same handler functions serve both. Route matching follows API Gateway: literal segments win
 * over `{param}` segments, and a `{param}` matches one whole segment.
 */
interface CompiledRoute extends RouteDefinition {
  pattern: RegExp;
  params: string[];
  literalSegments: number;
}

const compiled: CompiledRoute[] = ROUTES.map((route) => {
  const params: string[] = [];
  const segments = route.path.split('/').slice(1);
  const source = segments
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (param) {
        params.push(param);
        return '/([^/]+)';
      }
      return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
    })
    .join('');
  return {
    ...route,
    pattern: new RegExp(`^${source}$`),
    params,
    literalSegments: segments.length - params.length,
  };
});

export interface RouteMatch {
  route: CompiledRoute;
  pathParameters: Record<string, string> | null;
}

/** The route for a method and path; `allowed` lists methods of a path that exists under other methods. */
export function matchRoute(method: string, path: string): { match: RouteMatch | null; allowed: string[] } {
  const candidates = compiled
    .map((route) => ({ route, m: route.pattern.exec(path) }))
    .filter((c): c is { route: CompiledRoute; m: RegExpExecArray } => c.m !== null)
    .sort((a, b) => b.route.literalSegments - a.route.literalSegments);
  // The most specific resource answers, as API Gateway's resource tree does: PATCH /quotas/summary is a
  // method the `summary` resource lacks (405), not a PATCH of /quotas/{id}.
  const resource = candidates[0]?.route.path;
  const onResource = candidates.filter((c) => c.route.path === resource);
  const best = onResource.find((c) => c.route.method === method);
  if (!best) return { match: null, allowed: [...new Set(onResource.map((c) => c.route.method))] };
  const pathParameters: Record<string, string> = {};
  for (const [i, name] of best.route.params.entries()) {
    try {
      pathParameters[name] = decodeURIComponent(best.m[i + 1] ?? '');
    } catch {
      // Malformed percent-encoding names no resource, as API Gateway answers.
      return { match: null, allowed: [] };
    }
  }
  return {
    match: { route: best.route, pathParameters: best.route.params.length ? pathParameters : null },
    allowed: [],
  };
}

export function buildRestEvent(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  match: RouteMatch,
): APIGatewayProxyEvent {
  // Null-prototype maps: a header or parameter named `constructor` or `__proto__` is just a name.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!;
    const value = request.rawHeaders[i + 1]!;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = Object.create(null);
  const multiQuery: Record<string, string[]> = Object.create(null);
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const requestId = randomUUID();
  const method = request.method ?? 'GET';
  return {
    resource: match.route.path,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: method,
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: match.route.path,
      identity: {
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? null,
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        user: null,
        userArn: null,
      },
    },
  };
}

/** A Lambda context for one local invocation. */
export function lambdaContext(functionName: string, timeoutMs = 29_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export type RestHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Imports a function's module by its name in FUNCTIONS, exactly as Lambda would load its entry. */
export async function loadHandler<T>(name: FunctionName | string, exportName = 'handler'): Promise<T> {
  const entry = (FUNCTIONS as Record<string, { entry: string }>)[name]?.entry ?? name;
  const module = (await import(new URL(`../${entry}`, import.meta.url).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== 'function') throw new Error(`${entry} does not export a function '${exportName}'`);
  return handler as T;
}
