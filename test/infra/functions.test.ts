import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/routes.ts';
import { CORE_PACKAGE_PATH_IN_LAYER } from '../../infra/lib/core-layer.ts';
import { logicalIdOf, type SynthesizedJobEngine, synthJobEngine } from './synth.ts';

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

let synth: SynthesizedJobEngine;
let functionIds: string[];

beforeAll(() => {
  synth = synthJobEngine('dev');
  functionIds = synth.stack.functions.map((fn) => logicalIdOf(fn, synth.stack));
});
afterAll(() => synth?.dispose());

/** the asset directory in the cloud assembly that a Lambda `S3Key` points at */
function assetDirOf(s3Key: unknown): string {
  expect(s3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
  const assets = JSON.parse(
    readFileSync(join(synth.outdir, `${synth.stack.artifactId}.assets.json`), 'utf8'),
  );
  const asset = assets.files[(s3Key as string).replace(/\.zip$/, '')];
  expect(asset, `no asset for ${s3Key}`).toBeDefined();
  return join(synth.outdir, asset.source.path);
}

function functionResources(): Record<string, CfnResource> {
  return synth.template.findResources('AWS::Lambda::Function') as Record<string, CfnResource>;
}

function functionProperties(id: string): Record<string, unknown> {
  const resource = functionResources()[id];
  if (!resource) {
    throw new Error(`no function ${id} in the template`);
  }
  return resource.Properties;
}

function bundleDirOf(functionId: string): string {
  return assetDirOf((functionProperties(functionId).Code as { S3Key: unknown }).S3Key);
}

describe('functions', () => {
  it('declares one function per function-table entry, three WebSocket routes and the tick', () => {
    expect(functionIds).toHaveLength(Object.keys(FUNCTIONS).length + 3 + 1);
    // the only other function is CDK's own custom-resource provider (default security group lockdown)
    const others = Object.entries(functionResources()).filter(([id]) => !functionIds.includes(id));
    for (const [id, resource] of others) {
      expect(resource.Properties.Handler, id).toBe('__entrypoint__.handler');
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
          }),
        },
        VpcConfig: Match.objectLike({ SecurityGroupIds: Match.anyValue(), SubnetIds: Match.anyValue() }),
      }),
    });
    expect(Object.keys(matching).sort()).toEqual([...functionIds].sort());
  });

  it('gives the queue URLs to the producers (REST functions and tick) only', () => {
    const producers = [...Object.values(synth.stack.restApi.functions), synth.stack.ticks.function].map(
      (fn) => logicalIdOf(fn, synth.stack),
    );
    for (const id of functionIds) {
      const { Variables: variables } = functionProperties(id).Environment as { Variables: object };
      const isProducer = producers.includes(id);
      expect('PLAN_QUEUE_URL' in variables, id).toBe(isProducer);
      expect('FANOUT_QUEUE_URL' in variables, id).toBe(isProducer);
    }
  });

  it('keeps every function log group under a retention', () => {
    const logGroupIds = Object.values(functionResources())
      .map((fn) => (fn.Properties.LoggingConfig as { LogGroup?: { Ref: string } } | undefined)?.LogGroup?.Ref)
      .filter((id): id is string => id !== undefined);
    expect(logGroupIds).toHaveLength(functionIds.length);
    const logGroups = synth.template.findResources('AWS::Logs::LogGroup');
    for (const id of logGroupIds) {
      expect(logGroups[id]?.Properties.RetentionInDays, id).toBe(14);
    }
  });

  it('points every function at a bundled index.mjs that exists in the cloud assembly', () => {
    for (const id of functionIds) {
      const dir = bundleDirOf(id);
      const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(bundle.startsWith("import { createRequire } from 'module';"), id).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), id).toBe(true);
    }
  });

  it('builds the core layer as an ESM package at nodejs/node_modules/@jobengine/core, for nodejs22.x arm64', () => {
    const layers = synth.template.findResources('AWS::Lambda::LayerVersion');
    const layer = layers[logicalIdOf(synth.stack.coreLayer, synth.stack)];
    expect(layer?.Properties).toMatchObject({
      CompatibleRuntimes: ['nodejs22.x'],
      CompatibleArchitectures: ['arm64'],
    });
    const packageDir = join(assetDirOf(layer?.Properties.Content.S3Key), CORE_PACKAGE_PATH_IN_LAYER);
    expect(existsSync(join(packageDir, 'index.mjs'))).toBe(true);
    expect(JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))).toEqual({
      name: '@jobengine/core',
      type: 'module',
      exports: './index.mjs',
    });
  });

  it('keeps the core and its dependencies out of the function bundles', () => {
    for (const id of functionIds) {
      const dir = bundleDirOf(id);
      const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
      // pg, zod and friends would make a bundle hundreds of kilobytes large
      expect(bundle.length, id).toBeLessThan(100_000);
      expect(bundle, id).not.toMatch(/node_modules\/(pg|zod|jose)\//);
    }
  });
});
