import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_CONSUMER_TIMEOUT } from '../../infra/lib/job-engine-stack.ts';
import { VISIBILITY_TIMEOUT_PER_CONSUMER_TIMEOUT } from '../../infra/lib/queues.ts';
import { ENVIRONMENTS } from '../../infra/lib/settings.ts';
import { logicalIdOf, type SynthesizedJobEngine, synthJobEngine } from './synth.ts';

let synth: SynthesizedJobEngine;

beforeAll(() => {
  synth = synthJobEngine('dev');
});
afterAll(() => synth?.dispose());

const id = (construct: { node: { defaultChild?: unknown } }) => logicalIdOf(construct, synth.stack);

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
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
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

  it('grants every function reading the secret and connecting through the proxy', () => {
    for (const fn of synth.stack.functions) {
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
