import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, type MetricName } from '../../layers/core/src/observability/metrics.ts';

export interface MonitoringThresholds {
  /** p99 of API Gateway's Latency; @default 2 s */
  readonly apiLatencyP99?: Duration;
  /** @default 20 */
  readonly deadLetteredPer5Minutes?: number;
  /** @default 50 */
  readonly leasesExpiredPer5Minutes?: number;
  /** @default 5 s */
  readonly streamLagP99?: Duration;
  /** API Gateway 5XXError per 5 minutes; @default 5 */
  readonly api5xxPer5Minutes?: number;
}

export interface MonitoringProps extends MonitoringThresholds {
  /** every function to watch for errors and throttles, by a short name used in alarm names */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** work queues (their age of oldest message is charted) by name */
  readonly queues: Readonly<Record<string, IQueue>>;
  /** dead-letter queues: any message in one raises an alarm */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  readonly restApi: RestApi;
  /** the `Service` dimension of the EMF metrics (POWERTOOLS_SERVICE_NAME); @default 'jobengine' */
  readonly service?: string;
  /** where alarms notify (alarm and OK); none: alarms only show in the console */
  readonly alarmTopic?: ITopic;
  /** @default 'JobEngine' */
  readonly dashboardName?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * CloudWatch alarms and one dashboard for the control plane: Lambda errors and throttles per function,
 * dead-letter queue depth, the EMF metrics the core emits (lease expiries, dead-letter growth, stream lag;
 * layers/core/src/observability/metrics.ts), API Gateway 5xx and latency. Missing data never alarms: a
 * quiet system is a healthy one. With `alarmTopic`, every alarm notifies it on ALARM and on OK.
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  private readonly service: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.service = props.service ?? 'jobengine';
    const alarm = (alarmId: string, description: string, metric: IMetric, threshold: number) => {
      const created = new Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) {
        created.addAlarmAction(new SnsAction(props.alarmTopic));
        created.addOkAction(new SnsAction(props.alarmTopic));
      }
      this.alarms.push(created);
      return created;
    };

    for (const [name, fn] of Object.entries(props.functions)) {
      const label = pascal(name);
      alarm(
        `${label}Errors`,
        `${name}: invocations failed (uncaught errors, timeouts)`,
        fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
      );
      alarm(
        `${label}Throttles`,
        `${name}: invocations throttled (reserved or account concurrency exhausted)`,
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
      );
    }
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${pascal(name)}DeadLetterQueueDepth`,
        `${name} dead-letter queue holds messages: inspect, fix, then POST /api/v1/queues/{name}:redrive`,
        queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        1,
      );
    }
    alarm(
      'LeaseExpiries',
      'Leases expiring: workers die or hang, or lease times are too short for the work',
      this.metric(METRIC.leasesExpired, 'Sum'),
      props.leasesExpiredPer5Minutes ?? 50,
    );
    alarm(
      'DeadLetterGrowth',
      'Jobs dead-lettered faster than usual: look at GET /api/v1/deadletter/stats',
      this.metric(METRIC.deadLettered, 'Sum'),
      props.deadLetteredPer5Minutes ?? 20,
    );
    alarm(
      'StreamLag',
      'Events reach WebSocket subscribers late: broadcaster throttled, fanout queue backed up, or database slow',
      this.metric(METRIC.streamLag, 'p99'),
      (props.streamLagP99 ?? Duration.seconds(5)).toMilliseconds(),
    );
    alarm(
      'Api5xx',
      'REST API answers 5xx (function errors, timeouts, or the gateway itself)',
      props.restApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      props.api5xxPer5Minutes ?? 5,
    );
    alarm(
      'ApiLatency',
      'REST API p99 latency above target',
      props.restApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
      (props.apiLatencyP99 ?? Duration.seconds(2)).toMilliseconds(),
    );

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'JobEngine',
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 8, height: 6 });
    const functions = Object.entries(props.functions);
    this.dashboard.addWidgets(
      graph(
        'REST API: requests and 5xx',
        [props.restApi.metricCount({ period: FIVE_MINUTES })],
        [
          props.restApi.metricServerError({ period: FIVE_MINUTES }),
          props.restApi.metricClientError({ period: FIVE_MINUTES }),
        ],
      ),
      graph('REST API: latency p50 / p99', [
        props.restApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }),
        props.restApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
        this.metric(METRIC.apiLatency, 'p99', 'in-function p99'),
      ]),
      graph(
        'Leases: granted / expired',
        [this.metric(METRIC.leasesGranted, 'Sum')],
        [this.metric(METRIC.leasesExpired, 'Sum')],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Queued jobs (all tenants) and dead letters',
        [this.metric(METRIC.queueDepth, 'Sum')],
        [this.metric(METRIC.deadLetterSize, 'Sum'), this.metric(METRIC.deadLettered, 'Sum')],
      ),
      graph(
        'Flow control: decisions and open circuits',
        [this.metric(METRIC.throttleDecisions, 'Sum')],
        [this.metric(METRIC.circuitOpen, 'Sum')],
      ),
      graph('Stream lag p50 / p99', [
        this.metric(METRIC.streamLag, 'p50'),
        this.metric(METRIC.streamLag, 'p99'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Function errors',
        functions.map(([name, fn]) => fn.metricErrors({ period: FIVE_MINUTES, label: name })),
      ),
      graph(
        'Function throttles',
        functions.map(([name, fn]) => fn.metricThrottles({ period: FIVE_MINUTES, label: name })),
      ),
      graph(
        'Queues: oldest message age / dead letters',
        Object.entries(props.queues).map(([name, queue]) =>
          queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, label: name }),
        ),
        Object.entries(props.deadLetterQueues).map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, label: `${name} DLQ` }),
        ),
      ),
    );
  }

  /** A JobEngine EMF metric in its service-wide dimension set (what every data point is emitted in). */
  metric(name: MetricName, statistic: string, label?: string): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { Service: this.service },
      statistic,
      period: FIVE_MINUTES,
      ...(label === undefined ? {} : { label }),
    });
  }
}

function pascal(name: string): string {
  return name.replace(/(^|[-_\s]+)(\w)/g, (_, __, letter: string) => letter.toUpperCase());
}
