/**
 * Examples shown in the document: pagination, idempotent replays and errors. Unit tests validate each one
 * against the schema it illustrates, so an example cannot drift from the API.
 */
const TENANT = 'acme';
const at = (minute: number) => `2025-01-15T10:${String(minute).padStart(2, '0')}:00.000Z`;
const digest = `sha256:${'3f'.repeat(32)}`;

export const PAGE_TOKEN_EXAMPLE = 'eyJ2IjoxLCJzIjoic2hhMjU2OjljIiwiayI6WyIwMTkzIl19.q1w2e3r4t5y6u7i8o9p0aa';
export const IDEMPOTENCY_KEY_EXAMPLE = 'c1f4a3e2-7b8d-4c6e-9f0a-1b2c3d4e5f60';
const TRACE_ID = 'b6a1d0e4-2f1c-4c53-9a1e-0d9c7f3e2a10';

export const sourceExample = {
  id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  name: 'NVD advisories',
  type: 'advisory_feed',
  upstreamHost: 'services.nvd.nist.gov',
  projectId: 'vuln-intel',
  config: { pageSize: 2000 },
  enabled: true,
  paused: false,
  pauseReason: null,
  circuit: { state: 'closed', failures: 0, openedAt: null },
  version: 1,
  createdAt: at(0),
  updatedAt: at(0),
};

export const runExample = {
  id: '0193a1b2-d000-7e5f-8a9b-0c1d2e3f4a5b',
  kind: 'adhoc',
  status: 'planning',
  projectId: 'vuln-intel',
  sourceId: sourceExample.id,
  priority: 0,
  correlationId: 'ingest-2025-01-15',
  dagDigest: digest,
  labels: { trigger: 'manual' },
  jobs: { total: 0, succeeded: 0, failed: 0, canceled: 0 },
  criticalPath: null,
  createdBy: 'operator@acme',
  createdAt: at(1),
  updatedAt: at(1),
  startedAt: null,
  finishedAt: null,
};

export const jobExample = {
  id: '0193a1b2-e000-7e5f-8a9b-0c1d2e3f4a5b',
  runId: '0193a1b2-dfff-7e5f-8a9b-0c1d2e3f4a5b',
  key: 'job',
  type: 'feed.fetch',
  status: 'queued',
  priority: 0,
  payload: { page: 1 },
  payloadDigest: digest,
  attempt: 0,
  maxAttempts: 5,
  notBefore: at(2),
  lease: null,
  progress: null,
  result: null,
  lastError: null,
  reason: null,
  replayOf: null,
  sourceId: sourceExample.id,
  projectId: 'vuln-intel',
  correlationId: 'ingest-2025-01-15',
  createdAt: at(2),
  updatedAt: at(2),
  startedAt: null,
  finishedAt: null,
};

export const deadLetterExample = {
  id: '0193a1b2-f000-7e5f-8a9b-0c1d2e3f4a5b',
  jobId: jobExample.id,
  runId: jobExample.runId,
  jobType: 'feed.fetch',
  sourceId: sourceExample.id,
  errorCode: 'UPSTREAM_GONE',
  errorClass: 'upstream',
  retryable: false,
  message: 'HTTP 410 from upstream',
  attempts: 5,
  firstFailureAt: at(3),
  lastFailureAt: at(9),
  status: 'open',
  replayedJobId: null,
  resolvedBy: null,
  resolvedAt: null,
  createdAt: at(9),
};

export const packRunExample = {
  id: '0193a1b2-f100-7e5f-8a9b-0c1d2e3f4a5b',
  projectId: 'vuln-intel',
  pack: 'sbom-scan@1.4',
  params: { image: 'registry.example/app:1.2.3' },
  runId: '0193a1b2-f101-7e5f-8a9b-0c1d2e3f4a5b',
  jobId: '0193a1b2-f102-7e5f-8a9b-0c1d2e3f4a5b',
  status: 'queued',
  attempt: 0,
  progress: null,
  correlationId: 'scan-2025-01-15',
  createdBy: 'operator@acme',
  createdAt: at(4),
  updatedAt: at(4),
  startedAt: null,
  finishedAt: null,
};

/** A page that has a next page, for the list operations. */
export function pageExample(item: Record<string, unknown>) {
  return {
    summary: 'A page with more to come: pass next_page_token back as page_token',
    value: { items: [item], next_page_token: PAGE_TOKEN_EXAMPLE },
  };
}

export const lastPageExample = {
  summary: 'The last page',
  value: { items: [], next_page_token: null },
};

/** `summary` says what the request carried; both answers have the same body. */
export function createdExamples(resource: Record<string, unknown>) {
  return {
    created: { summary: 'First request with this Idempotency-Key', value: resource },
    replayed: {
      summary:
        'The same Idempotency-Key and body again: the first response is replayed, with the header ' +
        '`Idempotent-Replayed: true`, and nothing is created twice',
      value: resource,
    },
  };
}

export const errorExamples = {
  validationFailed: {
    summary: 'A request body that fails validation: every offending field is listed',
    value: {
      error: {
        code: 'VALIDATION_FAILED',
        message: 'invalid request body',
        trace_id: TRACE_ID,
        details: [
          { path: 'type', message: 'lowercase letters, digits, _ . - ; starting with a letter' },
          { path: '', message: 'Unrecognized key: "colour"' },
        ],
      },
    },
  },
  invalidPageToken: {
    summary: 'A page token that was edited, forged, or minted for other filters',
    value: {
      error: {
        code: 'INVALID_PAGE_TOKEN',
        message: 'page_token is invalid or belongs to another query',
        trace_id: TRACE_ID,
      },
    },
  },
  unauthenticated: {
    summary: 'No valid bearer token',
    value: { error: { code: 'UNAUTHENTICATED', message: 'token expired', trace_id: TRACE_ID } },
  },
  tenantRequired: {
    summary: 'No X-Stella-Tenant header',
    value: {
      error: { code: 'TENANT_REQUIRED', message: 'X-Stella-Tenant header is required', trace_id: TRACE_ID },
    },
  },
  notFound: {
    summary: 'An id that does not exist in this tenant (ids of other tenants answer the same)',
    value: {
      error: {
        code: 'NOT_FOUND',
        message: 'job 0193a1b2-0000-7000-8000-000000000000 not found',
        trace_id: TRACE_ID,
      },
    },
  },
  idempotencyKeyReused: {
    summary: 'The same Idempotency-Key with a different body',
    value: {
      error: {
        code: 'IDEMPOTENCY_KEY_REUSED',
        message: 'Idempotency-Key was used with a different request',
        trace_id: TRACE_ID,
      },
    },
  },
  rateLimited: {
    summary: 'Backpressure: retry after Retry-After seconds',
    value: { error: { code: 'RATE_LIMITED', message: 'too many requests', trace_id: TRACE_ID } },
  },
  databaseUnavailable: {
    summary: 'The database is unreachable: retry after Retry-After seconds',
    value: {
      error: {
        code: 'DATABASE_UNAVAILABLE',
        message: 'the database is unavailable; retry later',
        trace_id: TRACE_ID,
      },
    },
  },
} as const;

export const EXAMPLE_TENANT = TENANT;
