import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BROADCASTER_CONNECTIONS_PER_CONTAINER,
  broadcasterMaxConcurrency,
} from '../../infra/lib/broadcaster.ts';
import { PROJECT_ROOT, QUEUE_CONSUMER_TIMEOUT } from '../../infra/lib/job-engine-stack.ts';
import { hashMigrations, MIGRATIONS_DIR_IN_BUNDLE, migrationFiles } from '../../infra/lib/migrations.ts';
import { PLANNER_CONNECTIONS_PER_CONTAINER, plannerMaxConcurrency } from '../../infra/lib/planner.ts';
import { VISIBILITY_TIMEOUT_PER_CONSUMER_TIMEOUT } from '../../infra/lib/queues.ts';
import { ENVIRONMENTS } from '../../infra/lib/settings.ts';
import { assetDirOf, logicalIdOf, type SynthesizedJobEngine, synthJobEngine } from './synth.ts';

let synth: SynthesizedJobEngine;

beforeAll(() => {
  synth = synthJobEngine('dev');
});
afterAll(() => synth?.dispose());

const id = (construct: { node: { defaultChild?: unknown } }) => logicalIdOf(construct, synth.stack);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** the statements of every identity policy attached to a role */
function statementsOf(role: IRole): Statement[] {
  return Object.values(
    synth.template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(role) }] } }),
  ).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');

describe('queues', () => {
  const workQueues = () => [synth.stack.queues.plan, synth.stack.queues.fanout];

  it('redrive plan and fanout to their own dead-letter queue after 5 receives', () => {
    for (const { queue, deadLetterQueue } of workQueues()) {
      synth.template.hasResource('AWS::SQS::Queue', {
        Properties: Match.objectLike({
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': [id(deadLetterQueue), 'Arn'] },
            maxReceiveCount: 5,
          },
        }),
      });
      expect(
        synth.template.findResources('AWS::SQS::Queue')[id(queue)]?.Properties.RedrivePolicy,
      ).toBeDefined();
    }
  });

  it('set a visibility timeout of at least 6x the consumer timeout', () => {
    const queues = synth.template.findResources('AWS::SQS::Queue');
    for (const { queue } of workQueues()) {
      expect(queues[id(queue)]?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
        VISIBILITY_TIMEOUT_PER_CONSUMER_TIMEOUT * QUEUE_CONSUMER_TIMEOUT.toSeconds(),
      );
    }
  });

  it('encrypt every queue and keep dead letters for 14 days', () => {
    const queues = synth.template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(5);
    for (const queue of Object.values(queues)) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
    const deadLetterQueues = [
      ...workQueues().map((q) => q.deadLetterQueue),
      synth.stack.ticks.deadLetterQueue,
    ];
    for (const queue of deadLetterQueues) {
      expect(queues[id(queue)]?.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
  });

  it('deny every queue request that is not over TLS', () => {
    const queueIds = Object.keys(synth.template.findResources('AWS::SQS::Queue'));
    const policies = Object.values(synth.template.findResources('AWS::SQS::QueuePolicy'));
    for (const queueId of queueIds) {
      const policy = policies.find((p) =>
        p.Properties.Queues.some((q: { Ref: string }) => q.Ref === queueId),
      );
      expect(policy?.Properties.PolicyDocument.Statement, queueId).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });
});

describe('ticks', () => {
  it('invoke the tick function every minute, with retries and a dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id(synth.stack.ticks.function), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(synth.stack.ticks.deadLetterQueue), 'Arn'] } },
        }),
      ],
    });
  });
});

describe('database', () => {
  it('is an encrypted Aurora PostgreSQL Serverless v2 cluster with IAM auth, scaled per environment', () => {
    synth.template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      ServerlessV2ScalingConfiguration: {
        MinCapacity: ENVIRONMENTS.dev.database.minCapacityAcu,
        MaxCapacity: ENVIRONMENTS.dev.database.maxCapacityAcu,
      },
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      DeletionProtection: false,
    });
    synth.template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
  });

  it('keeps its credentials in a rotated Secrets Manager secret', () => {
    // the other secret is the page-token key (see 'runtime configuration')
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    synth.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });

  it('is reached through an RDS Proxy that requires TLS', () => {
    synth.template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
    });
  });

  it('accepts connections only along functions -> proxy -> cluster (and the secret rotation)', () => {
    const { database, network } = synth.stack;
    const [proxyGroup] = database.proxy.connections.securityGroups;
    const [clusterGroup] = database.cluster.connections.securityGroups;
    const ingress = Object.values(synth.template.findResources('AWS::EC2::SecurityGroupIngress')).map(
      ({ Properties }) => ({
        to: Properties.GroupId['Fn::GetAtt'][0] as string,
        from: Properties.SourceSecurityGroupId?.['Fn::GetAtt'][0] as string | undefined,
        cidr: Properties.CidrIp as string | undefined,
      }),
    );
    expect(ingress.filter(({ cidr }) => cidr !== undefined)).toEqual([]);
    expect(ingress.filter(({ to }) => to === id(proxyGroup!)).map(({ from }) => from)).toEqual([
      id(network.functionSecurityGroup),
    ]);
    expect(
      ingress
        .filter(({ to }) => to === id(clusterGroup!))
        .map(({ from }) => from)
        .sort(),
    ).toEqual([id(proxyGroup!), expect.stringMatching(/RotationSingleUserSecurityGroup/)].sort());
  });

  it('grants every function, migration included, reading the secret and connecting through the proxy', () => {
    for (const fn of [...synth.stack.functions, synth.stack.migrations.function]) {
      const policies = Object.values(
        synth.template.findResources('AWS::IAM::Policy', {
          Properties: { Roles: [{ Ref: id(fn.role!) }] },
        }),
      );
      const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
      expect(statements, fn.node.path).toContainEqual(
        expect.objectContaining({
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        }),
      );
      expect(statements, fn.node.path).toContainEqual(expect.objectContaining({ Action: 'rds-db:connect' }));
    }
  });
});

describe('network', () => {
  it('spans two AZs with isolated and private-with-egress subnets and one NAT gateway in dev', () => {
    synth.template.resourceCountIs('AWS::EC2::Subnet', 6);
    synth.template.resourceCountIs('AWS::EC2::NatGateway', ENVIRONMENTS.dev.network.natGateways);
    synth.template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });
});

describe('planner', () => {
  it('consumes the plan queue in batches of 10, reporting failed records one by one', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [id(synth.stack.queues.plan.queue), 'Arn'] },
      FunctionName: { Ref: id(synth.stack.planner.function) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('bounds its concurrency by its database connection budget', () => {
    const { connectionBudget } = ENVIRONMENTS.dev.planner;
    expect(synth.stack.planner.maxConcurrency).toBe(plannerMaxConcurrency(connectionBudget));
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(synth.stack.planner.function) },
      ScalingConfig: { MaximumConcurrency: connectionBudget / PLANNER_CONNECTIONS_PER_CONTAINER },
    });
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^plan queue consumer'),
      Environment: {
        Variables: Match.objectLike({ DB_POOL_MAX: String(PLANNER_CONNECTIONS_PER_CONTAINER) }),
      },
    });
  });

  it('derives the event source concurrency within the bounds SQS accepts', () => {
    expect(plannerMaxConcurrency(5)).toBe(5);
    expect(plannerMaxConcurrency(5000)).toBe(1000);
    expect(() => plannerMaxConcurrency(1)).toThrow(/at least 2/);
  });

  it('times out at the queue consumer timeout, which the visibility timeout is sized for', () => {
    const fn = synth.template.findResources('AWS::Lambda::Function')[id(synth.stack.planner.function)];
    expect(fn?.Properties.Timeout).toBe(QUEUE_CONSUMER_TIMEOUT.toSeconds());
  });

  it('is the only function that receives from the plan queue', () => {
    expect(receiversOf(synth.stack.queues.plan.queue)).toEqual([id(synth.stack.planner.function)]);
  });
});

/** the functions allowed to receive from a queue */
function receiversOf(queue: { node: { defaultChild?: unknown } }): string[] {
  const arn = JSON.stringify({ 'Fn::GetAtt': [id(queue), 'Arn'] });
  return synth.stack.functions
    .filter((fn) =>
      statementsOf(fn.role!).some(
        (statement) =>
          actionsOf(statement).includes('sqs:ReceiveMessage') &&
          JSON.stringify(statement.Resource).includes(arn),
      ),
    )
    .map(id);
}

describe('broadcaster', () => {
  it('consumes the fanout queue in batches of 10, reporting failed records one by one', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [id(synth.stack.queues.fanout.queue), 'Arn'] },
      FunctionName: { Ref: id(synth.stack.broadcaster.function) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('bounds its concurrency by its database connection budget', () => {
    const { connectionBudget } = ENVIRONMENTS.dev.broadcaster;
    expect(synth.stack.broadcaster.maxConcurrency).toBe(broadcasterMaxConcurrency(connectionBudget));
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(synth.stack.broadcaster.function) },
      ScalingConfig: {
        MaximumConcurrency: Math.floor(connectionBudget / BROADCASTER_CONNECTIONS_PER_CONTAINER),
      },
    });
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^fanout queue consumer'),
      Environment: {
        Variables: Match.objectLike({ DB_POOL_MAX: String(BROADCASTER_CONNECTIONS_PER_CONTAINER) }),
      },
    });
    expect(broadcasterMaxConcurrency(4)).toBe(2);
    expect(broadcasterMaxConcurrency(5000)).toBe(1000);
    expect(() => broadcasterMaxConcurrency(3)).toThrow(/at least 2/);
  });

  it('times out at the queue consumer timeout and is the only consumer of the fanout queue', () => {
    const fn = synth.template.findResources('AWS::Lambda::Function')[id(synth.stack.broadcaster.function)];
    expect(fn?.Properties.Timeout).toBe(QUEUE_CONSUMER_TIMEOUT.toSeconds());
    expect(receiversOf(synth.stack.queues.fanout.queue)).toEqual([id(synth.stack.broadcaster.function)]);
  });
});

describe('plan queue producers', () => {
  it('are the runs function and the redrive function only: no other role may send to the plan queue', () => {
    const planQueueArn = { 'Fn::GetAtt': [id(synth.stack.queues.plan.queue), 'Arn'] };
    const senders = Object.values(synth.template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).some(
        (statement) =>
          actionsOf(statement).includes('sqs:SendMessage') &&
          JSON.stringify(statement.Resource).includes(JSON.stringify(planQueueArn)),
      ),
    );
    expect(
      senders
        .flatMap((policy) => policy.Properties.Roles)
        .map((role: { Ref: string }) => role.Ref)
        .sort(),
    ).toEqual(
      [synth.stack.restApi.functions.runs!, synth.stack.restApi.functions.queues!]
        .map((fn) => id(fn.role!))
        .sort(),
    );
  });
});

describe('fanout queue producers', () => {
  it('are the hint senders only: no other role may send to the fanout queue', () => {
    const fanoutQueueArn = JSON.stringify({ 'Fn::GetAtt': [id(synth.stack.queues.fanout.queue), 'Arn'] });
    const senders = Object.values(synth.template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).some(
        (statement) =>
          actionsOf(statement).includes('sqs:SendMessage') &&
          JSON.stringify(statement.Resource).includes(fanoutQueueArn),
      ),
    );
    expect(
      senders
        .flatMap((policy) => policy.Properties.Roles)
        .map((role: { Ref: string }) => role.Ref)
        .sort(),
    ).toEqual(synth.stack.fanoutProducers.map((fn) => id(fn.role!)).sort());
  });
});

describe('runtime configuration', () => {
  it('generates the page-token key in Secrets Manager, never in the template', () => {
    synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
    });
    expect(JSON.stringify(synth.template.toJSON())).not.toContain('jobengine-dev-cursor-secret');
  });

  it('lets the runtime functions, and only those, read the page-token key', () => {
    const readers = [...synth.stack.functions, synth.stack.migrations.function].filter((fn) =>
      statementsOf(fn.role!).some(
        (statement) =>
          actionsOf(statement).includes('secretsmanager:GetSecretValue') &&
          JSON.stringify(statement.Resource).includes(JSON.stringify({ Ref: id(synth.stack.cursorSecret) })),
      ),
    );
    expect(readers.map(id).sort()).toEqual(synth.stack.functions.map(id).sort());
  });
});

describe('migrations', () => {
  const migrationResource = () => {
    const resources = synth.template.findResources('Custom::JobEngineMigrations');
    expect(Object.keys(resources)).toHaveLength(1);
    return Object.values(resources)[0]!;
  };

  it('run as a custom resource served by the migration function, keyed by the migrations digest', () => {
    const { migrations } = synth.stack;
    expect(migrationResource().Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/frameworkonEvent/), 'Arn'] },
      MigrationsHash: hashMigrations(MIGRATIONS_DIR),
    });
    expect(migrations.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'framework.onEvent',
      Environment: {
        Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [id(migrations.function), 'Arn'] } },
      },
    });
  });

  it('run after the database, its proxy and the proxy target exist', () => {
    const dependsOn = migrationResource().DependsOn as string[];
    const { cluster, proxy } = synth.stack.database;
    expect(dependsOn).toContain(id(cluster));
    expect(dependsOn).toContain(id(proxy));
    expect(dependsOn.some((dependency) => /ProxyTargetGroup/.test(dependency))).toBe(true);
  });

  it('ship every migration file next to the migration function bundle', () => {
    const fn = synth.template.findResources('AWS::Lambda::Function')[id(synth.stack.migrations.function)];
    const shipped = join(assetDirOf(synth, fn?.Properties.Code.S3Key), MIGRATIONS_DIR_IN_BUNDLE);
    const files = migrationFiles(MIGRATIONS_DIR);
    expect(files).toContain('1_foundation.sql');
    expect(migrationFiles(shipped)).toEqual(files);
    for (const file of files) {
      expect(readFileSync(join(shipped, file), 'utf8'), file).toBe(
        readFileSync(join(MIGRATIONS_DIR, file), 'utf8'),
      );
    }
  });

  it('re-run when a migration is added or edited', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobengine-migrations-'));
    try {
      writeFileSync(join(dir, '1_a.sql'), 'SELECT 1;');
      const first = hashMigrations(dir);
      writeFileSync(join(dir, 'notes.txt'), 'not a migration');
      expect(hashMigrations(dir)).toBe(first);
      writeFileSync(join(dir, '1_a.sql'), 'SELECT 2;');
      const edited = hashMigrations(dir);
      expect(edited).not.toBe(first);
      writeFileSync(join(dir, '2_b.sql'), '');
      expect(hashMigrations(dir)).not.toBe(edited);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pass the migration function the database roles to grant, and nothing of the runtime', () => {
    const fn = synth.template.findResources('AWS::Lambda::Function')[id(synth.stack.migrations.function)];
    const variables = fn?.Properties.Environment.Variables;
    expect(variables).toMatchObject({ DB_APP_ROLE: 'jobengine_app', DB_SYSTEM_ROLE: 'jobengine_system' });
    expect(Object.keys(variables)).not.toContain('CURSOR_SECRET_ARN');
    expect(Object.keys(variables)).not.toContain('AUTH_ISSUER');
  });
});

describe('domain event bus', () => {
  it('is one EventBridge bus named by the environment settings', () => {
    const buses = synth.template.findResources('AWS::Events::EventBus');
    expect(Object.keys(buses)).toEqual([id(synth.stack.eventBus)]);
    expect(Object.values(buses)[0]?.Properties.Name).toBe(ENVIRONMENTS.dev.eventBus.name);
    expect(ENVIRONMENTS.prod.eventBus.name).not.toBe(ENVIRONMENTS.dev.eventBus.name);
  });

  it('gives its name to the tick, the outbox publisher, and to no other function', () => {
    const tick = id(synth.stack.ticks.function);
    const functions = synth.template.findResources('AWS::Lambda::Function');
    for (const [functionId, fn] of Object.entries(functions)) {
      const variables = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
      expect(variables.EVENT_BUS_NAME, functionId).toEqual(
        functionId === tick ? { Ref: id(synth.stack.eventBus) } : undefined,
      );
    }
  });

  it('lets only the tick put events, and only on this bus', () => {
    const putters = Object.values(synth.template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[])
        .filter((statement) => actionsOf(statement).some((action) => action.startsWith('events:Put')))
        .map((statement) => ({ roles: policy.Properties.Roles, statement })),
    );
    expect(putters).toEqual([
      {
        roles: [{ Ref: id(synth.stack.ticks.function.role!) }],
        statement: {
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: { 'Fn::GetAtt': [id(synth.stack.eventBus), 'Arn'] },
        },
      },
    ]);
  });

  it('outputs its name and ARN for subscribers', () => {
    synth.template.hasOutput('EventBusName', { Value: { Ref: id(synth.stack.eventBus) } });
    synth.template.hasOutput('EventBusArn', { Value: { 'Fn::GetAtt': [id(synth.stack.eventBus), 'Arn'] } });
  });
});
