import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, ROUTES } from '../../functions/routes.ts';
import { logicalIdOf, type SynthesizedJobEngine, synthJobEngine } from './synth.ts';

type Ref = { Ref: string } | { 'Fn::GetAtt': [string, string] };

let synth: SynthesizedJobEngine;

beforeAll(() => {
  synth = synthJobEngine('dev', { bundle: false });
});
afterAll(() => synth?.dispose());

/** the full resource path of an API Gateway resource reference, by walking its parents */
function pathOf(ref: Ref): string {
  if ('Fn::GetAtt' in ref) {
    return '';
  }
  const resource = synth.template.findResources('AWS::ApiGateway::Resource')[ref.Ref];
  if (!resource) {
    throw new Error(`no resource ${ref.Ref}`);
  }
  return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
}

function methods() {
  return Object.values(synth.template.findResources('AWS::ApiGateway::Method')).map((method) => ({
    method: method.Properties.HttpMethod as string,
    path: pathOf(method.Properties.ResourceId),
    integration: method.Properties.Integration,
    authorizationType: method.Properties.AuthorizationType as string,
  }));
}

describe('REST API', () => {
  it('has exactly one method per route, on the route path', () => {
    const actual = methods()
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    const expected = ROUTES.map(({ method, path }) => `${method} ${path}`).sort();
    expect(actual).toEqual(expected);
  });

  it('integrates each route with its function through a Lambda proxy integration', () => {
    const byRoute = new Map(methods().map((m) => [`${m.method} ${m.path}`, m]));
    for (const route of ROUTES) {
      const fn = synth.stack.restApi.functions[route.fn];
      expect(fn, route.fn).toBeDefined();
      const integration = byRoute.get(`${route.method} ${route.path}`)?.integration;
      expect(integration.Type).toBe('AWS_PROXY');
      expect(integration.IntegrationHttpMethod).toBe('POST');
      expect(JSON.stringify(integration.Uri)).toContain(`"${logicalIdOf(fn!, synth.stack)}","Arn"`);
    }
  });

  it('streams the SSE routes: response-streaming integration and function, 15 minutes', () => {
    const streams = synth.stack.restApi.functions.streams!;
    const streamingRoutes = ROUTES.filter((route) => route.fn === 'streams');
    expect(streamingRoutes.map((route) => route.path)).toContain('/api/v1/streams/events');
    const byRoute = new Map(methods().map((m) => [`${m.method} ${m.path}`, m]));
    for (const route of ROUTES) {
      const integration = byRoute.get(`${route.method} ${route.path}`)?.integration;
      if (route.fn === 'streams') {
        expect(integration).toMatchObject({ ResponseTransferMode: 'STREAM', TimeoutInMillis: 900_000 });
        expect(JSON.stringify(integration.Uri)).toContain('/response-streaming-invocations');
      } else {
        expect(integration.ResponseTransferMode ?? 'BUFFERED', `${route.method} ${route.path}`).toBe(
          'BUFFERED',
        );
      }
    }
    const fn = synth.template.findResources('AWS::Lambda::Function')[logicalIdOf(streams, synth.stack)];
    expect(fn?.Properties.Timeout).toBe(900);
    expect(fn?.Properties.Environment.Variables.DB_POOL_MAX).toBe('1');
  });

  it('creates one function per function-table entry', () => {
    expect(Object.keys(synth.stack.restApi.functions).sort()).toEqual(Object.keys(FUNCTIONS).sort());
  });

  // the authorizer on each method: authorizer.test.ts
  it('has no CORS preflight methods', () => {
    expect(methods().some(({ method }) => method === 'OPTIONS')).toBe(false);
  });

  it('logs access, traces and throttles on the stage', () => {
    synth.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'live',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          DataTraceEnabled: false,
        }),
      ],
    });
  });

  it('is regional and compresses responses from 1 KiB', () => {
    synth.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
      MinimumCompressionSize: 1024,
    });
  });
});

describe('WebSocket API', () => {
  it('routes $connect, $disconnect and $default to their functions', () => {
    const routes = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([
      '$connect',
      '$default',
      '$disconnect',
    ]);
    const integrations = synth.template.findResources('AWS::ApiGatewayV2::Integration');
    for (const [name, fn] of Object.entries(synth.stack.webSocketApi.functions)) {
      const route = routes.find((r) => r.Properties.RouteKey === `$${name}`);
      const target = route?.Properties.Target['Fn::Join'][1][1].Ref as string;
      expect(JSON.stringify(integrations[target]?.Properties.IntegrationUri), name).toContain(
        `"${logicalIdOf(fn, synth.stack)}","Arn"`,
      );
    }
  });

  it('deploys the live stage automatically, with access logs and throttling', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'live',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('lets only the $default function and the broadcaster post to connections', () => {
    const policies = synth.template.findResources('AWS::IAM::Policy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Action: 'execute-api:ManageConnections' })]),
        },
      },
    });
    const roles = Object.values(policies).flatMap((policy) => policy.Properties.Roles);
    const allowed = [
      synth.stack.webSocketApi.functions.default.role!,
      synth.stack.broadcaster.function.role!,
    ];
    expect(roles.map((role: { Ref: string }) => role.Ref).sort()).toEqual(
      allowed.map((role) => logicalIdOf(role, synth.stack)).sort(),
    );
  });
});
