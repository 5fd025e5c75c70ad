import type {
  CreateRun,
  CreateSource,
  Dag,
  DeadLetter,
  DeadLetterStats,
  Job,
  JobHistoryEntry,
  OperatorNote,
  Page,
  ReplayFilter,
  Resource,
  Run,
  Source,
  StreamEvent,
  StreamQuery,
} from './types.ts';

/**
 * The typed HTTP client of the public API (DESIGN §8), shared by the CLI (Node) and the Console (browser):
 * it uses only `fetch`, `AbortSignal` and `TextDecoder`. Every call names its route template (as the
 * OpenAPI document spells it), so an error can say which route failed, and a 404 can be told apart from
 * a route this server does not have (`NotAvailableError`).
 */

export interface ClientOptions {
  /** Origin of the control plane (`http://127.0.0.1:3000`); '' in a browser means the page's origin. */
  endpoint: string;
  token: string;
  tenant: string;
  project?: string | undefined;
  /** Per request (not for streams); default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** An error answer (`{"error":{"code","message","trace_id"}}`) or a failure to get one (status undefined). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | undefined,
    readonly route: string,
    readonly traceId?: string,
    readonly details?: { path: string; message: string }[],
  ) {
    super(message);
  }

  toJSON() {
    return {
      code: this.code,
      message: this.message,
      status: this.status ?? null,
      route: this.route,
      trace_id: this.traceId ?? null,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** The server answered 404 and its OpenAPI document does not list the route: an older or newer server. */
export class NotAvailableError extends ApiError {
  override name = 'NotAvailableError';
  constructor(route: string) {
    super('NOT_AVAILABLE', `${route} is not available on this server`, 404, route);
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

interface CallOptions {
  params?: Record<string, string>;
  query?: Query | undefined;
  body?: unknown;
  note?: OperatorNote | undefined;
  ifMatch?: string | undefined;
  signal?: AbortSignal | undefined;
}

export class JobEngineApi {
  private readonly fetch: typeof fetch;
  private openApi: Promise<Record<string, Record<string, unknown>> | undefined> | undefined;

  constructor(readonly options: ClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The same client for another tenant (the Console's tenant switch). */
  withTenant(tenant: string): JobEngineApi {
    return new JobEngineApi({ ...this.options, tenant });
  }

  // --- sources
  listSources = (query?: Query) => this.get<Page<Source>>('/api/v1/sources', { query });
  getSource = (id: string) => this.get<Source>('/api/v1/sources/{id}', { params: { id } });
  createSource = (body: CreateSource, note?: OperatorNote) =>
    this.post<Source>('/api/v1/sources', { body, note });
  updateSource = (id: string, body: Record<string, unknown>, note?: OperatorNote, ifMatch?: string) =>
    this.call<Source>('PATCH', '/api/v1/sources/{id}', { params: { id }, body, note, ifMatch });
  pauseSource = (id: string, note?: OperatorNote) =>
    this.post<Source>('/api/v1/sources/{id}:pause', { params: { id }, note });
  resumeSource = (id: string, note?: OperatorNote) =>
    this.post<Source>('/api/v1/sources/{id}:resume', { params: { id }, note });

  // --- runs
  submitRun = (body: CreateRun, note?: OperatorNote) => this.post<Run>('/api/v1/runs', { body, note });
  listRuns = (query?: Query) => this.get<Page<Run>>('/api/v1/runs', { query });
  getRun = (id: string) => this.get<Run>('/api/v1/runs/{id}', { params: { id } });
  runDag = (id: string) => this.get<Dag>('/api/v1/runs/{id}/dag', { params: { id } });
  cancelRun = (id: string, note?: OperatorNote) =>
    this.post<Run>('/api/v1/runs/{id}:cancel', { params: { id }, note });

  // --- jobs
  listJobs = (query?: Query) => this.get<Page<Job>>('/api/v1/jobs', { query });
  getJob = (id: string) => this.get<Job>('/api/v1/jobs/{id}', { params: { id } });
  jobHistory = (id: string, query?: Query) =>
    this.get<Page<JobHistoryEntry>>('/api/v1/jobs/{id}/history', { params: { id }, query });
  explainJob = (id: string) =>
    this.get<Record<string, unknown>>('/api/v1/jobs/{id}/explain', { params: { id } });
  cancelJob = (id: string, note?: OperatorNote) =>
    this.post<Job>('/api/v1/jobs/{id}:cancel', { params: { id }, note });
  retryJob = (id: string, note?: OperatorNote) =>
    this.post<Job>('/api/v1/jobs/{id}:retry', { params: { id }, note });

  // --- dead letters
  listDeadLetters = (query?: Query) => this.get<Page<DeadLetter>>('/api/v1/deadletter', { query });
  getDeadLetter = (id: string) => this.get<DeadLetter>('/api/v1/deadletter/{id}', { params: { id } });
  deadLetterStats = () => this.get<DeadLetterStats>('/api/v1/deadletter/stats');
  replayDeadLetter = (id: string, note?: OperatorNote) =>
    this.post<Record<string, unknown>>('/api/v1/deadletter/{id}:replay', { params: { id }, note });
  replayDeadLetters = (body: ReplayFilter, note?: OperatorNote) =>
    this.post<Record<string, unknown>>('/api/v1/deadletter:replay', { body, note });
  discardDeadLetter = (id: string, note?: OperatorNote) =>
    this.post<DeadLetter>('/api/v1/deadletter/{id}:discard', { params: { id }, note });

  // --- flow control
  listQuotas = (query?: Query) => this.get<Page<Resource>>('/api/v1/quotas', { query });
  getQuota = (id: string) => this.get<Resource>('/api/v1/quotas/{id}', { params: { id } });
  quotaSummary = () => this.get<Record<string, unknown>>('/api/v1/quotas/summary');
  createQuota = (body: Record<string, unknown>, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/quotas', { body, note });
  updateQuota = (id: string, body: Record<string, unknown>, note?: OperatorNote) =>
    this.call<Resource>('PATCH', '/api/v1/quotas/{id}', { params: { id }, body, note });
  deleteQuota = (id: string, note?: OperatorNote) =>
    this.call<unknown>('DELETE', '/api/v1/quotas/{id}', { params: { id }, note });
  pauseQuota = (id: string, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/quotas/{id}:pause', { params: { id }, note });
  resumeQuota = (id: string, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/quotas/{id}:resume', { params: { id }, note });
  listBuckets = (query?: Query) => this.get<Page<Resource>>('/api/v1/buckets', { query });
  createBucket = (body: Record<string, unknown>, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/buckets', { body, note });
  listThrottles = (query?: Query) => this.get<Page<Resource>>('/api/v1/throttles', { query });
  createThrottle = (body: Record<string, unknown>, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/throttles', { body, note });
  liftThrottle = (id: string, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/throttles/{id}:lift', { params: { id }, note });
  listCircuits = (query?: Query) => this.get<Page<Resource>>('/api/v1/circuits', { query });
  listIncidents = (query?: Query) => this.get<Page<Resource>>('/api/v1/incidents', { query });

  // --- schedules and backfills
  listSchedules = (query?: Query) => this.get<Page<Resource>>('/api/v1/schedules', { query });
  getSchedule = (id: string) => this.get<Resource>('/api/v1/schedules/{id}', { params: { id } });
  createSchedule = (body: Record<string, unknown>, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/schedules', { body, note });
  updateSchedule = (id: string, body: Record<string, unknown>, note?: OperatorNote) =>
    this.call<Resource>('PATCH', '/api/v1/schedules/{id}', { params: { id }, body, note });
  deleteSchedule = (id: string, note?: OperatorNote) =>
    this.call<unknown>('DELETE', '/api/v1/schedules/{id}', { params: { id }, note });
  pauseSchedule = (id: string, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/schedules/{id}:pause', { params: { id }, note });
  resumeSchedule = (id: string, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/schedules/{id}:resume', { params: { id }, note });
  nextFires = (id: string, count: number) =>
    this.get<Record<string, unknown>>('/api/v1/schedules/{id}/next', { params: { id }, query: { count } });
  createBackfill = (body: Record<string, unknown>, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/backfills', { body, note });
  listBackfills = (query?: Query) => this.get<Page<Resource>>('/api/v1/backfills', { query });
  getBackfill = (id: string) => this.get<Resource>('/api/v1/backfills/{id}', { params: { id } });
  backfillAction = (id: string, verb: 'pause' | 'resume' | 'cancel', note?: OperatorNote) =>
    this.post<Resource>(`/api/v1/backfills/{id}:${verb}`, { params: { id }, note });

  // --- audit
  listAudit = (query?: Query) => this.get<Page<Resource>>('/api/v1/audit', { query });
  createAuditExport = (body: Record<string, unknown>, note?: OperatorNote) =>
    this.post<Resource>('/api/v1/audit/exports', { body, note });
  getAuditExport = (id: string) => this.get<Resource>('/api/v1/audit/exports/{id}', { params: { id } });
  /** A file of a finished export, as bytes. */
  async downloadAuditFile(id: string, name: string): Promise<Uint8Array> {
    const response = await this.send('GET', '/api/v1/audit/exports/{id}/files/{name}', {
      params: { id, name },
    });
    return new Uint8Array(await response.arrayBuffer());
  }

  // --- queues
  redrive = (
    queue: 'plan' | 'fanout',
    body: { maxMessages?: number; dryRun?: boolean },
    note?: OperatorNote,
  ) => this.post<Record<string, unknown>>(`/api/v1/queues/${queue}:redrive`, { body, note });

  /** The OpenAPI document the server publishes (no token needed). */
  async openApiDocument(): Promise<
    { paths?: Record<string, Record<string, unknown>> } & Record<string, unknown>
  > {
    const response = await this.fetchWithTimeout(this.url('/.well-known/openapi'), { headers: {} });
    if (!response.ok) throw await this.toError(response, 'GET /.well-known/openapi');
    return (await response.json()) as { paths?: Record<string, Record<string, unknown>> };
  }

  /** Whether the server's OpenAPI document lists the route; `undefined` when the document is unreadable. */
  async hasRoute(method: string, template: string): Promise<boolean | undefined> {
    this.openApi ??= this.openApiDocument().then(
      (doc) => doc.paths ?? {},
      () => undefined,
    );
    const paths = await this.openApi;
    if (!paths) return undefined;
    return Boolean(paths[template]?.[method.toLowerCase()]);
  }

  /**
   * Server-Sent Events of `GET /api/v1/streams/events` with the given filters, from `since` (or
   * `lastEventId`, which the server prefers) or from now. Ends when the server ends the stream or the
   * signal aborts; callers resume with the last position they saw.
   */
  async *streamEvents(
    query: StreamQuery = {},
    options: { lastEventId?: string | undefined; signal?: AbortSignal | undefined; onOpen?: () => void } = {},
  ): AsyncGenerator<StreamEvent> {
    const route = 'GET /api/v1/streams/events';
    const headers = this.headers();
    headers.Accept = 'text/event-stream';
    if (options.lastEventId) headers['Last-Event-ID'] = options.lastEventId;
    let response: Response;
    try {
      response = await this.fetch(this.url('/api/v1/streams/events', query), {
        headers,
        signal: options.signal ?? null,
      });
    } catch (error) {
      if (options.signal?.aborted) return;
      throw unreachable(route, error);
    }
    if (response.status !== 200 || !response.body) throw await this.toError(response, route);
    options.onOpen?.();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (options.signal?.aborted) return;
          throw unreachable(route, error);
        }
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const event = parseSseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event) yield event;
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  // --- plumbing

  private get<T>(template: string, options: CallOptions = {}) {
    return this.call<T>('GET', template, options);
  }

  private post<T>(template: string, options: CallOptions = {}) {
    return this.call<T>('POST', template, options);
  }

  async call<T>(method: string, template: string, options: CallOptions = {}): Promise<T> {
    const response = await this.send(method, template, options);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(method: string, template: string, options: CallOptions): Promise<Response> {
    const route = `${method} ${template}`;
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new Error(`missing path parameter ${name} of ${route}`);
      return encodeURIComponent(value);
    });
    const headers = this.headers();
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    // Every POST carries a fresh key: a retried request (a proxy, a flaky network) takes effect once.
    if (method === 'POST') headers['Idempotency-Key'] = crypto.randomUUID();
    if (options.note?.reason) headers['X-Stella-Operator-Reason'] = options.note.reason;
    if (options.note?.ticket) headers['X-Stella-Operator-Ticket'] = options.note.ticket;
    if (options.ifMatch) headers['If-Match'] = options.ifMatch;
    let response: Response;
    try {
      response = await this.fetchWithTimeout(this.url(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ?? null,
      });
    } catch (error) {
      throw unreachable(route, error);
    }
    if (response.ok) return response;
    // A route the server lacks answers 404 (no resource), 405 (no such method on the resource) or, on
    // API Gateway, 403 without our envelope; the OpenAPI document tells which it is.
    if ([403, 404, 405].includes(response.status) && (await this.hasRoute(method, template)) === false) {
      await response.body?.cancel();
      throw new NotAvailableError(route);
    }
    throw await this.toError(response, route);
  }

  private async fetchWithTimeout(url: string, init: RequestInit): Promise<Response> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return this.fetch(url, { ...init, signal });
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.options.token}`,
      'X-Stella-Tenant': this.options.tenant,
    };
    if (this.options.project) headers['X-Stella-Project'] = this.options.project;
    return headers;
  }

  private url(path: string, query?: Query | StreamQuery): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
    }
    const qs = search.toString();
    return `${this.options.endpoint.replace(/\/+$/, '')}${path}${qs ? `?${qs}` : ''}`;
  }

  private async toError(response: Response, route: string): Promise<ApiError> {
    const text = await response.text().catch(() => '');
    let parsed: { error?: { code?: string; message?: string; trace_id?: string; details?: [] } } | undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const error = parsed?.error;
    if (error?.code) {
      return new ApiError(
        error.code,
        error.message ?? '',
        response.status,
        route,
        error.trace_id,
        error.details,
      );
    }
    return new ApiError(
      `HTTP_${response.status}`,
      text.slice(0, 200) || response.statusText || `HTTP ${response.status}`,
      response.status,
      route,
    );
  }
}

function unreachable(route: string, error: unknown): ApiError {
  const cause = error as Error & { cause?: { code?: string; message?: string } };
  const detail =
    cause.name === 'TimeoutError'
      ? 'timed out'
      : (cause.cause?.code ?? cause.cause?.message ?? cause.message ?? String(error));
  return new ApiError('UNAVAILABLE', `no answer from the server (${detail})`, undefined, route);
}

/** One SSE block (the fields this API writes: id, event, data, retry, comments) → an event or nothing. */
export function parseSseBlock(block: string): StreamEvent | undefined {
  let id = '';
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'id') id = value;
    else if (name === 'event') type = value;
    else if (name === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { position: id, eventType: type, event: JSON.parse(data.join('\n')) };
}

/** Exhausts a list route page by page (at most `limit` items). */
export async function collect<T>(
  list: (query: Query) => Promise<Page<T>>,
  query: Query = {},
  limit = 1_000,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | null = null;
  do {
    const page: Page<T> = await list({ ...query, page_token: token ?? undefined });
    items.push(...page.items);
    token = page.next_page_token;
  } while (token && items.length < limit);
  return items.slice(0, limit);
}
