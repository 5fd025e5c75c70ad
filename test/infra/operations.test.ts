import { join } from 'node:path';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditExports } from '../../infra/lib/audit-exports.ts';
import { CONNECTIONS_PER_CONTAINER } from '../../infra/lib/connection-budget.ts';
import { JobEngineFunction } from '../../infra/lib/job-engine-function.ts';
import { FUNCTION_WIRING, PROJECT_ROOT } from '../../infra/lib/job-engine-stack.ts';
import { Monitoring } from '../../infra/lib/monitoring.ts';
import { ENVIRONMENTS } from '../../infra/lib/settings.ts';
import { METRIC, METRICS_NAMESPACE } from '../../layers/core/src/observability/metrics.ts';
import { logicalIdOf, type SynthesizedJobEngine, synthJobEngine } from './synth.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let synth: SynthesizedJobEngine;

beforeAll(() => {
  synth = synthJobEngine('dev', { bundle: false });
});
afterAll(() => synth?.dispose());

const id = (construct: { node: { defaultChild?: unknown } }) => logicalIdOf(construct, synth.stack);
const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** every identity-policy statement, with the roles it is attached to */
function statements(): { roles: string[]; statement: Statement }[] {
  return Object.values(synth.template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
      roles: (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref),
      statement,
    })),
  );
}

function variablesOf(fnId: string): Record<string, unknown> {
  return synth.template.findResources('AWS::Lambda::Function')[fnId]?.Properties.Environment?.Variables ?? {};
}

describe('audit export bucket', () => {
  const bucketId = () => id(synth.stack.auditExports.bucket);

  it('is private, encrypted, versioned, logged, and expires bundles through a lifecycle', () => {
    const bucket = synth.template.findResources('AWS::S3::Bucket')[bucketId()]!;
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: id(synth.stack.auditExports.accessLogs) },
        LogFilePrefix: 'exports/',
      },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            Status: 'Enabled',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            ExpirationInDays: ENVIRONMENTS.dev.exports.expireAfter.toDays(),
            Transitions: [
              {
                StorageClass: 'STANDARD_IA',
                TransitionInDays: ENVIRONMENTS.dev.exports.infrequentAccessAfter.toDays(),
              },
            ],
          }),
        ],
      },
    });
    // audit evidence: kept when the stack goes, in every environment
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('denies every request that is not over TLS, on both buckets', () => {
    for (const bucket of [synth.stack.auditExports.bucket, synth.stack.auditExports.accessLogs]) {
      synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id(bucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });
});

describe('audit signing key', () => {
  it('is an asymmetric ECC_NIST_P256 key for signing only, kept on stack deletion', () => {
    const keys = synth.template.findResources('AWS::KMS::Key');
    const key = keys[id(synth.stack.auditExports.signingKey)]!;
    expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect(key.Properties.EnableKeyRotation).not.toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
  });

  it('lets the function named `audit`, if the table has one, sign and read the public key - nothing more, no one else', () => {
    const keyArn = JSON.stringify({ 'Fn::GetAtt': [id(synth.stack.auditExports.signingKey), 'Arn'] });
    const onKey = statements().filter(({ statement }) => JSON.stringify(statement.Resource).includes(keyArn));
    const audit = synth.stack.restApi.functions.audit;
    if (audit === undefined) {
      expect(onKey).toEqual([]);
      return;
    }
    expect(onKey).toEqual([
      {
        roles: [id(audit.role!)],
        statement: { Effect: 'Allow', Action: ['kms:GetPublicKey', 'kms:Sign'], Resource: expect.anything() },
      },
    ]);
  });

  it('gives the bucket and key to the `audit` function only, when it exists', () => {
    const bucketArn = JSON.stringify({ 'Fn::GetAtt': [id(synth.stack.auditExports.bucket), 'Arn'] });
    const onBucket = statements().filter(({ statement }) =>
      JSON.stringify(statement.Resource).includes(bucketArn),
    );
    const audit = synth.stack.restApi.functions.audit;
    expect([...new Set(onBucket.flatMap(({ roles }) => roles))]).toEqual(audit ? [id(audit.role!)] : []);
    for (const { statement } of onBucket) {
      for (const action of actionsOf(statement))
        expect(['s3:GetObject', 's3:PutObject', 's3:ListBucket']).toContain(action);
    }
    for (const [fnId] of Object.entries(synth.template.findResources('AWS::Lambda::Function'))) {
      const variables = variablesOf(fnId);
      const isAudit = audit !== undefined && fnId === id(audit);
      expect(variables.AUDIT_EXPORT_BUCKET, fnId).toEqual(
        isAudit ? { Ref: id(synth.stack.auditExports.bucket) } : undefined,
      );
      expect(variables.AUDIT_SIGNING_KMS_KEY_ID, fnId).toEqual(
        isAudit ? { 'Fn::GetAtt': [id(synth.stack.auditExports.signingKey), 'Arn'] } : undefined,
      );
    }
  });

  it('wires per-function extras only for functions the route table has', () => {
    expect(Object.keys(FUNCTION_WIRING).sort()).toEqual(['audit', 'queues']);
    expect(synth.stack.restApi.functions.queues).toBeDefined();
  });
});

describe('dead-letter queue redrive', () => {
  const redriveActions = ['sqs:StartMessageMoveTask', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'];

  it('lets the queues function, and only it, move messages out of the plan and fanout DLQs', () => {
    const queuesRole = id(synth.stack.restApi.functions.queues!.role!);
    const moving = statements().filter(({ statement }) =>
      actionsOf(statement).some((action) => action === 'sqs:StartMessageMoveTask'),
    );
    expect([...new Set(moving.flatMap(({ roles }) => roles))]).toEqual([queuesRole]);
    for (const pair of [synth.stack.queues.plan, synth.stack.queues.fanout]) {
      const dlqArn = { 'Fn::GetAtt': [id(pair.deadLetterQueue), 'Arn'] };
      const onDlq = statements().filter(
        ({ roles, statement }) =>
          roles.includes(queuesRole) && JSON.stringify(statement.Resource).includes(JSON.stringify(dlqArn)),
      );
      expect(onDlq.flatMap(({ statement }) => actionsOf(statement)).sort()).toEqual(
        [...redriveActions, 'sqs:GetQueueAttributes'].sort(),
      );
      const queueArn = { 'Fn::GetAtt': [id(pair.queue), 'Arn'] };
      const onQueue = statements().filter(
        ({ roles, statement }) =>
          roles.includes(queuesRole) && JSON.stringify(statement.Resource).includes(JSON.stringify(queueArn)),
      );
      expect(onQueue.flatMap(({ statement }) => actionsOf(statement))).toEqual(
        expect.arrayContaining(['sqs:SendMessage', 'sqs:GetQueueAttributes']),
      );
      expect(onQueue.flatMap(({ statement }) => actionsOf(statement))).not.toContain('sqs:ReceiveMessage');
    }
  });

  it('gives the queues function both queue URLs and both DLQ URLs, and no other function a DLQ URL', () => {
    const queuesFn = id(synth.stack.restApi.functions.queues!);
    const { plan, fanout } = synth.stack.queues;
    expect(variablesOf(queuesFn)).toMatchObject({
      PLAN_QUEUE_URL: { Ref: id(plan.queue) },
      PLAN_DLQ_URL: { Ref: id(plan.deadLetterQueue) },
      FANOUT_QUEUE_URL: { Ref: id(fanout.queue) },
      FANOUT_DLQ_URL: { Ref: id(fanout.deadLetterQueue) },
    });
    for (const fnId of Object.keys(synth.template.findResources('AWS::Lambda::Function'))) {
      if (fnId === queuesFn) continue;
      expect(variablesOf(fnId).PLAN_DLQ_URL, fnId).toBeUndefined();
      expect(variablesOf(fnId).FANOUT_DLQ_URL, fnId).toBeUndefined();
    }
  });
});

describe('scale guards', () => {
  it('caps the RDS Proxy pool at the budgeted share of max_connections', () => {
    synth.template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: Match.objectLike({
        MaxConnectionsPercent: ENVIRONMENTS.dev.connectionBudget.proxyMaxConnectionsPercent,
      }),
    });
  });

  it('sizes each container pool (DB_POOL_MAX) by its family', () => {
    const { restApi, webSocketApi, ticks } = synth.stack;
    for (const [name, fn] of Object.entries(restApi.functions)) {
      expect(variablesOf(id(fn)).DB_POOL_MAX, name).toBe(
        name === 'streams'
          ? String(CONNECTIONS_PER_CONTAINER.stream)
          : String(CONNECTIONS_PER_CONTAINER.rest),
      );
    }
    for (const fn of Object.values(webSocketApi.functions)) {
      expect(variablesOf(id(fn)).DB_POOL_MAX).toBe(String(CONNECTIONS_PER_CONTAINER.webSocket));
    }
    expect(variablesOf(id(ticks.function)).DB_POOL_MAX).toBe(String(CONNECTIONS_PER_CONTAINER.tick));
  });
});

describe('alarms and dashboard', () => {
  const alarms = () =>
    Object.values(synth.template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);

  it('watch every function for errors and throttles', () => {
    const fns = [...synth.stack.functions, synth.stack.authorizer.function];
    for (const fn of fns) {
      for (const metric of ['Errors', 'Throttles']) {
        const watching = alarms().filter(
          (alarm) =>
            alarm.Namespace === 'AWS/Lambda' &&
            alarm.MetricName === metric &&
            JSON.stringify(alarm.Dimensions) ===
              JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id(fn) } }]),
        );
        expect(watching, `${fn.node.path} ${metric}`).toHaveLength(1);
        expect(watching[0]).toMatchObject({
          Threshold: 1,
          Period: 300,
          Statistic: 'Sum',
          TreatMissingData: 'notBreaching',
        });
      }
    }
  });

  it('alarm on any message in the plan, fanout and tick dead-letter queues', () => {
    const { queues, ticks } = synth.stack;
    for (const dlq of [queues.plan.deadLetterQueue, queues.fanout.deadLetterQueue, ticks.deadLetterQueue]) {
      expect(
        alarms().filter(
          (alarm) =>
            alarm.MetricName === 'ApproximateNumberOfMessagesVisible' &&
            JSON.stringify(alarm.Dimensions).includes(
              JSON.stringify({ 'Fn::GetAtt': [id(dlq), 'QueueName'] }),
            ),
        ),
        dlq.node.path,
      ).toHaveLength(1);
    }
  });

  it('alarm on lease expiries, dead-letter growth and stream lag from the EMF metrics, with the environment thresholds', () => {
    const emf = (name: string) =>
      alarms().filter((alarm) => alarm.Namespace === METRICS_NAMESPACE && alarm.MetricName === name);
    const { alarms: thresholds } = ENVIRONMENTS.dev;
    expect(emf(METRIC.leasesExpired)).toEqual([
      expect.objectContaining({
        Statistic: 'Sum',
        Threshold: thresholds.leasesExpiredPer5Minutes,
        Dimensions: [{ Name: 'Service', Value: 'jobengine' }],
      }),
    ]);
    expect(emf(METRIC.deadLettered)).toEqual([
      expect.objectContaining({ Statistic: 'Sum', Threshold: thresholds.deadLetteredPer5Minutes }),
    ]);
    expect(emf(METRIC.streamLag)).toEqual([
      expect.objectContaining({
        ExtendedStatistic: 'p99',
        Threshold: thresholds.streamLagP99.toMilliseconds(),
      }),
    ]);
  });

  it('alarm on the REST API 5xx count and p99 latency', () => {
    const api = alarms().filter((alarm) => alarm.Namespace === 'AWS/ApiGateway');
    expect(api.map((alarm) => alarm.MetricName).sort()).toEqual(['5XXError', 'Latency']);
    expect(api.find((alarm) => alarm.MetricName === 'Latency')).toMatchObject({
      ExtendedStatistic: 'p99',
      Threshold: ENVIRONMENTS.dev.alarms.apiLatencyP99.toMilliseconds(),
    });
  });

  it('notify nobody unless a topic is given, and draw one dashboard', () => {
    for (const alarm of alarms()) expect(alarm.AlarmActions).toBeUndefined();
    const dashboards = synth.template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.values(dashboards).map((d) => d.Properties.DashboardName)).toEqual(['JobEngine-dev']);
    const body = JSON.stringify(Object.values(dashboards)[0]!.Properties.DashboardBody);
    for (const name of Object.values(METRIC)) expect(body, name).toContain(name);
    synth.template.hasOutput('DashboardName', {});
  });
});

describe('AuditExports.grantExporter', () => {
  it('grants named S3 actions, kms:Sign and kms:GetPublicKey only, and passes cdk-nag', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Exports');
    const exports = new AuditExports(stack, 'AuditExports');
    const fn = new JobEngineFunction(stack, 'AuditFunction', {
      entry: join(PROJECT_ROOT, 'functions/health/handler.ts'),
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      projectRoot: PROJECT_ROOT,
    });
    exports.grantExporter(fn);
    const template = Template.fromStack(stack);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const actions = policies
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
      .flatMap(actionsOf)
      .filter((action) => !action.startsWith('xray:'))
      .sort();
    expect(actions).toEqual([
      'kms:GetPublicKey',
      'kms:Sign',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          AUDIT_EXPORT_BUCKET: {
            Ref: stack.resolve(stack.getLogicalId(exports.bucket.node.defaultChild as CfnElement)),
          },
          AUDIT_SIGNING_KMS_KEY_ID: Match.anyValue(),
        }),
      },
    });
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources[0]?.constructPath}`)).toEqual(
      [],
    );
  });
});

describe('Monitoring with an alarm topic', () => {
  it('sends every alarm and its recovery to the topic', () => {
    const stack = new Stack(new App(), 'Monitored');
    const fn = new LambdaFunction(stack, 'Fn', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => {}'),
    });
    const api = new RestApi(stack, 'Api');
    api.root.addMethod('GET', new MockIntegration());
    const topic = new Topic(stack, 'Topic');
    const monitoring = new Monitoring(stack, 'Monitoring', {
      functions: { fn },
      queues: { work: new Queue(stack, 'Work') },
      deadLetterQueues: { work: new Queue(stack, 'WorkDlq') },
      restApi: api,
      alarmTopic: topic,
      streamLagP99: Duration.seconds(1),
    });
    const template = Template.fromStack(stack);
    // errors + throttles, one DLQ, lease expiries, dead-letter growth, stream lag, 5xx, latency
    expect(monitoring.alarms).toHaveLength(2 + 1 + 3 + 2);
    const topicRef = stack.resolve(topic.topicArn);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
      expect(alarm.Properties.OKActions).toEqual([topicRef]);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.streamLag,
      Threshold: 1000,
    });
  });
});
