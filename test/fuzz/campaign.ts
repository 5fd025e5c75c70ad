import fc from 'fast-check';
import type { JWK } from 'jose';
import type pg from 'pg';
import { Api, createFixtures } from './fixtures.ts';
import { closeAgent, type RawResponse, send } from './http.ts';
import {
  baseDraft,
  type Context,
  categories,
  isValidIdempotencyKey,
  type Mutation,
  type Rendered,
  render,
} from './mutations.ts';
import { type DocumentedOperation, documentedOperations, type Json, schemaValidator } from './openapi.ts';
import { settle, snapshot, snapshotQuery, stateChanges } from './state.ts';
import { scopedToken, tokenSet } from './tokens.ts';

/**
 * The bad-input campaign (DESIGN §8, ADR 0005): from the served OpenAPI document, hostile requests for
 * every route - see mutations.ts for what is tried. Every answer must be an answer (no dropped
 * connection), never a 5xx; a request that is certainly invalid must be a 4xx with the error envelope, of
 * a status the document lists, and must change nothing in the database (row counts of every table, the
 * latest update of every table, the last event sequence number). A request that may be valid (hostile
 * but legal text, JSON, headers) may succeed, and then its answer must match the document.
 */
export interface CampaignTarget {
  baseUrl: string;
  /** The runtime's database as its admin user (row-level security does not apply). */
  admin: pg.Pool;
  /** The key the runtime trusts, to mint good and bad tokens. */
  privateJwk: JWK;
}

export interface KnownBug {
  id: string;
  summary: string;
  /** True when the finding is this bug (only findings whose sole problem is a 5xx are classified). */
  matches(finding: Finding, request: Rendered): boolean;
}

export interface CampaignOptions {
  runsPerRoute: number;
  seed: number;
  knownBugs?: readonly KnownBug[];
  /** Restricts the campaign to some operations. */
  only?: (op: DocumentedOperation) => boolean;
  log?: (line: string) => void;
}

export interface Finding {
  route: string;
  category: string;
  note: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string; bodyBytes: number };
  status: number | null;
  code?: string;
  message?: string;
  traceId?: string;
  problems: string[];
  knownBug?: string;
}

export interface RouteReport {
  route: string;
  requests: number;
  byCategory: Record<string, number>;
  statuses: Record<string, number>;
}

export interface CampaignReport {
  seed: number;
  runsPerRoute: number;
  routes: RouteReport[];
  /** Problems not explained by a known bug. */
  findings: Finding[];
  /** Problems explained by a known bug, by bug id. */
  known: Record<string, Finding[]>;
  elapsedMs: number;
}

const TENANT = 'fuzz-a';
const OTHER_TENANT = 'fuzz-b';
/** Body-related categories; an operation that takes no body documents none of their statuses. */
const BODY_CATEGORIES = new Set(['content-type', 'malformed-json', 'body-too-large', 'unexpected-body']);

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** `runs` mutations for one operation: every category in turn, each sampled with its own seed. */
function plan(op: DocumentedOperation, ctx: Context, runs: number, seed: number): Mutation[] {
  const byCategory = [...categories(op, ctx).entries()].sort(([a], [b]) => a.localeCompare(b));
  const perCategory = Math.max(1, Math.ceil(runs / byCategory.length));
  const samples = byCategory.map(([name, arbitrary]) =>
    fc.sample(arbitrary, { numRuns: perCategory, seed: (seed ^ hash(`${op.key} ${name}`)) | 0 }),
  );
  const planned: Mutation[] = [];
  for (let i = 0; planned.length < runs && i < perCategory; i++) {
    for (const sample of samples) {
      const mutation = sample[i];
      if (mutation && planned.length < runs) planned.push(mutation);
    }
  }
  return planned;
}

function describeRequest(request: Rendered): Finding['request'] {
  const headers = { ...request.headers };
  if (headers.Authorization && headers.Authorization.length > 60) {
    headers.Authorization = `${headers.Authorization.slice(0, 40)}…(${headers.Authorization.length})`;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value.length > 200) headers[name] = `${value.slice(0, 60)}…(${value.length})`;
  }
  const text = request.body?.toString('utf8') ?? '';
  return {
    method: request.method,
    path: request.path.length > 300 ? `${request.path.slice(0, 300)}…(${request.path.length})` : request.path,
    headers,
    body: text.length > 300 ? `${text.slice(0, 300)}…` : text,
    bodyBytes: request.body?.length ?? 0,
  };
}

function errorOf(json: unknown): { code?: string; message?: string; traceId?: string } {
  const error = (json as { error?: { code?: unknown; message?: unknown; trace_id?: unknown } } | undefined)
    ?.error;
  return {
    ...(typeof error?.code === 'string' ? { code: error.code } : {}),
    ...(typeof error?.message === 'string' ? { message: error.message.slice(0, 200) } : {}),
    ...(typeof error?.trace_id === 'string' ? { traceId: error.trace_id } : {}),
  };
}

export async function runCampaign(target: CampaignTarget, options: CampaignOptions): Promise<CampaignReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const served = await send(target.baseUrl, { method: 'GET', path: '/.well-known/openapi', headers: {} });
  if (!served.ok || served.status !== 200) throw new Error('campaign: the OpenAPI document is not served');
  const document = served.json as Json;
  const validator = schemaValidator(document);
  const envelopeSchema = { $ref: '#/components/schemas/ErrorEnvelope' };
  const operations = documentedOperations(document)
    .filter((op) => options.only?.(op) ?? true)
    .sort((a, b) => a.key.localeCompare(b.key));

  const tokens = await tokenSet(target.privateJwk, TENANT, OTHER_TENANT);
  const otherToken = await scopedToken(target.privateJwk, OTHER_TENANT, [
    'orch:read',
    'orch:operate',
    'orch:quota',
    'orch:backfill',
  ]);
  const scopes = ['orch:read', 'orch:operate', 'orch:quota', 'orch:backfill'];
  const tokensWithout: Record<string, string> = {};
  for (const scope of scopes) {
    tokensWithout[scope] = await scopedToken(
      target.privateJwk,
      TENANT,
      scopes.filter((s) => s !== scope),
    );
  }
  const fixtures = await createFixtures(
    new Api(target.baseUrl, tokens.valid, TENANT),
    new Api(target.baseUrl, otherToken, OTHER_TENANT),
    {
      packRuns: operations.some((op) => op.operationId === 'createPackRun'),
      streams: operations.some((op) => op.operationId === 'getEvent'),
    },
  );
  const ctx: Context = { document, fixtures, tokens, tokensWithout };
  const query = await snapshotQuery(target.admin);
  let state = await settle(target.admin, query);

  const routes: RouteReport[] = [];
  const findings: Finding[] = [];
  const known: Record<string, Finding[]> = {};
  try {
    for (const op of operations) {
      const mutations = plan(op, ctx, options.runsPerRoute, options.seed);
      const report: RouteReport = { route: op.key, requests: 0, byCategory: {}, statuses: {} };
      routes.push(report);
      for (const mutation of mutations) {
        const ids = mutation.fresh ? await fixtures.fresh(op.path) : fixtures.own;
        if (mutation.fresh) state = await snapshot(target.admin, query);
        const draft = baseDraft(op, ids, tokens.valid, TENANT);
        mutation.apply(draft);
        const request = render(draft);
        const response = await send(target.baseUrl, request);
        const after = await snapshot(target.admin, query);
        report.requests++;
        report.byCategory[mutation.category] = (report.byCategory[mutation.category] ?? 0) + 1;
        const statusKey = response.ok ? String(response.status) : 'no answer';
        report.statuses[statusKey] = (report.statuses[statusKey] ?? 0) + 1;

        const problems = judge(
          op,
          mutation,
          response,
          stateChanges(state, after, ignored(request, response)),
        );
        if (problems.length > 0) {
          const finding: Finding = {
            route: op.key,
            category: mutation.category,
            note: mutation.note,
            request: describeRequest(request),
            status: response.ok ? response.status : null,
            ...(response.ok ? errorOf(response.json) : {}),
            problems,
          };
          const onlyServerError = problems.length === 1 && finding.status !== null && finding.status >= 500;
          const bug = onlyServerError
            ? options.knownBugs?.find((b) => b.matches(finding, request))
            : undefined;
          if (bug) {
            finding.knownBug = bug.id;
            known[bug.id] = [...(known[bug.id] ?? []), finding];
          } else {
            findings.push(finding);
            log(`${op.key} [${mutation.category}] ${mutation.note}: ${problems.join('; ')}`);
          }
        }
        state = response.ok && response.status < 300 ? await settle(target.admin, query) : after;
      }
      log(`${op.key}: ${report.requests} requests ${JSON.stringify(report.statuses)}`);
    }
  } finally {
    closeAgent();
  }

  return {
    seed: options.seed,
    runsPerRoute: options.runsPerRoute,
    routes,
    findings,
    known,
    elapsedMs: Date.now() - started,
  };

  function judge(
    op: DocumentedOperation,
    mutation: Mutation,
    response: RawResponse,
    changes: string[],
  ): string[] {
    if (!response.ok) return [`no answer: ${response.error}`];
    const problems: string[] = [];
    const { status } = response;
    const { code } = errorOf(response.json);
    if (status >= 500) problems.push(`server error ${status} ${code ?? response.text.slice(0, 80)}`);
    else if (mutation.invalid && status < 400) problems.push(`accepted an invalid request with ${status}`);
    else if (mutation.expect && status >= 400 && !mutation.expect.includes(status)) {
      problems.push(`answered ${status} ${code ?? ''}, expected ${mutation.expect.join(' or ')}`);
    }
    if (status >= 400) {
      const type = String(response.headers['content-type'] ?? '');
      if (!/^application\/json\b/.test(type)) problems.push(`error with Content-Type '${type}'`);
      // another method or verb is another operation, whose documentation does not apply
      const otherOperation = mutation.category === 'method' || mutation.category === 'unknown-verb';
      const documented =
        !otherOperation && !(op.body === undefined && BODY_CATEGORIES.has(mutation.category));
      const errors =
        documented && status < 500
          ? validator.responseErrors(op, status, response.json)
          : validator.errors(envelopeSchema, response.json);
      if (errors.length > 0) problems.push(`error answer off the document: ${errors.slice(0, 3).join('; ')}`);
      if (changes.length > 0) problems.push(`state changed on a rejected request: ${changes.join(', ')}`);
    } else {
      const errors = validator.responseErrors(op, status, response.json);
      if (errors.length > 0)
        problems.push(`${status} answer off the document: ${errors.slice(0, 3).join('; ')}`);
    }
    return problems;
  }
}

/** A 4xx answer to a request with a valid Idempotency-Key is kept by design: one more key row. */
function ignored(request: Rendered, response: RawResponse): string[] {
  const kept = response.ok && response.status >= 400 && response.status < 500 && response.status !== 429;
  if (kept && isValidIdempotencyKey(request.headers['Idempotency-Key'])) {
    return ['idempotency_keys', 'idempotency_keys.updated_at'];
  }
  return [];
}

/** Per-route request counts and findings, as the fuzz script and test print them. */
export function formatReport(report: CampaignReport): string {
  const lines = [
    `seed ${report.seed}, ${report.runsPerRoute} requests per route, ${(report.elapsedMs / 1000).toFixed(1)} s`,
    '',
    `${'route'.padEnd(52)} ${'requests'.padStart(8)}  statuses`,
  ];
  for (const route of report.routes) {
    const statuses = Object.entries(route.statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    lines.push(`${route.route.padEnd(52)} ${String(route.requests).padStart(8)}  ${statuses}`);
  }
  const total = report.routes.reduce((sum, route) => sum + route.requests, 0);
  lines.push(`${'total'.padEnd(52)} ${String(total).padStart(8)}`, '');
  for (const [bug, found] of Object.entries(report.known)) {
    const routes = [...new Set(found.map((f) => f.route))];
    lines.push(
      `known bug ${bug}: ${found.length} requests on ${routes.length} routes (${routes.join(', ')})`,
    );
  }
  lines.push(`${report.findings.length} findings not explained by a known bug`);
  for (const finding of report.findings) {
    lines.push(
      '',
      `- ${finding.route} [${finding.category}] ${finding.note}`,
      `  ${finding.problems.join('\n  ')}`,
      `  request: ${finding.request.method} ${finding.request.path} ${JSON.stringify(finding.request.headers)}`,
      `  body (${finding.request.bodyBytes} bytes): ${finding.request.body}`,
      `  answer: ${finding.status ?? '-'} ${finding.code ?? ''} ${finding.message ?? ''} (trace ${finding.traceId ?? '-'})`,
    );
  }
  return lines.join('\n');
}
