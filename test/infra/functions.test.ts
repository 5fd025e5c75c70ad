import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, parse, resolve } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, HANDLERS, ROUTES } from '../../functions/routes.ts';
import { CORE_PACKAGE_PATH_IN_LAYER } from '../../infra/lib/core-layer.ts';
import { DATABASE_ROLES } from '../../infra/lib/database.ts';
import type { JobEngineFunction } from '../../infra/lib/job-engine-function.ts';
import { PLAN_QUEUE_PRODUCERS, PROJECT_ROOT } from '../../infra/lib/job-engine-stack.ts';
import { assetDirOf, logicalIdOf, type SynthesizedJobEngine, synthJobEngine } from './synth.ts';

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

let synth: SynthesizedJobEngine;
/** the functions that run the core's runtime */
let functionIds: string[];
/** those plus the migration function and the authorizer: everything built from this repository's handlers */
let ownFunctions: JobEngineFunction[];

beforeAll(() => {
  synth = synthJobEngine('dev');
  functionIds = synth.stack.functions.map((fn) => logicalIdOf(fn, synth.stack));
  ownFunctions = [...synth.stack.functions, synth.stack.migrations.function, synth.stack.authorizer.function];
});
afterAll(() => synth?.dispose());

const id = (construct: { node: { defaultChild?: unknown } }) => logicalIdOf(construct, synth.stack);

function functionResources(): Record<string, CfnResource> {
  return synth.template.findResources('AWS::Lambda::Function') as Record<string, CfnResource>;
}

function functionProperties(functionId: string): Record<string, unknown> {
  const resource = functionResources()[functionId];
  if (!resource) {
    throw new Error(`no function ${functionId} in the template`);
  }
  return resource.Properties;
}

function variablesOf(functionId: string): Record<string, unknown> {
  return (functionProperties(functionId).Environment as { Variables: Record<string, unknown> }).Variables;
}

function bundleDirOf(functionId: string): string {
  return assetDirOf(synth, (functionProperties(functionId).Code as { S3Key: unknown }).S3Key);
}

/** the source files a bundle was built from, as absolute paths (from its source map) */
function bundledSources(functionId: string): string[] {
  const dir = bundleDirOf(functionId);
  const map = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
  return map.sources.map((source) => resolve(dir, source));
}

describe('functions', () => {
  it('declares the REST functions, three WebSocket routes, the tick, the planner and the broadcaster', () => {
    expect(functionIds).toHaveLength(Object.keys(FUNCTIONS).length + 3 + 1 + 1 + 1);
    expect(functionIds).toContain(id(synth.stack.planner.function));
    expect(functionIds).toContain(id(synth.stack.broadcaster.function));
    // besides the migration function, only CDK's own providers: the default security group lockdown,
    // the framework that drives the migration custom resource, and for the Console's bucket its deployment
    // (Python) and the emptying of the bucket when a dev stack is deleted
    const others = Object.entries(functionResources()).filter(
      ([functionId]) => !ownFunctions.some((fn) => id(fn) === functionId),
    );
    expect(others.map(([, resource]) => resource.Properties.Handler).sort()).toEqual([
      '__entrypoint__.handler',
      'framework.onEvent',
      'index.handler',
      'index.handler',
    ]);
  });

  it('deploys every entry point of the handler table, each exactly once', () => {
    const deployed = ownFunctions.map((fn) => ({ id: id(fn), sources: bundledSources(id(fn)) }));
    for (const [name, entry] of Object.entries(HANDLERS)) {
      const serving = deployed.filter(({ sources }) => sources.includes(join(PROJECT_ROOT, entry)));
      expect(
        serving.map((fn) => fn.id),
        name,
      ).toHaveLength(1);
    }
    // and nothing else but the migration custom resource
    const entries = new Set(Object.values(HANDLERS).map((entry) => join(PROJECT_ROOT, entry)));
    const unlisted = deployed.filter(({ sources }) => !sources.some((source) => entries.has(source)));
    expect(unlisted.map((fn) => fn.id)).toEqual([id(synth.stack.migrations.function)]);
  });

  it('points every function in the template at code that exists', () => {
    for (const [functionId, resource] of Object.entries(functionResources())) {
      // CDK's bucket deployment ships its own Python handler; the JavaScript functions are checked here
      if (!String(resource.Properties.Runtime).startsWith('nodejs')) continue;
      const module = (resource.Properties.Handler as string).split('.')[0];
      const dir = assetDirOf(synth, (resource.Properties.Code as { S3Key: unknown }).S3Key);
      const files = readdirSync(dir).filter((name) => /\.[cm]?js$/.test(name));
      expect(
        files.map((name) => parse(name).name),
        functionId,
      ).toContain(module);
    }
    // and each of ours exports the handler its configuration names
    for (const fn of ownFunctions) {
      const bundle = readFileSync(join(bundleDirOf(id(fn)), 'index.mjs'), 'utf8');
      expect(bundle, fn.node.path).toMatch(/\nexport \{[^}]*\bhandler\b[^}]*\};/);
    }
  });

  it('runs every function on nodejs22.x, arm64, as an ESM bundle with source maps and JSON logs', () => {
    const layerId = logicalIdOf(synth.stack.coreLayer, synth.stack);
    const matching = synth.template.findResources('AWS::Lambda::Function', {
      Properties: Match.objectLike({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
        Layers: [{ Ref: layerId }],
        Environment: {
          Variables: Match.objectLike({
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'jobengine',
            DATABASE_SECRET_ARN: Match.anyValue(),
            DATABASE_PROXY_ENDPOINT: Match.anyValue(),
            DATABASE_NAME: 'jobengine',
            DB_APP_ROLE: DATABASE_ROLES.app,
          }),
        },
        VpcConfig: Match.objectLike({ SecurityGroupIds: Match.anyValue(), SubnetIds: Match.anyValue() }),
      }),
    });
    // all but the authorizer, which runs outside the VPC without database access (authorizer.test.ts)
    const inVpc = ownFunctions.filter((fn) => fn !== synth.stack.authorizer.function);
    expect(Object.keys(matching).sort()).toEqual(inVpc.map(id).sort());
  });

  it("gives every runtime function the core's configuration: token issuer and page-token secret", () => {
    for (const functionId of functionIds) {
      expect(variablesOf(functionId), functionId).toMatchObject({
        AUTH_ISSUER: 'https://auth.dev.jobengine.invalid/',
        AUTH_AUDIENCE: 'jobengine',
        AUTH_JWKS_URL: 'https://auth.dev.jobengine.invalid/.well-known/jwks.json',
        CURSOR_SECRET_ARN: { Ref: id(synth.stack.cursorSecret) },
      });
      expect(variablesOf(functionId), functionId).not.toHaveProperty('CURSOR_SECRET');
    }
  });

  it('sets the system role only where work spans tenants: tick, planner, WebSocket connections', () => {
    const { ticks, planner, webSocketApi } = synth.stack;
    const system = [ticks.function, planner.function, ...Object.values(webSocketApi.functions)].map(id);
    for (const functionId of functionIds) {
      expect(variablesOf(functionId).DB_SYSTEM_ROLE, functionId).toBe(
        system.includes(functionId) ? DATABASE_ROLES.system : undefined,
      );
    }
  });

  it('gives the plan queue URL to the run submitters only, and the fanout queue URL to the hint senders', () => {
    const producers = PLAN_QUEUE_PRODUCERS.map((name) => id(synth.stack.restApi.functions[name]!));
    expect(producers).toEqual([id(synth.stack.restApi.functions.runs!)]);
    // the redrive function sends dead letters back to the plan queue (queues.ts grantRedrive)
    const planUrlHolders = [...producers, id(synth.stack.restApi.functions.queues!)];
    const { restApi, webSocketApi, planner, ticks, broadcaster } = synth.stack;
    // every function serving a mutating route, and the non-REST senders
    const mutatingFunctions = [
      ...new Set(ROUTES.filter((route) => route.method !== 'GET').map((route) => route.fn)),
    ];
    expect(mutatingFunctions).toEqual(
      expect.arrayContaining(['sources', 'runs', 'jobs', 'worker', 'deadletter', 'pack-runs', 'queues']),
    );
    const hinting = [
      ...mutatingFunctions.map((name) => restApi.functions[name]!),
      webSocketApi.functions.default,
      planner.function,
      ticks.function,
      broadcaster.function,
    ].map(id);
    expect(synth.stack.fanoutProducers.map(id).sort()).toEqual(hinting.sort());
    for (const fn of ownFunctions) {
      const variables = variablesOf(id(fn));
      expect(variables.PLAN_QUEUE_URL, fn.node.path).toEqual(
        planUrlHolders.includes(id(fn)) ? { Ref: id(synth.stack.queues.plan.queue) } : undefined,
      );
      expect(variables.FANOUT_QUEUE_URL, fn.node.path).toEqual(
        hinting.includes(id(fn)) ? { Ref: id(synth.stack.queues.fanout.queue) } : undefined,
      );
    }
  });

  it('points the broadcaster, and only it, at the WebSocket stage management endpoint', () => {
    for (const fn of ownFunctions) {
      const endpoint = variablesOf(id(fn)).WS_MANAGEMENT_ENDPOINT;
      if (fn !== synth.stack.broadcaster.function) {
        expect(endpoint, fn.node.path).toBeUndefined();
        continue;
      }
      expect(JSON.stringify(endpoint)).toContain(id(synth.stack.webSocketApi.api));
      expect(JSON.stringify(endpoint)).toMatch(/^\{"Fn::Join":\["",\["https:\/\/"/);
      expect(JSON.stringify(endpoint)).toContain('/live');
    }
  });

  it('keeps every function log group under a retention', () => {
    const logGroupIds = Object.values(functionResources())
      .map((fn) => (fn.Properties.LoggingConfig as { LogGroup?: { Ref: string } } | undefined)?.LogGroup?.Ref)
      .filter((logGroupId): logGroupId is string => logGroupId !== undefined);
    // ours, and the migration provider framework's
    expect(logGroupIds).toHaveLength(ownFunctions.length + 1);
    const logGroups = synth.template.findResources('AWS::Logs::LogGroup');
    for (const logGroupId of logGroupIds) {
      expect(logGroups[logGroupId]?.Properties.RetentionInDays, logGroupId).toBe(14);
    }
  });

  it('points every function at a bundled index.mjs that exists in the cloud assembly', () => {
    for (const fn of ownFunctions) {
      const dir = bundleDirOf(id(fn));
      const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(bundle.startsWith("import { createRequire } from 'module';"), fn.node.path).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), fn.node.path).toBe(true);
    }
  });

  it('builds the core layer as an ESM package at nodejs/node_modules/@jobengine/core, for nodejs22.x arm64', () => {
    const layers = synth.template.findResources('AWS::Lambda::LayerVersion');
    const layer = layers[logicalIdOf(synth.stack.coreLayer, synth.stack)];
    expect(layer?.Properties).toMatchObject({
      CompatibleRuntimes: ['nodejs22.x'],
      CompatibleArchitectures: ['arm64'],
    });
    const packageDir = join(assetDirOf(synth, layer?.Properties.Content.S3Key), CORE_PACKAGE_PATH_IN_LAYER);
    expect(existsSync(join(packageDir, 'index.mjs'))).toBe(true);
    expect(JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))).toEqual({
      name: '@jobengine/core',
      type: 'module',
      exports: './index.mjs',
    });
  });

  it('keeps the core and its dependencies out of the function bundles', () => {
    for (const fn of ownFunctions) {
      const bundle = readFileSync(join(bundleDirOf(id(fn)), 'index.mjs'), 'utf8');
      // pg, zod and friends would make a bundle hundreds of kilobytes large
      expect(bundle.length, fn.node.path).toBeLessThan(100_000);
      expect(bundle, fn.node.path).not.toMatch(/node_modules\/(pg|zod|jose)\//);
    }
  });
});
