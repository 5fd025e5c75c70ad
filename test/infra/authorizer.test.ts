import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/routes.ts';
import { JwtAuthorizer } from '../../infra/lib/authorizer.ts';
import { PROJECT_ROOT } from '../../infra/lib/job-engine-stack.ts';
import { GATEWAY_ERRORS } from '../../infra/lib/rest-api.ts';
import { createRequestAuthorizer } from '../../layers/core/src/auth/authorizer.ts';
import { ERROR_CODES } from '../../layers/core/src/domain/errors.ts';
import { logicalIdOf, type SynthesizedJobEngine, synthJobEngine } from './synth.ts';

let synth: SynthesizedJobEngine;
let authorizerId: string;
let functionId: string;

beforeAll(() => {
  synth = synthJobEngine('dev', { bundle: false });
  authorizerId = logicalIdOf(synth.stack.authorizer.authorizer, synth.stack);
  functionId = logicalIdOf(synth.stack.authorizer.function, synth.stack);
});
afterAll(() => synth?.dispose());

const resources = (type: string) => synth.template.findResources(type);

/** the full resource path of an API Gateway resource reference, by walking its parents */
function pathOf(ref: { Ref?: string }): string {
  const resource = ref.Ref === undefined ? undefined : resources('AWS::ApiGateway::Resource')[ref.Ref];
  return resource ? `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}` : '';
}

describe('REST API authorizer', () => {
  it('is one REQUEST authorizer over the authorizer function, cached 60 s keyed on token and tenant', () => {
    expect(Object.keys(resources('AWS::ApiGateway::Authorizer'))).toEqual([authorizerId]);
    synth.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization,method.request.header.X-Stella-Tenant',
      AuthorizerResultTtlInSeconds: 60,
    });
    const uri = JSON.stringify(
      resources('AWS::ApiGateway::Authorizer')[authorizerId]?.Properties.AuthorizerUri,
    );
    expect(uri).toContain(`"${functionId}","Arn"`);
  });

  it('guards every authenticated route and none of the open ones', () => {
    const methods = Object.values(resources('AWS::ApiGateway::Method')).map(({ Properties: p }) => ({
      route: `${p.HttpMethod} ${pathOf(p.ResourceId)}`,
      authorizationType: p.AuthorizationType,
      authorizerId: p.AuthorizerId,
    }));
    expect(methods).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const method = methods.find((m) => m.route === `${route.method} ${route.path}`);
      expect(method, `${route.method} ${route.path}`).toEqual(
        route.authenticated
          ? {
              route: `${route.method} ${route.path}`,
              authorizationType: 'CUSTOM',
              authorizerId: { Ref: authorizerId },
            }
          : { route: `${route.method} ${route.path}`, authorizationType: 'NONE', authorizerId: undefined },
      );
    }
    const open = ROUTES.filter((route) => !route.authenticated).map(
      (route) => `${route.method} ${route.path}`,
    );
    expect(open.sort()).toEqual(['GET /.well-known/openapi', 'GET /healthz', 'GET /readyz']);
  });

  it('lets API Gateway, for this API only, invoke the authorizer function', () => {
    const permissions = Object.values(resources('AWS::Lambda::Permission')).filter(({ Properties: p }) =>
      JSON.stringify(p.FunctionName).includes(`"${functionId}"`),
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
    });
    const sourceArn = JSON.stringify(permissions[0]?.Properties.SourceArn);
    expect(sourceArn).toContain(logicalIdOf(synth.stack.restApi.api, synth.stack));
    expect(sourceArn).toContain('/authorizers/');
  });
});

describe('JwtAuthorizer without caching', () => {
  it('has no identity sources, so a request without a tenant reaches it rather than a gateway 401', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Uncached');
    const { authorizer } = new JwtAuthorizer(stack, 'Authorizer', {
      projectRoot: PROJECT_ROOT,
      resultsCacheTtl: Duration.seconds(0),
    });
    new RestApi(stack, 'Api').root.addMethod('GET', new MockIntegration(), { authorizer });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: '',
      AuthorizerResultTtlInSeconds: 0,
    });
  });
});

describe('authorizer function', () => {
  const properties = () => resources('AWS::Lambda::Function')[functionId]!.Properties;

  it('runs the core layer on nodejs22.x arm64, outside the VPC', () => {
    expect(properties()).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Layers: [{ Ref: logicalIdOf(synth.stack.coreLayer, synth.stack) }],
      TracingConfig: { Mode: 'Active' },
    });
    expect(properties()).not.toHaveProperty('VpcConfig');
  });

  it("gets the token issuer's variables, the same as the functions', and nothing of the database", () => {
    const variables = properties().Environment.Variables as Record<string, unknown>;
    expect(variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'jobengine',
      AUTH_ISSUER: 'https://auth.dev.jobengine.invalid/',
      AUTH_AUDIENCE: 'jobengine',
      AUTH_JWKS_URL: 'https://auth.dev.jobengine.invalid/.well-known/jwks.json',
    });
    const restFunction = logicalIdOf(synth.stack.restApi.functions.jobs!, synth.stack);
    const restVariables = resources('AWS::Lambda::Function')[restFunction]!.Properties.Environment.Variables;
    for (const name of ['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_JWKS_URL']) {
      expect(variables[name], name).toEqual(restVariables[name]);
    }
  });

  it('may not read secrets or connect to the database', () => {
    const roleId = logicalIdOf(synth.stack.authorizer.function.role!, synth.stack);
    const policies = Object.values(resources('AWS::IAM::Policy')).filter(({ Properties: p }) =>
      JSON.stringify(p.Roles).includes(`"${roleId}"`),
    );
    const actions = policies.flatMap(({ Properties: p }) =>
      (p.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) => s.Action),
    );
    expect(actions.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });
});

describe('gateway responses', () => {
  const responses = () =>
    Object.values(resources('AWS::ApiGateway::GatewayResponse')).map(({ Properties: p }) => p);
  const responseOf = (type: string) => responses().find((p) => p.ResponseType === type);

  /** renders a template as API Gateway would, with the given $context values */
  const render = (template: string, context: Record<string, string>) =>
    JSON.parse(template.replace(/\$context\.[A-Za-z.]+/g, (name) => context[name] ?? ''));

  it('answers with the JSON error envelope for every type it handles itself', () => {
    expect(
      responses()
        .map((p) => p.ResponseType)
        .sort(),
    ).toEqual(GATEWAY_ERRORS.map((e) => e.type.responseType).sort());
    for (const type of ['UNAUTHORIZED', 'ACCESS_DENIED', 'DEFAULT_4XX', 'DEFAULT_5XX']) {
      expect(responseOf(type), type).toBeDefined();
    }
    for (const response of responses()) {
      expect(response.ResponseParameters, response.ResponseType).toMatchObject({
        'gatewayresponse.header.Content-Type': "'application/json'",
      });
      const envelope = render(response.ResponseTemplates['application/json'], {
        '$context.requestId': 'req-1',
        '$context.error.messageString': '"Gateway said \\"no\\""',
        '$context.authorizer.code': 'FORBIDDEN',
        '$context.authorizer.message': 'denied',
      });
      expect(Object.keys(envelope), response.ResponseType).toEqual(['error']);
      expect(envelope.error, response.ResponseType).toEqual({
        code: expect.stringMatching(/^[A-Z][A-Z_]+$/),
        message: expect.any(String),
        trace_id: 'req-1',
      });
      expect([...Object.keys(ERROR_CODES), 'BAD_REQUEST'], response.ResponseType).toContain(
        envelope.error.code,
      );
    }
  });

  it('answers 401 UNAUTHENTICATED when the authorizer refuses the token or a header is missing', () => {
    const response = responseOf('UNAUTHORIZED')!;
    expect(response.StatusCode).toBeUndefined();
    expect(render(response.ResponseTemplates['application/json'], { '$context.requestId': 'r' })).toEqual({
      error: {
        code: 'UNAUTHENTICATED',
        message:
          'a valid bearer token (Authorization: Bearer <token>) and an X-Stella-Tenant header are required',
        trace_id: 'r',
      },
    });
    expect(ERROR_CODES.UNAUTHENTICATED).toBe(401);
  });

  it("answers 403 with the code and message of the authorizer's Deny", async () => {
    const template = responseOf('ACCESS_DENIED')!.ResponseTemplates['application/json'];
    const authorize = createRequestAuthorizer(async () => ({
      subject: 'alice',
      scopes: new Set(['orch:read']),
      tenants: ['acme'],
    }));
    const cases = [
      ['globex', 'FORBIDDEN', "the token does not grant tenant 'globex'"],
      [undefined, 'TENANT_REQUIRED', 'X-Stella-Tenant header is required'],
      ['Bad"Tenant\\', 'FORBIDDEN', 'X-Stella-Tenant is malformed'],
    ] as const;
    for (const [tenant, code, message] of cases) {
      const headers: Record<string, string> = { Authorization: 'Bearer a.b.c' };
      if (tenant !== undefined) headers['X-Stella-Tenant'] = tenant;
      const deny = await authorize({
        methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:api/live/GET/api/v1/jobs',
        headers,
      } as unknown as APIGatewayRequestAuthorizerEvent);
      expect(deny.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
      const context = {
        '$context.requestId': 'r',
        '$context.authorizer.code': String(deny.context?.code),
        '$context.authorizer.message': String(deny.context?.message),
      };
      expect(render(template, context)).toEqual({ error: { code, message, trace_id: 'r' } });
      expect(ERROR_CODES[code]).toBe(403);
    }
  });

  it('answers an unknown route 404 NOT_FOUND, as the local gateway does, and throttling 429 with Retry-After', () => {
    const unknown = responseOf('MISSING_AUTHENTICATION_TOKEN')!;
    expect(unknown.StatusCode).toBe('404');
    expect(render(unknown.ResponseTemplates['application/json'], {}).error.code).toBe('NOT_FOUND');
    const throttled = responseOf('THROTTLED')!;
    expect(throttled.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'1'");
    expect(
      render(throttled.ResponseTemplates['application/json'], { '$context.error.messageString': '"x"' }).error
        .code,
    ).toBe('RATE_LIMITED');
  });

  it('answers 5xx of its own (timeouts, authorizer failures) as INTERNAL', () => {
    const response = responseOf('DEFAULT_5XX')!;
    expect(
      render(response.ResponseTemplates['application/json'], {
        '$context.error.messageString': '"Endpoint request timed out"',
      }),
    ).toMatchObject({ error: { code: 'INTERNAL', message: 'Endpoint request timed out' } });
  });
});
