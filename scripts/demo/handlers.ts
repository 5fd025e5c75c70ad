import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Artifact,
  type JobContext,
  type JobHandler,
  type LeasedJob,
  PermanentError,
  RetryableError,
} from '../../sdk/worker/src/index.ts';
import { FEED_URL, JOB_TYPES, PAGE_SIZE } from './feed.ts';

/**
 * Simulated handlers of the advisory pipeline. Each one "works" for 50–400 ms in a few steps, reports
 * progress after each, and returns a result plus a content-addressed artifact whose bytes are generated
 * from the job's payload (so a repeated attempt produces the same digest, as real content addressing would).
 *
 * Failures are injected per attempt at `failureRate`: mostly `UPSTREAM_TIMEOUT` (retryable, class
 * `upstream`), which the control plane requeues with backoff; parse and normalize sometimes find a
 * `MALFORMED_FEED` (permanent, class `validation`), which dead-letters the job and cancels its descendants.
 */

export interface InjectedFailures {
  UPSTREAM_TIMEOUT: number;
  MALFORMED_FEED: number;
}

/** A failure a handler injected, as the worker saw it. */
export interface InjectedFailure {
  jobId: string;
  runId: string;
  key: string;
  attempt: number;
  code: keyof InjectedFailures;
  errorClass: 'upstream' | 'validation';
  /** What the control plane announced at lease time: another attempt follows this one. */
  willRetry: boolean;
}

export interface HandlerOptions {
  failureRate: number;
  /** Called as a handler throws an injected failure. */
  onFailure?: (failure: InjectedFailure) => void;
  /** Share of injected failures that are permanent, where a malformed input makes sense. Default 0.3. */
  permanentShare?: number;
  random?: () => number;
}

export function createHandlers(options: HandlerOptions): {
  handlers: Record<string, JobHandler>;
  injected: InjectedFailures;
} {
  const random = options.random ?? Math.random;
  const permanentShare = options.permanentShare ?? 0.3;
  const injected: InjectedFailures = { UPSTREAM_TIMEOUT: 0, MALFORMED_FEED: 0 };

  /** Runs `steps` slices of simulated work, failing in the middle of it when the dice say so. */
  const simulate = async (
    job: LeasedJob,
    ctx: JobContext,
    steps: string[],
    canBeMalformed: boolean,
  ): Promise<void> => {
    const total = 50 + Math.floor(random() * 350);
    const fails = random() < options.failureRate;
    const failAt = fails ? Math.floor(random() * steps.length) : -1;
    const permanent = fails && canBeMalformed && random() < permanentShare;
    for (const [index, step] of steps.entries()) {
      await delay(total / steps.length, undefined, { signal: ctx.signal });
      if (index === failAt) {
        const code = permanent ? 'MALFORMED_FEED' : 'UPSTREAM_TIMEOUT';
        injected[code]++;
        options.onFailure?.({
          jobId: job.jobId,
          runId: job.runId,
          key: job.key,
          attempt: job.attempt,
          code,
          errorClass: permanent ? 'validation' : 'upstream',
          willRetry: !permanent && job.retry.willRetry,
        });
        if (permanent) {
          throw new PermanentError(
            'MALFORMED_FEED',
            `${step}: record ${recordIdAt(job, index)} is not valid NVD CVE JSON 2.0 (missing "cve.id")`,
            { errorClass: 'validation' },
          );
        }
        throw new RetryableError(
          'UPSTREAM_TIMEOUT',
          `${step}: services.nvd.nist.gov did not answer within 30 s (attempt ${job.attempt}/${job.maxAttempts})`,
          { errorClass: 'upstream' },
        );
      }
      await ctx.progress({
        percent: Math.round(((index + 1) / steps.length) * 100),
        message: step,
      });
    }
  };

  const handlers: Record<string, JobHandler> = {
    [JOB_TYPES.fetch]: async (job, ctx) => {
      const pages = numberOr(job.payload.pages, 4);
      await simulate(
        job,
        ctx,
        Array.from({ length: pages }, (_, page) => `GET ${FEED_URL}?startIndex=${page * PAGE_SIZE}`),
        false,
      );
      const records = advisories(job, 20 + pages * 8);
      const body = JSON.stringify({
        format: 'NVD_CVE',
        version: '2.0',
        resultsPerPage: PAGE_SIZE,
        startIndex: 0,
        totalResults: records.length,
        vulnerabilities: records.map((record) => ({ cve: record })),
      });
      return {
        result: { pages, records: records.length, notModified: false },
        artifacts: [artifact(job, 'feed.raw', 'application/json', 'json', body)],
      };
    },

    [JOB_TYPES.parse]: async (job, ctx) => {
      await simulate(job, ctx, ['validate envelope', 'parse records', 'index by CVE id'], true);
      const records = advisories(job, 40);
      const body = records.map((record) => JSON.stringify(record)).join('\n');
      return {
        result: { records: records.length, rejected: 0, schema: 'nvd-json-2.0' },
        artifacts: [artifact(job, 'feed.parsed', 'application/x-ndjson', 'ndjson', body)],
      };
    },

    [JOB_TYPES.normalize]: async (job, ctx) => {
      await simulate(job, ctx, ['map to OSV', 'match CPEs', 'enrich KEV/EPSS'], true);
      const records = advisories(job, 10).map((record) => ({
        schema_version: '1.6.0',
        id: record.id,
        modified: record.lastModified,
        published: record.published,
        summary: record.descriptions[0]?.value,
        severity: [{ type: 'CVSS_V3', score: record.cvss.vectorString }],
        database_specific: { source: 'nvd', baseScore: record.cvss.baseScore },
      }));
      const body = records.map((record) => JSON.stringify(record)).join('\n');
      return {
        result: { shard: numberOr(job.payload.shard, 0), normalized: records.length },
        artifacts: [artifact(job, 'advisories.osv', 'application/x-ndjson', 'ndjson', body)],
      };
    },

    [JOB_TYPES.merge]: async (job, ctx) => {
      await simulate(job, ctx, ['load shards', 'dedupe by alias', 'resolve conflicts'], false);
      const records = advisories(job, 36);
      const body = JSON.stringify({
        strategy: job.payload.strategy ?? 'latest-modified-wins',
        advisories: records,
      });
      return {
        result: { merged: records.length, duplicates: Math.floor(records.length / 9) },
        artifacts: [artifact(job, 'advisories.merged', 'application/json', 'json', body)],
      };
    },

    [JOB_TYPES.export]: async (job, ctx) => {
      await simulate(job, ctx, ['assemble bundle', 'write manifest', 'upload'], false);
      const records = advisories(job, 36);
      const files = records.map((record) => ({
        path: `advisories/${record.id}.json`,
        digest: sha256(record.id),
      }));
      const body = JSON.stringify({
        format: 'jobengine.advisory-bundle.v1',
        window: job.payload.window,
        files,
      });
      return {
        result: { advisories: records.length, bundle: `s3://demo/${job.runId}/export/bundle.json` },
        artifacts: [artifact(job, 'bundle', 'application/vnd.jobengine.bundle+json', 'json', body)],
      };
    },
  };

  return { handlers, injected };
}

/** An artifact whose digest and size are those of `body`, stored (notionally) under the run. */
function artifact(
  job: LeasedJob,
  kind: string,
  mediaType: string,
  extension: string,
  body: string,
): Artifact {
  const digest = `sha256:${sha256(body)}`;
  return {
    uri: `s3://demo/${job.runId}/${job.key}/${digest.slice(7, 19)}.${extension}`,
    digest,
    sizeBytes: Buffer.byteLength(body),
    mediaType,
    kind,
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}

const SEVERITIES = [
  ['LOW', 3.1],
  ['MEDIUM', 5.4],
  ['MEDIUM', 6.5],
  ['HIGH', 7.5],
  ['HIGH', 8.8],
  ['CRITICAL', 9.8],
] as const;

const PRODUCTS = [
  'openssl',
  'libxml2',
  'curl',
  'log4j-core',
  'nginx',
  'zlib',
  'sudo',
  'glibc',
  'expat',
  'pillow',
];

/** Deterministic fake advisories for a job: seeded by its payload digest, so every attempt agrees. */
function advisories(job: LeasedJob, count: number) {
  const next = seeded(job.payloadDigest);
  const window = job.payload.window as { from?: string } | undefined;
  const modified = typeof window?.from === 'string' ? window.from : '2025-01-01T00:00:00.000Z';
  return Array.from({ length: count }, () => {
    const [baseSeverity, baseScore] = SEVERITIES[Math.floor(next() * SEVERITIES.length)]!;
    const product = PRODUCTS[Math.floor(next() * PRODUCTS.length)]!;
    const id = `CVE-2025-${String(10_000 + Math.floor(next() * 89_999))}`;
    return {
      id,
      sourceIdentifier: 'cve@mitre.org',
      published: modified,
      lastModified: modified,
      vulnStatus: 'Analyzed',
      descriptions: [{ lang: 'en', value: `A flaw in ${product} allows a remote attacker to cause harm.` }],
      cvss: {
        version: '3.1',
        baseScore,
        baseSeverity,
        vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      },
    };
  });
}

function recordIdAt(job: LeasedJob, index: number): string {
  return `CVE-2025-${String(10_000 + ((parseInt(job.payloadDigest.slice(7, 13), 16) + index) % 89_999))}`;
}

/** mulberry32 seeded from a `sha256:` digest. */
function seeded(digest: string): () => number {
  let state = parseInt(digest.slice(7, 15), 16) >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
