import { setTimeout as delay } from 'node:timers/promises';

/**
 * The few control-plane routes the demo calls besides the worker bridge (which the SDK covers): sources,
 * runs, the DAG view and dead-letter stats. A deliberately small client, so the demo reads as an example of
 * the REST API (DESIGN §8) rather than of a library.
 */

/** An error answer (`{"error":{"code","message","trace_id"}}`) or a failure to get one. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | undefined,
    readonly traceId: string | undefined,
    readonly route: string,
  ) {
    super(message);
  }

  /** Worth another try: no answer, 429 or a gateway/availability error. */
  get transient(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 502;
  }

  toJSON() {
    return {
      code: this.code,
      message: this.message,
      status: this.status ?? null,
      trace_id: this.traceId ?? null,
    };
  }
}

export interface Page<T> {
  items: T[];
  next_page_token: string | null;
}

export interface Source {
  id: string;
  name: string;
  type: string;
  upstreamHost: string;
  enabled: boolean;
  paused: boolean;
  pauseReason: string | null;
  circuit: { state: string };
}

export interface CreateSource {
  name: string;
  type: string;
  upstreamHost: string;
  config?: Record<string, unknown>;
}

export interface RetryPolicy {
  maxAttempts?: number;
  baseMs?: number;
  capMs?: number;
  jitter?: number;
  deadLetter?: boolean;
}

export interface JobSpec {
  key: string;
  type: string;
  payload: Record<string, unknown>;
  priority?: number;
  dependsOn?: string[];
  retry?: RetryPolicy;
}

export interface CreateRun {
  jobs: JobSpec[];
  priority: number;
  sourceId?: string;
  labels?: Record<string, string>;
}

export type RunStatus = 'planning' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface Run {
  id: string;
  status: RunStatus;
  priority: number;
  labels: Record<string, string>;
  jobs: { total: number; succeeded: number; failed: number; canceled: number };
  criticalPath: string[] | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface DagJob {
  id: string;
  key: string;
  type: string;
  status: string;
  attempt: number;
  topoIndex: number;
  depth: number;
  onCriticalPath: boolean;
}

export interface RunDag {
  run: Run;
  jobs: DagJob[];
  edges: { parent: string; child: string }[];
  criticalPath: string[];
}

export interface DeadLetterStats {
  counts: { open: number; replayed: number; discarded: number };
  oldestOpenAt: string | null;
  topErrors: {
    errorCode: string;
    jobType: string;
    errorClass: string;
    count: number;
    lastFailureAt: string;
  }[];
}

export interface ControlPlaneOptions {
  baseUrl: string;
  token: string;
  tenant: string;
  /** Per try. Default 10 s. */
  timeoutMs?: number;
  /** Tries of a transient failure, the first included. Default 4. */
  maxAttempts?: number;
}

export class ControlPlane {
  readonly #baseUrl: string;
  readonly #token: string;
  readonly #tenant: string;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;

  constructor(options: ControlPlaneOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#tenant = options.tenant;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxAttempts = options.maxAttempts ?? 4;
  }

  /** `GET /readyz`, unauthenticated: tells "nothing listens there" apart from "the token is wrong". */
  async ready(): Promise<void> {
    await this.#request('GET', '/readyz', undefined, false);
  }

  /**
   * The source named `spec.name`, created when missing. Lists carry no name filter, so the lookup filters
   * by type and host and matches the name here; a 409 ALREADY_EXISTS (a source of that name with another
   * type or host, or a concurrent demo) falls back to scanning every source of the tenant.
   */
  async ensureSource(spec: CreateSource): Promise<{ source: Source; created: boolean }> {
    const filter = { type: spec.type, upstream_host: spec.upstreamHost };
    const existing = await this.findSource(spec.name, filter);
    if (existing) return { source: existing, created: false };
    try {
      const source = await this.#request<Source>('POST', '/api/v1/sources', spec);
      return { source, created: true };
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'ALREADY_EXISTS') throw error;
      const found = await this.findSource(spec.name, {});
      if (!found) throw error;
      return { source: found, created: false };
    }
  }

  async findSource(name: string, filter: Record<string, string>): Promise<Source | undefined> {
    let token: string | null = null;
    do {
      const query = new URLSearchParams({
        ...filter,
        page_size: '500',
        ...(token ? { page_token: token } : {}),
      });
      const page: Page<Source> = await this.#request<Page<Source>>('GET', `/api/v1/sources?${query}`);
      const match = page.items.find((source) => source.name === name);
      if (match) return match;
      token = page.next_page_token;
    } while (token);
    return undefined;
  }

  submitRun(body: CreateRun): Promise<Run> {
    return this.#request<Run>('POST', '/api/v1/runs', body);
  }

  dag(runId: string): Promise<RunDag> {
    return this.#request<RunDag>('GET', `/api/v1/runs/${encodeURIComponent(runId)}/dag`);
  }

  deadLetterStats(): Promise<DeadLetterStats> {
    return this.#request<DeadLetterStats>('GET', '/api/v1/deadletter/stats');
  }

  /**
   * One call, with transient failures retried (jittered backoff). A POST carries one Idempotency-Key across
   * its tries.
   */
  async #request<T>(method: string, path: string, body?: unknown, authenticated = true): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (authenticated) {
      headers.Authorization = `Bearer ${this.#token}`;
      headers['X-Stella-Tenant'] = this.#tenant;
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method === 'POST') headers['Idempotency-Key'] = crypto.randomUUID();
    const route = `${method} ${path.split('?')[0]}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(method, path, headers, body, route);
      } catch (error) {
        if (!(error instanceof ApiError) || !error.transient || attempt >= this.#maxAttempts) throw error;
        // A POST whose answer was lost may have taken effect. The key makes a retry safe where the server
        // honours it (DESIGN §8); until every route does, retry a POST only when it was surely refused.
        if (method === 'POST' && error.status !== 429 && error.status !== 503) throw error;
        await delay(Math.random() * Math.min(2_000, 150 * 2 ** attempt));
      }
    }
  }

  async #once<T>(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: unknown,
    route: string,
  ): Promise<T> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const cause = error as Error & { cause?: { code?: string } };
      const timedOut = cause.name === 'TimeoutError';
      const detail = cause.cause?.code ?? cause.message;
      throw new ApiError(
        timedOut ? 'REQUEST_TIMEOUT' : 'NETWORK_ERROR',
        timedOut
          ? `no answer from ${this.#baseUrl} within ${this.#timeoutMs} ms`
          : `cannot reach ${this.#baseUrl} (${detail})`,
        undefined,
        undefined,
        route,
      );
    }
    const parsed = parseJson(text);
    if (response.ok) return parsed as T;
    const envelope = (
      parsed as { error?: { code?: unknown; message?: unknown; trace_id?: unknown } } | undefined
    )?.error;
    throw new ApiError(
      typeof envelope?.code === 'string' ? envelope.code : `HTTP_${response.status}`,
      typeof envelope?.message === 'string' ? envelope.message : text.slice(0, 200) || response.statusText,
      response.status,
      typeof envelope?.trace_id === 'string' ? envelope.trace_id : undefined,
      route,
    );
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
