import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { JobEngineFunction, type JobEngineFunctionProps } from './job-engine-function.ts';

/** where the SQL files sit relative to the migration function's bundle (its handler reads them from there) */
export const MIGRATIONS_DIR_IN_BUNDLE = 'migrations';

/** the migration files of a directory, in name order */
export function migrationFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.sql'))
    .sort();
}

/** A digest of the migration files' names and contents: any added or changed file changes it. */
export function hashMigrations(directory: string): string {
  const hash = createHash('sha256');
  for (const name of migrationFiles(directory)) {
    hash
      .update(`${name}\0`)
      .update(readFileSync(join(directory, name)))
      .update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}

export interface MigrationsProps {
  readonly projectRoot: string;
  /** the SQL migrations, relative to the project root; @default 'migrations' */
  readonly directory?: string;
  /** handler file, relative to the project root; @default 'functions/migrate/handler.ts' */
  readonly entry?: string;
  /** layer, VPC, database environment...; the function defaults to a 10-minute timeout */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
  /** of the provider framework's log group; @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** of the provider framework's log group; @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Applies the SQL migrations on every deployment that changes them: a custom resource whose properties
 * carry a digest of the migration files, served by a function that ships those files next to its bundle.
 * Deleting the resource (or the stack) leaves the schema alone. The caller grants the function its
 * database access and orders the resource after the database.
 */
export class Migrations extends Construct {
  readonly function: JobEngineFunction;
  readonly provider: Provider;
  readonly resource: CustomResource;
  /** the digest the resource carries */
  readonly hash: string;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    const directory = props.directory ?? 'migrations';
    this.hash = hashMigrations(join(props.projectRoot, directory));
    this.function = new JobEngineFunction(this, 'MigrateFunction', {
      // a long migration must finish inside one invocation (Lambda's limit is 15 minutes)
      timeout: Duration.minutes(10),
      ...props.functionProps,
      entry: join(props.projectRoot, props.entry ?? 'functions/migrate/handler.ts'),
      description: 'deploy-time custom resource: applies the SQL migrations and grants the runtime roles',
      bundling: {
        ...props.functionProps?.bundling,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // plain cp: bundling stays local and offline
          afterBundling: (inputDir, outputDir) => [
            `mkdir -p "${outputDir}/${MIGRATIONS_DIR_IN_BUNDLE}"`,
            `cp "${inputDir}/${directory}"/*.sql "${outputDir}/${MIGRATIONS_DIR_IN_BUNDLE}/"`,
          ],
        },
      },
    });
    this.provider = new Provider(this, 'Provider', {
      onEventHandler: this.function,
      logGroup: new LogGroup(this, 'ProviderLogs', {
        retention: props.logRetention ?? RetentionDays.ONE_MONTH,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
      }),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::JobEngineMigrations',
      properties: { MigrationsHash: this.hash },
    });

    // the provider framework's function is CDK's own: these findings concern CDK's defaults for it
    const functionId: string = Stack.of(this).resolve(this.function.functionArn)['Fn::GetAtt'][0];
    Validations.of(this.provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The AWS-managed policy grants exactly the CloudWatch Logs writes the framework function needs.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
        reason:
          'CDK grants the framework invoking every version and alias of the one migration function it serves.',
      },
    );
  }
}
