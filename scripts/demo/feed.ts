import type { CreateRun, CreateSource, JobSpec, RetryPolicy } from './api.ts';

/**
 * The demo's workload: ingesting the NVD CVE feed in hourly windows. Each run is one window, planned as
 *
 *   fetch-feed → parse → normalize-0..3 (fan-out over result pages) → merge → export
 *
 * The payloads are what a real ingestion would carry (feed URL, window, page cursors, target schema), so the
 * Console, the DAG view and dead letters show realistic data.
 */

export const FEED_URL = 'https://services.nvd.nist.gov/rest/json/cves/2.0';
export const PAGE_SIZE = 2000;
export const SHARDS = 4;

export const JOB_TYPES = {
  fetch: 'feed.fetch',
  parse: 'feed.parse',
  normalize: 'advisory.normalize',
  merge: 'advisory.merge',
  export: 'export.bundle',
} as const;

export const DEMO_SOURCE: CreateSource = {
  name: 'nvd-demo',
  type: 'advisory.nvd',
  upstreamHost: 'services.nvd.nist.gov',
  config: {
    feed: 'nvd-cve-2.0',
    baseUrl: FEED_URL,
    resultsPerPage: PAGE_SIZE,
    apiKeySecret: 'jobengine/demo/nvd-api-key',
    note: 'created by npm run demo; workers are simulated, nothing is fetched',
  },
};

/**
 * Short backoffs so retries happen while the demo watches: 200 ms, 400 ms, … capped at 2 s. Three attempts:
 * a job that times out three times in a row ends as a dead letter.
 */
export const DEMO_RETRY: RetryPolicy = { maxAttempts: 3, baseMs: 200, capMs: 2_000, jitter: 0.5 };

export interface Window {
  from: string;
  to: string;
}

/** `count` consecutive hourly windows ending at the last full hour before `now`, oldest first. */
export function hourlyWindows(count: number, now: Date): Window[] {
  const end = new Date(now);
  end.setUTCMinutes(0, 0, 0);
  return Array.from({ length: count }, (_, index) => {
    const to = new Date(end.getTime() - (count - 1 - index) * 3_600_000);
    const from = new Date(to.getTime() - 3_600_000);
    return { from: from.toISOString(), to: to.toISOString() };
  });
}

/** One run per window; the newest window gets the highest priority (fresh advisories matter most). */
export function buildRuns(count: number, sourceId: string, now: Date): CreateRun[] {
  const windows = hourlyWindows(count, now);
  return windows.map((window, index) => buildRun(window, sourceId, 10 + index, index === count - 1));
}

function buildRun(window: Window, sourceId: string, priority: number, latest: boolean): CreateRun {
  const feed = 'nvd-cve-2.0';
  const normalizeKeys = Array.from({ length: SHARDS }, (_, shard) => `normalize-${shard}`);
  const jobs: JobSpec[] = [
    {
      key: 'fetch-feed',
      type: JOB_TYPES.fetch,
      payload: {
        feed,
        url: FEED_URL,
        params: { lastModStartDate: window.from, lastModEndDate: window.to, noRejected: true },
        window,
        cursor: { startIndex: 0, resultsPerPage: PAGE_SIZE },
        pages: SHARDS,
        conditional: { ifModifiedSince: window.from },
      },
      // The upstream is the flaky part: one more attempt than the rest.
      retry: { ...DEMO_RETRY, maxAttempts: 4 },
    },
    {
      key: 'parse',
      type: JOB_TYPES.parse,
      dependsOn: ['fetch-feed'],
      payload: { feed, format: 'nvd-json-2.0', strict: true, window },
      retry: DEMO_RETRY,
    },
    ...normalizeKeys.map(
      (key, shard): JobSpec => ({
        key,
        type: JOB_TYPES.normalize,
        dependsOn: ['parse'],
        payload: {
          feed,
          shard,
          shards: SHARDS,
          pageCursor: { startIndex: shard * PAGE_SIZE, resultsPerPage: PAGE_SIZE },
          targetSchema: 'osv-1.6.0',
          enrich: ['cpe-match', 'kev', 'epss'],
          window,
        },
        retry: DEMO_RETRY,
      }),
    ),
    {
      key: 'merge',
      type: JOB_TYPES.merge,
      dependsOn: normalizeKeys,
      payload: { feed, strategy: 'latest-modified-wins', dedupeBy: ['id', 'aliases'], window },
      retry: DEMO_RETRY,
    },
    {
      key: 'export',
      type: JOB_TYPES.export,
      dependsOn: ['merge'],
      // Publishing is what consumers wait for: ahead of the rest of the run.
      priority: priority + 5,
      payload: {
        feed,
        format: 'jobengine.advisory-bundle.v1',
        destination: `s3://demo/exports/${feed}/${window.from.slice(0, 13)}Z/`,
        compression: 'gzip',
        window,
      },
      retry: DEMO_RETRY,
    },
  ];
  return {
    jobs,
    priority,
    sourceId,
    labels: {
      app: 'jobengine-demo',
      feed,
      window: `${window.from}/${window.to}`,
      ...(latest ? { freshness: 'latest' } : {}),
    },
  };
}
