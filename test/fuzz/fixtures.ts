import { randomUUID } from 'node:crypto';
import { send } from './http.ts';

/**
 * Real resources for the campaign to aim at: a set in the fuzzing tenant (so ids exist and bodies can be
 * valid but for the one thing a case breaks) and a set in another tenant (whose ids must answer 404).
 * `fresh` makes new ones for cases that may succeed, so a case that consumes a resource (completes a
 * lease, discards a dead letter) does not leave the next case only a 409 to find.
 */
export interface ResourceIds {
  source: string;
  run: string;
  job: string;
  /** a job leased with a long lease, and its lease */
  leasedJob: string;
  lease: string;
  deadLetter: string;
  packRun: string | null;
  /** the stream position of an event of the tenant */
  event: string | null;
}

export interface Fixtures {
  tenant: string;
  otherTenant: string;
  own: ResourceIds;
  other: ResourceIds;
  /** A real page token of each list (by operationId), minted with the filters in `pageFilters`. */
  pageTokens: Record<string, string>;
  pageFilters: Record<string, string>;
  /** `own`, with new resources of the kinds the operation at `path` works on, for one case. */
  fresh(path: string): Promise<ResourceIds>;
}

/** The fields of API answers that fixtures read. */
interface Answer {
  id: string;
  runId: string;
  leases: { leaseId: string }[];
  items: { id: string; jobId: string }[];
  next_page_token: string | null;
}

export class Api {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
    readonly tenant: string,
  ) {}

  /** The position of the tenant's first event, read from the event stream. */
  async firstEventPosition(): Promise<string> {
    const position = (text: string) => /^id: (\S+)$/m.exec(text)?.[1];
    const result = await send(
      this.baseUrl,
      {
        method: 'GET',
        path: '/api/v1/streams/events?since=0.0',
        headers: { Authorization: `Bearer ${this.token}`, 'X-Stella-Tenant': this.tenant },
      },
      { streamMs: 5_000, until: (text) => position(text) !== undefined },
    );
    const found = result.ok ? position(result.text) : undefined;
    if (!found) throw new Error(`fixture: no event position in the stream: ${JSON.stringify(result)}`);
    return found;
  }

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const result = await send(this.baseUrl, {
      method,
      path,
      headers: {
        Authorization: `Bearer ${this.token}`,
        'X-Stella-Tenant': this.tenant,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    });
    if (!result.ok) throw new Error(`fixture ${method} ${path}: ${result.error}`);
    if (result.status >= 300) throw new Error(`fixture ${method} ${path}: ${result.status} ${result.text}`);
    return result.json as Answer;
  }
}

let serial = 0;
const unique = (prefix: string) => `${prefix}-${++serial}-${randomUUID().slice(0, 8)}`;

async function leasedJob(api: Api, extra: Record<string, unknown> = {}) {
  const type = `fuzz.lease.${++serial}`;
  const job = await api.call('POST', '/api/v1/jobs', { type, ...extra });
  const { leases } = await api.call('POST', '/api/v1/worker/leases', {
    workerId: 'fuzz-worker',
    types: [type],
    leaseSeconds: 3600,
  });
  if (leases.length !== 1) throw new Error(`fixture: leasing ${type} gave ${leases.length} leases`);
  return { jobId: job.id, leaseId: leases[0]!.leaseId, type };
}

type Kind = 'source' | 'job' | 'lease' | 'deadLetter' | 'packRun' | 'event';

const makers: Record<Kind, (api: Api) => Promise<Partial<ResourceIds>>> = {
  source: async (api) => {
    const source = await api.call('POST', '/api/v1/sources', {
      name: unique('fuzz-source'),
      type: 'fuzz_feed',
      upstreamHost: 'fuzz.example',
    });
    return { source: source.id };
  },
  job: async (api) => {
    const job = await api.call('POST', '/api/v1/jobs', { type: 'fuzz.idle', payload: { fixture: true } });
    return { job: job.id, run: job.runId };
  },
  lease: async (api) => {
    const leased = await leasedJob(api);
    return { leasedJob: leased.jobId, lease: leased.leaseId };
  },
  deadLetter: async (api) => {
    const dead = await leasedJob(api, { retry: { maxAttempts: 1 } });
    await api.call('POST', `/api/v1/worker/jobs/${dead.jobId}:complete`, {
      leaseId: dead.leaseId,
      outcome: 'failed',
      error: { retryable: false, errorCode: 'FUZZ_FIXTURE' },
    });
    const letters = await api.call('GET', `/api/v1/deadletter?job_type=${dead.type}`);
    const letter = letters.items.find((item) => item.jobId === dead.jobId);
    if (!letter) throw new Error(`fixture: job ${dead.jobId} left no dead letter`);
    return { deadLetter: letter.id };
  },
  // A broken event stream must not stop the campaign: it then reports the stream routes' answers.
  event: async (api) => ({ event: await api.firstEventPosition().catch(() => null) }),
  packRun: async (api) => {
    const packRun = await api.call('POST', '/api/v1/pack-runs', {
      pack: 'fuzz-pack@1.0',
      projectId: 'fuzz-project',
    });
    return { packRun: packRun.id };
  },
};

/** The kinds of resource an operation's path or body refers to. */
export function kindsFor(path: string): Kind[] {
  if (path.startsWith('/api/v1/sources/')) return ['source'];
  if (path.startsWith('/api/v1/runs/') || path.startsWith('/api/v1/jobs/')) return ['job'];
  if (path.startsWith('/api/v1/worker/') && path !== '/api/v1/worker/leases') return ['lease'];
  if (path.startsWith('/api/v1/deadletter/')) return ['deadLetter'];
  if (path.startsWith('/api/v1/pack-runs/')) return ['packRun'];
  return [];
}

async function resources(api: Api, kinds: Kind[]): Promise<Partial<ResourceIds>> {
  let ids: Partial<ResourceIds> = {};
  for (const kind of kinds) ids = { ...ids, ...(await makers[kind](api)) };
  return ids;
}

const ALL_KINDS = (options: { packRuns: boolean; streams: boolean }): Kind[] => [
  'source',
  'job',
  'lease',
  'deadLetter',
  ...(options.packRuns ? (['packRun'] as const) : []),
  ...(options.streams ? (['event'] as const) : []),
];

export async function createFixtures(
  own: Api,
  other: Api,
  options: { packRuns: boolean; streams: boolean },
): Promise<Fixtures> {
  const kinds = ALL_KINDS(options);
  const ownIds = { packRun: null, event: null, ...(await resources(own, kinds)) } as ResourceIds;
  const otherIds = { packRun: null, event: null, ...(await resources(other, kinds)) } as ResourceIds;
  // a second of each listed resource, so page_size=1 yields a next_page_token
  await resources(
    own,
    kinds.filter((kind) => kind !== 'event'),
  );
  const pageFilters: Record<string, string> = {
    listSources: 'type=fuzz_feed',
    listRuns: 'kind=adhoc',
    listJobs: 'type=fuzz.idle',
    listDeadLetters: 'error_code=FUZZ_FIXTURE',
    listJobHistory: '',
  };
  const paths: Record<string, string> = {
    listSources: '/api/v1/sources',
    listRuns: '/api/v1/runs',
    listJobs: '/api/v1/jobs',
    listDeadLetters: '/api/v1/deadletter',
    listJobHistory: `/api/v1/jobs/${ownIds.leasedJob}/history`,
  };
  const pageTokens: Record<string, string> = {};
  for (const [operationId, path] of Object.entries(paths)) {
    const filter = pageFilters[operationId] ? `&${pageFilters[operationId]}` : '';
    const page = await own.call('GET', `${path}?page_size=1${filter}`);
    if (!page.next_page_token) throw new Error(`fixture: ${operationId} gave no next_page_token`);
    pageTokens[operationId] = page.next_page_token;
  }
  return {
    tenant: own.tenant,
    otherTenant: other.tenant,
    own: ownIds,
    other: otherIds,
    pageTokens,
    pageFilters,
    fresh: async (path) => ({ ...ownIds, ...(await resources(own, kindsFor(path))) }),
  };
}
