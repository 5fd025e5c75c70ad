import { setTimeout as delay } from 'node:timers/promises';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Database } from '../adapters/postgres/database.ts';
import {
  CLAIM_IDEMPOTENCY_KEY,
  claimIdempotencyKeyValues,
} from '../adapters/postgres/sql/idempotency/claim-idempotency-key.ts';
import {
  COMPLETE_IDEMPOTENCY_KEY,
  completeIdempotencyKeyValues,
} from '../adapters/postgres/sql/idempotency/complete-idempotency-key.ts';
import {
  FIND_IDEMPOTENCY_KEY,
  findIdempotencyKeyValues,
  type IdempotencyKeyRow,
} from '../adapters/postgres/sql/idempotency/find-idempotency-key.ts';
import {
  RELEASE_IDEMPOTENCY_KEY,
  releaseIdempotencyKeyValues,
} from '../adapters/postgres/sql/idempotency/release-idempotency-key.ts';
import { digestOf, sha256Digest } from '../domain/canonical-json.ts';
import { AppError } from '../domain/errors.ts';
import { logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock-and-ids.ts';
import { errorResponse } from './envelope.ts';

/**
 * `Idempotency-Key` on POST (DESIGN §8, ADR 0006): the first request with a key runs and its response is
 * kept; a retry of the same request replays it; the key on a different request is refused; a duplicate
 * arriving while the first still runs waits for it briefly, then is told to retry.
 */

/** Printable ASCII (space to tilde), 1 to 255 characters - what the table's CHECK also allows. */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** Set on every replayed response. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** The request's key: `undefined` without the header, 400 VALIDATION_FAILED when malformed. */
export function idempotencyKeyOf(headers: Record<string, string>): string | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!KEY_PATTERN.test(key)) {
    throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  }
  return key;
}

/** What makes two requests "the same request" for a key (the tenant and route scope the key itself). */
export interface RequestIdentity {
  method: string;
  /** The operation's route key, e.g. `POST /api/v1/jobs/{id}:cancel`. */
  route: string;
  /** Path parameters as the operation sees them (custom verb split off). */
  params: Record<string, string>;
  event: Pick<
    APIGatewayProxyEvent,
    'body' | 'isBase64Encoded' | 'queryStringParameters' | 'multiValueQueryStringParameters'
  >;
  /** `X-Stella-Project`: it decides where the effect lands. */
  projectId: string | null;
}

/**
 * `sha256:<hex>` of the canonical request: a JSON body is compared by value (key order and whitespace do
 * not matter), anything else by its text; query parameters by name and values.
 */
export function requestHash(request: RequestIdentity): string {
  const { event } = request;
  const query: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (typeof value === 'string') query[name] = [value];
  }
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (values) query[name] = values;
  }
  return digestOf({
    method: request.method,
    route: request.route,
    params: request.params,
    query,
    project: request.projectId,
    body: bodyDigest(event),
  });
}

/** A JSON body's digest by value; any other body's by its text (`json:`/`text:` keep the two apart). */
function bodyDigest(event: RequestIdentity['event']): string | null {
  if (event.body === null || event.body === undefined || event.body === '') return null;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `text:${sha256Digest(text)}`;
  }
  try {
    return `json:${digestOf(json)}`;
  } catch {
    // JSON.parse turns 1e999 into Infinity, which has no canonical form: such a body is compared as text.
    return `text:${sha256Digest(text)}`;
  }
}

export interface KeyScope {
  tenantId: string;
  route: string;
  key: string;
}

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface IdempotencyRecord {
  requestHash: string;
  state: 'in_progress' | 'completed';
  response: StoredResponse | null;
  createdAt: Date;
  expiresAt: Date;
}

/** Where keys live. Claims are identified by their `createdAt` (the compare-and-set token). */
export interface IdempotencyStore {
  /** The claim's `createdAt`, or null when another request holds the key. */
  claim(
    scope: KeyScope,
    claim: { requestHash: string; now: Date; expiresAt: Date; abandonedBefore: Date },
  ): Promise<Date | null>;
  find(scope: KeyScope): Promise<IdempotencyRecord | null>;
  /** False when the claim is gone (taken over as abandoned). */
  complete(scope: KeyScope, claimedAt: Date, response: StoredResponse): Promise<boolean>;
  release(scope: KeyScope, claimedAt: Date): Promise<boolean>;
}

/** Keys in PostgreSQL, each statement its own committed tenant transaction (row-level security applies). */
export class PostgresIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: Database) {}

  async claim(
    scope: KeyScope,
    claim: { requestHash: string; now: Date; expiresAt: Date; abandonedBefore: Date },
  ): Promise<Date | null> {
    const rows = await this.db.tenantStatement<{ created_at: Date }>(
      scope.tenantId,
      CLAIM_IDEMPOTENCY_KEY,
      claimIdempotencyKeyValues({ ...scope, ...claim }),
    );
    return rows[0]?.created_at ?? null;
  }

  async find(scope: KeyScope): Promise<IdempotencyRecord | null> {
    const [row] = await this.db.tenantStatement<IdempotencyKeyRow>(
      scope.tenantId,
      FIND_IDEMPOTENCY_KEY,
      findIdempotencyKeyValues(scope),
    );
    if (!row) return null;
    return {
      requestHash: row.request_hash,
      state: row.state,
      response:
        row.response_status === null
          ? null
          : {
              status: row.response_status,
              headers: row.response_headers ?? {},
              body: row.response_body ?? '',
            },
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    };
  }

  async complete(scope: KeyScope, claimedAt: Date, response: StoredResponse): Promise<boolean> {
    const rows = await this.db.tenantStatement(
      scope.tenantId,
      COMPLETE_IDEMPOTENCY_KEY,
      completeIdempotencyKeyValues({ ...scope, claimedAt, ...response }),
    );
    return rows.length > 0;
  }

  async release(scope: KeyScope, claimedAt: Date): Promise<boolean> {
    const rows = await this.db.tenantStatement(
      scope.tenantId,
      RELEASE_IDEMPOTENCY_KEY,
      releaseIdempotencyKeyValues({ ...scope, claimedAt }),
    );
    return rows.length > 0;
  }
}

const stores = new WeakMap<Database, PostgresIdempotencyStore>();

/** The store over a runtime's database, one per pool. */
export function idempotencyStore(db: Database): IdempotencyStore {
  let store = stores.get(db);
  if (!store) {
    store = new PostgresIdempotencyStore(db);
    stores.set(db, store);
  }
  return store;
}

export interface IdempotencyOptions {
  store: IdempotencyStore;
  clock: Clock;
  ttlHours: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** How long a duplicate waits for the first request to finish before answering 409 in progress. */
const WAIT_MS = 2_000;
/** Age at which an `in_progress` claim counts as abandoned (its process died): API functions time out at 10 s. */
const ABANDON_AFTER_MS = 60_000;
/** A holder that vanishes while we look (released, expired, abandoned) is not chased forever. */
const MAX_CLAIM_ROUNDS = 3;
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 400;

/**
 * Runs `run` at most once per key and request. Responses below 500 are kept and replayed, except 429
 * (backpressure asks for a retry, which must run again); for 5xx and 429 the claim is released. `run`
 * throws AppErrors for 4xx: they become the response here, with `traceId`, so they can be kept.
 */
export async function idempotent(
  options: IdempotencyOptions,
  scope: KeyScope,
  hash: string,
  traceId: string,
  run: () => Promise<APIGatewayProxyResult>,
): Promise<{ response: APIGatewayProxyResult; replayed: boolean }> {
  const { store, clock } = options;
  const waiting = {
    deadline: clock.now().getTime() + WAIT_MS,
    sleep: options.sleep ?? ((ms: number) => delay(ms)),
    pollMs: FIRST_POLL_MS,
  };
  for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
    const now = clock.now();
    const claimedAt = await store.claim(scope, {
      requestHash: hash,
      now,
      expiresAt: new Date(now.getTime() + options.ttlHours * 3_600_000),
      abandonedBefore: new Date(now.getTime() - ABANDON_AFTER_MS),
    });
    if (claimedAt) {
      return { response: await runClaimed(store, scope, claimedAt, traceId, run), replayed: false };
    }
    const held = await awaitHolder(options, scope, hash, waiting);
    if (held !== 'claim-again') return { response: replay(held), replayed: true };
  }
  throw inProgress();
}

/**
 * Another request holds the key: its kept response, or 'claim-again' when the key is free to claim
 * (released, expired, abandoned). 422 when it holds it for a different request; 409 when it is still
 * running at the deadline.
 */
async function awaitHolder(
  options: IdempotencyOptions,
  scope: KeyScope,
  hash: string,
  waiting: { deadline: number; sleep: (ms: number) => Promise<void>; pollMs: number },
): Promise<StoredResponse | 'claim-again'> {
  for (;;) {
    const record = await options.store.find(scope);
    const at = options.clock.now().getTime();
    if (!record || record.expiresAt.getTime() <= at) return 'claim-again';
    if (record.requestHash !== hash) {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was used for a different request; use a new key',
      );
    }
    if (record.response) return record.response;
    if (record.createdAt.getTime() <= at - ABANDON_AFTER_MS) return 'claim-again';
    if (at >= waiting.deadline) throw inProgress();
    await waiting.sleep(waiting.pollMs);
    waiting.pollMs = Math.min(waiting.pollMs * 2, MAX_POLL_MS);
  }
}

function inProgress(): AppError {
  return new AppError('CONFLICT', 'a request with this Idempotency-Key is in progress; retry shortly', [], {
    headers: { 'Retry-After': '1' },
  });
}

function keeps(status: number): boolean {
  return status < 500 && status !== 429;
}

async function runClaimed(
  store: IdempotencyStore,
  scope: KeyScope,
  claimedAt: Date,
  traceId: string,
  run: () => Promise<APIGatewayProxyResult>,
): Promise<APIGatewayProxyResult> {
  let response: APIGatewayProxyResult;
  try {
    response = await run();
  } catch (error) {
    if (!(error instanceof AppError) || !keeps(error.status)) {
      await release(store, scope, claimedAt);
      throw error;
    }
    response = errorResponse(error, traceId);
  }
  if (!keeps(response.statusCode)) {
    await release(store, scope, claimedAt);
    return response;
  }
  try {
    const stored = await store.complete(scope, claimedAt, {
      status: response.statusCode,
      headers: stringHeaders(response.headers),
      body: response.body,
    });
    if (!stored) logger.warn('idempotency claim was taken over before completion', { ...scope });
  } catch (error) {
    // The effect has happened: the client gets its answer. The claim stays in_progress until abandoned.
    logger.error('storing the idempotent response failed', { ...scope, error: error as Error });
  }
  return response;
}

async function release(store: IdempotencyStore, scope: KeyScope, claimedAt: Date): Promise<void> {
  try {
    await store.release(scope, claimedAt);
  } catch (error) {
    // The request is failing already (often for the same reason); the claim is abandoned and taken over.
    logger.warn('releasing an idempotency claim failed', { ...scope, error: (error as Error).message });
  }
}

function stringHeaders(headers: APIGatewayProxyResult['headers']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) result[name] = String(value);
  return result;
}

function replay(stored: StoredResponse): APIGatewayProxyResult {
  return {
    statusCode: stored.status,
    headers: { ...stored.headers, [REPLAYED_HEADER]: 'true' },
    body: stored.body,
  };
}
