import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addJobEngine } from '../../infra/lib/job-engine-app.ts';
import type { JobEngineStack } from '../../infra/lib/job-engine-stack.ts';

export interface SynthesizedJobEngine {
  readonly app: App;
  readonly stack: JobEngineStack;
  readonly template: Template;
  /** the cloud assembly directory (what `cdk synth` writes to cdk.out) */
  readonly outdir: string;
  /** removes the assembly directory */
  readonly dispose: () => void;
}

/** the context `cdk synth` would use: cdk.json's (feature flags included), plus overrides */
export function cdkJsonContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return { ...cdkJson.context, ...overrides };
}

/**
 * What a prod deployment passes on the command line (cdk.json holds only dev's placeholders), e.g.
 * `cdk synth -c env=prod -c auth:prod:issuer=...`.
 */
export const PROD_AUTH_CONTEXT: Readonly<Record<string, string>> = {
  'auth:prod:issuer': 'https://login.example.com/',
  'auth:prod:audience': 'jobengine',
  'auth:prod:jwksUrl': 'https://login.example.com/.well-known/jwks.json',
};

export interface SynthOptions {
  /** extra context, as `-c key=value` would give */
  readonly context?: Record<string, unknown>;
  /**
   * Build the function and layer assets (esbuild, most of a synthesis' time). Files that only inspect the
   * template skip it, as `cdk synth --exclusively` does for other stacks. @default true
   */
  readonly bundle?: boolean;
}

/**
 * Synthesizes the app as `cdk synth -c env=<env>` does, cdk-nag (and by default esbuild bundling) included,
 * into a private directory. Under vitest the app runs in-memory, so `synth` throws on any unacknowledged
 * finding. Slow: call it once per file, in `beforeAll`.
 */
export function synthJobEngine(env = 'dev', options: SynthOptions = {}): SynthesizedJobEngine {
  const outdir = mkdtempSync(join(tmpdir(), 'jobengine-cdk-'));
  const bundling = options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {};
  const app = new App({ outdir, context: cdkJsonContext({ env, ...bundling, ...options.context }) });
  const stack = addJobEngine(app);
  app.synth();
  return {
    app,
    stack,
    template: Template.fromStack(stack),
    outdir,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

export function logicalIdOf(element: { node: { defaultChild?: unknown } }, stack: JobEngineStack): string {
  return stack.resolve(stack.getLogicalId(element.node.defaultChild as CfnElement));
}

/** the directory in the cloud assembly that a Lambda function's or layer's `S3Key` points at */
export function assetDirOf(synth: SynthesizedJobEngine, s3Key: unknown): string {
  if (typeof s3Key !== 'string' || !/^[0-9a-f]{64}\.zip$/.test(s3Key)) {
    throw new Error(`not an asset key: ${JSON.stringify(s3Key)}`);
  }
  const assets = JSON.parse(
    readFileSync(join(synth.outdir, `${synth.stack.artifactId}.assets.json`), 'utf8'),
  ) as { files: Record<string, { source: { path: string } }> };
  const asset = assets.files[s3Key.replace(/\.zip$/, '')];
  if (!asset) {
    throw new Error(`no asset for ${s3Key}`);
  }
  return join(synth.outdir, asset.source.path);
}
