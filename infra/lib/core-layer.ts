import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion, type LayerVersionOptions, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { ESM_REQUIRE_BANNER } from './job-engine-function.ts';

export const CORE_PACKAGE_NAME = '@jobengine/core';

/** Lambda puts layer content under /opt; Node.js resolves packages (ESM included) from /opt/nodejs/node_modules. */
export const CORE_PACKAGE_PATH_IN_LAYER = `nodejs/node_modules/${CORE_PACKAGE_NAME}`;

export interface CoreLayerProps extends LayerVersionOptions {
  /** repository root: esbuild resolves the core's npm dependencies from its node_modules */
  readonly projectRoot: string;
  /** @default 'layers/core' */
  readonly packageDir?: string;
  /** relative to packageDir; @default 'src/index.ts' */
  readonly entry?: string;
}

/**
 * The `@jobengine/core` package as one Lambda layer: the core and all of its third-party dependencies in a
 * single ESM bundle, so the functions that import it stay thin. Bundled in-process by esbuild's JS API;
 * the Docker image is a placeholder that is never pulled, because local bundling always succeeds or throws.
 */
export class CoreLayer extends LayerVersion {
  constructor(scope: Construct, id: string, props: CoreLayerProps) {
    const { projectRoot, packageDir = 'layers/core', entry = 'src/index.ts', ...layerOptions } = props;
    const packagePath = join(projectRoot, packageDir);
    super(scope, id, {
      description: `${CORE_PACKAGE_NAME}: domain core, services, adapters and their dependencies (ESM)`,
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      compatibleArchitectures: [Architecture.ARM_64],
      ...layerOptions,
      code: Code.fromAsset(packagePath, {
        // the bundle also depends on node_modules and the lock file, so hash what was built, not the sources
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          image: DockerImage.fromRegistry('none'),
          local: {
            tryBundle(outputDir) {
              bundleCorePackage({ projectRoot, entryPoint: join(packagePath, entry), outputDir });
              return true;
            },
          },
        },
      }),
    });
  }
}

interface BundleCorePackageOptions {
  readonly projectRoot: string;
  readonly entryPoint: string;
  readonly outputDir: string;
}

function bundleCorePackage({ projectRoot, entryPoint, outputDir }: BundleCorePackageOptions): void {
  const packageOutDir = join(outputDir, CORE_PACKAGE_PATH_IN_LAYER);
  mkdirSync(packageOutDir, { recursive: true });
  buildSync({
    absWorkingDir: projectRoot,
    entryPoints: [entryPoint],
    outfile: join(packageOutDir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    // pg-native is pg's optional native driver (not installed); the SDK is part of the Lambda runtime
    external: ['pg-native', '@aws-sdk/*'],
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
  });
  writeFileSync(
    join(packageOutDir, 'package.json'),
    `${JSON.stringify({ name: CORE_PACKAGE_NAME, type: 'module', exports: './index.mjs' }, null, 2)}\n`,
  );
}
