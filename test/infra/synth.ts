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
 * Synthesizes the app as `cdk synth -c env=<env>` does, esbuild bundling and cdk-nag included, into a
 * private directory. Under vitest the app runs in-memory, so `synth` throws on any unacknowledged finding.
 * Slow (it bundles): call it once per file, in `beforeAll`.
 */
export function synthJobEngine(env = 'dev'): SynthesizedJobEngine {
  const outdir = mkdtempSync(join(tmpdir(), 'jobengine-cdk-'));
  const app = new App({ outdir, context: cdkJsonContext({ env }) });
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
