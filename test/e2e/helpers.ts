import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type RunningRuntime, startLocalRuntime } from '../support/local-runtime.ts';

/** Shared plumbing of the e2e files: one runtime per file, a fetch wrapper, polling with deadlines. */

export interface CallOptions {
  /** Bearer token; `null` sends none. Defaults to the file's default token. */
  token?: string | null;
  /** `X-Stella-Tenant`; `null` sends none. Defaults to the file's default tenant. */
  tenant?: string | null;
  body?: unknown;
  /** A raw body, sent as is (with a JSON content type unless `headers` says otherwise). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface E2e {
  t: TestDatabase;
  runtime: RunningRuntime;
  call: ReturnType<typeof httpCaller>;
  stop(): Promise<void>;
}

/** Clones a test database and starts `local/main.ts` against it. */
export async function startE2e(
  defaults: { tenant: string; tokenTenants?: string[] | '*' },
  env: Record<string, string> = {},
): Promise<E2e> {
  const t = await createTestDatabase();
  let runtime: RunningRuntime | undefined;
  try {
    runtime = await startLocalRuntime(t.url, env);
  } catch (error) {
    await t.drop();
    throw error;
  }
  const token = await runtime.token({ tenants: defaults.tokenTenants ?? [defaults.tenant] });
  const started = runtime;
  return {
    t,
    runtime,
    call: httpCaller(runtime.url, { token, tenant: defaults.tenant }),
    async stop() {
      await started.stop();
      await t.drop();
    },
  };
}

/** A fetch wrapper that answers status, headers and parsed JSON. */
export function httpCaller(baseUrl: string, defaults: { token: string; tenant: string }) {
  return async (method: string, path: string, options: CallOptions = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== null) headers.Authorization = `Bearer ${options.token ?? defaults.token}`;
    if (options.tenant !== null) headers['X-Stella-Tenant'] = options.tenant ?? defaults.tenant;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let json = text ? safeJson(text) : undefined;
    if (json === undefined && text) json = { unparsed: text };
    return { status: response.status, headers: response.headers, json };
  };
}

function safeJson(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The error envelope of DESIGN §8 with the given status and code. */
export function expectEnvelope(result: { status: number; json: unknown }, status: number, code: string) {
  expect(result.status, JSON.stringify(result.json)).toBe(status);
  expect(result.json).toMatchObject({
    error: { code, message: expect.any(String), trace_id: expect.any(String) },
  });
}

/** Calls `read` until `done` holds for its answer, or fails after `timeoutMs` with the last answer. */
export async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `sha256:` + hex of the canonical JSON (keys sorted, recursively) of a value: the payload digest. */
export function payloadDigest(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonical(value)).digest('hex')}`;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Every job transition in the database has exactly one `job.<status>` event, with the idempotency key
 * `orch-job.<status>-<jobId>-<attempt>` (DESIGN §6, §9): compares history rows and job events per job.
 * Returns the per-job mismatches (empty when the invariant holds) and how many jobs were checked.
 */
export async function eventHistoryMismatches(t: TestDatabase, jobIds?: string[]) {
  const states = [
    'pending',
    'queued',
    'throttled',
    'leased',
    'running',
    'succeeded',
    'failed',
    'canceled',
    'dead_lettered',
  ];
  const history = await t.admin.query<{ job_id: string; status: string; attempt: number }>(
    `SELECT job_id::text, to_status AS status, attempt FROM job_history
      WHERE $1::text[] IS NULL OR job_id::text = ANY($1::text[]) ORDER BY job_id, id`,
    [jobIds ?? null],
  );
  const events = await t.admin.query<{
    job_id: string;
    status: string;
    attempt: number;
    idempotency_key: string;
  }>(
    `SELECT subject_id AS job_id, substr(event_type, 5) AS status,
            (data->>'attempt')::int AS attempt, idempotency_key
       FROM events
      WHERE subject_kind = 'job' AND event_type = ANY($2::text[])
        AND ($1::text[] IS NULL OR subject_id = ANY($1::text[]))
      ORDER BY subject_id, seq`,
    [jobIds ?? null, states.map((s) => `job.${s}`)],
  );
  const key = (r: { status: string; attempt: number }) => `${r.status}#${r.attempt}`;
  const byJob = new Map<string, { history: string[]; events: string[]; badKeys: string[] }>();
  const entry = (id: string) => {
    let e = byJob.get(id);
    if (!e) {
      e = { history: [], events: [], badKeys: [] };
      byJob.set(id, e);
    }
    return e;
  };
  for (const row of history.rows) entry(row.job_id).history.push(key(row));
  for (const row of events.rows) {
    const e = entry(row.job_id);
    e.events.push(key(row));
    const expected = `orch-job.${row.status}-${row.job_id}-${row.attempt}`;
    if (row.idempotency_key !== expected) e.badKeys.push(`${row.idempotency_key} != ${expected}`);
  }
  const mismatches: Record<string, { history: string[]; events: string[]; badKeys: string[] }> = {};
  for (const [id, e] of byJob) {
    const sortedHistory = [...e.history].sort();
    const sortedEvents = [...e.events].sort();
    if (e.badKeys.length > 0 || JSON.stringify(sortedHistory) !== JSON.stringify(sortedEvents)) {
      mismatches[id] = e;
    }
  }
  return { checked: byJob.size, historyRows: history.rowCount ?? 0, mismatches };
}
