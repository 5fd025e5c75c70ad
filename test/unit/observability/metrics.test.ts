import { afterEach, describe, expect, it } from 'vitest';
import { logger, setLogContext, withLogContext } from '../../../layers/core/src/observability/logger.ts';
import {
  configureMetrics,
  METRIC,
  METRICS_NAMESPACE,
  metricsOptionsFromEnv,
  recordApiLatency,
  recordCircuitState,
  recordLeasesGranted,
  recordQueueDepth,
  recordStreamLag,
  recordThrottleDecision,
} from '../../../layers/core/src/observability/metrics.ts';

afterEach(() => configureMetrics());

function capture(overrides: Parameters<typeof configureMetrics>[0] = {}): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  configureMetrics({
    enabled: true,
    service: 'jobengine',
    write: (line) => lines.push(JSON.parse(line)),
    ...overrides,
  });
  return lines;
}

describe('metrics (EMF)', () => {
  it('are off locally and on Lambda unless METRICS_ENABLED says otherwise', () => {
    expect(metricsOptionsFromEnv({}).enabled).toBe(false);
    expect(metricsOptionsFromEnv({ AWS_LAMBDA_FUNCTION_NAME: 'f' }).enabled).toBe(true);
    expect(metricsOptionsFromEnv({ AWS_LAMBDA_FUNCTION_NAME: 'f', METRICS_ENABLED: 'false' }).enabled).toBe(
      false,
    );
    expect(metricsOptionsFromEnv({ METRICS_ENABLED: '1' }).enabled).toBe(true);
    expect(metricsOptionsFromEnv({ METRICS_ENABLED: 'true' }).enabled).toBe(true);
  });

  it('write nothing while disabled', () => {
    const lines = capture({ enabled: false });
    recordLeasesGranted('acme', 3);
    recordApiLatency('GET /healthz', 200, 1.5);
    expect(lines).toEqual([]);
  });

  it('emit one EMF line per data point, service-wide and per tenant', () => {
    const lines = capture();
    recordLeasesGranted('acme', 3);
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toMatchObject({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [['Service'], ['Service', 'TenantId']],
            Metrics: [{ Name: METRIC.leasesGranted, Unit: 'Count' }],
          },
        ],
      },
      Service: 'jobengine',
      TenantId: 'acme',
      LeasesGranted: 3,
    });
  });

  it('skip empty counts but keep zero gauges', () => {
    const lines = capture();
    recordLeasesGranted('acme', 0);
    recordThrottleDecision('acme', 'throttled', 'quota', 0);
    recordCircuitState('acme', 'src-1', 'closed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ CircuitOpen: 0, SourceId: 'src-1', state: 'closed' });
  });

  it('carry every dimension value as a member of the line, and ids of unbounded cardinality as fields', () => {
    const lines = capture();
    recordQueueDepth('acme', 'scan', 12);
    recordThrottleDecision('acme', 'rejected', 'bucket');
    recordCircuitState('acme', 'src-1', 'open');
    recordStreamLag('acme', 250);
    recordApiLatency('POST /api/v1/runs', 201, 12.5);
    for (const line of lines) {
      const [directive] = (
        line._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] }
      ).CloudWatchMetrics;
      for (const dimension of directive!.Dimensions.flat()) expect(line, dimension).toHaveProperty(dimension);
      expect(typeof line[directive!.Metrics[0]!.Name]).toBe('number');
    }
    expect(lines[0]).toMatchObject({ JobType: 'scan', QueueDepth: 12 });
    expect(lines[1]).toMatchObject({ Decision: 'rejected', Reason: 'bucket', ThrottleDecisions: 1 });
    expect(lines[2]).toMatchObject({ CircuitOpen: 1 });
    expect(
      (lines[2]!._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!
        .Dimensions,
    ).toEqual([['Service'], ['Service', 'TenantId']]);
    expect(lines[3]).toMatchObject({ StreamLag: 250 });
    expect(lines[4]).toMatchObject({ Route: 'POST /api/v1/runs', status: 201, ApiLatency: 12.5 });
  });

  it('keep the tenant as a field only when METRICS_TENANT_DIMENSION=false', () => {
    const lines = capture({ tenantDimension: false });
    recordLeasesGranted('acme', 1);
    expect(lines[0]).toMatchObject({ TenantId: 'acme', LeasesGranted: 1 });
    expect(
      (lines[0]!._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!
        .Dimensions,
    ).toEqual([['Service']]);
  });

  it('never throw from a failing writer', () => {
    capture({
      write: () => {
        throw new Error('stdout closed');
      },
    });
    expect(() => recordLeasesGranted('acme', 1)).not.toThrow();
  });

  it('cost next to nothing while disabled (the worker hot path calls them)', () => {
    capture({ enabled: false });
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) recordLeasesGranted('acme', 1);
    expect(performance.now() - started).toBeLessThan(250);
  });
});

describe('log context', () => {
  it('adds the request ids to every line logged inside it, and nowhere else', async () => {
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    const originalErr = process.stderr.write.bind(process.stderr);
    const level = logger.getLevelName();
    logger.setLogLevel('INFO');
    const capture = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
    try {
      await Promise.all([
        withLogContext(async () => {
          setLogContext({ tenantId: 'acme', correlationId: 'c-1' });
          await new Promise((resolve) => setTimeout(resolve, 5));
          logger.info('first', { extra: 1 });
        }),
        withLogContext(async () => {
          setLogContext({ tenantId: 'globex', correlationId: 'c-2' });
          logger.warn('second', new Error('boom'));
        }),
      ]);
      logger.info('outside');
    } finally {
      process.stdout.write = original;
      process.stderr.write = originalErr;
      logger.setLogLevel(level);
    }
    const lines = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const byMessage = Object.fromEntries(lines.map((line) => [line.message, line]));
    expect(byMessage.first).toMatchObject({ tenantId: 'acme', correlationId: 'c-1', extra: 1 });
    expect(byMessage.second).toMatchObject({ tenantId: 'globex', correlationId: 'c-2' });
    expect(byMessage.second).toHaveProperty('error');
    expect(byMessage.outside).not.toHaveProperty('tenantId');
  });
});
