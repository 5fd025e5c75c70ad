import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, runCampaign } from '../fuzz/campaign.ts';
import { KNOWN_BUGS } from '../fuzz/known-bugs.ts';
import { documentedOperations, type Json } from '../fuzz/openapi.ts';
import { type E2e, startE2e } from './helpers.ts';

/**
 * The bad-input campaign, bounded (docs/openapi.md): hostile requests for every route of the served
 * OpenAPI document, each answered with a documented 4xx and the error envelope, never a 5xx or a dropped
 * connection, and changing nothing when rejected. `npm run fuzz` runs the same campaign at full size.
 * FUZZ_RUNS and FUZZ_SEED override the size and seed here.
 */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 20);
const SEED = Number(process.env.FUZZ_SEED ?? 20_250_115);

describe('hostile requests', () => {
  let e: E2e;
  beforeAll(async () => {
    e = await startE2e({ tenant: 'fuzz-a' }, { TICK_INTERVAL_MS: '3600000' });
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('are answered on every route with a documented 4xx that changes nothing', async () => {
    const report = await runCampaign(
      { baseUrl: e.runtime.url, admin: e.t.admin, privateJwk: e.runtime.privateJwk },
      { runsPerRoute: RUNS_PER_ROUTE, seed: SEED, knownBugs: KNOWN_BUGS },
    );
    const summary = formatReport(report);
    const document = (await e.call('GET', '/.well-known/openapi', { token: null, tenant: null }))
      .json as Json;
    expect(report.routes.map((r) => r.route).sort()).toEqual(
      documentedOperations(document)
        .map((op) => op.key)
        .sort(),
    );
    for (const route of report.routes) expect(route.requests, route.route).toBe(RUNS_PER_ROUTE);
    expect(report.findings, summary).toEqual([]);
  }, 180_000);

  // Reproductions of the known bugs (test/fuzz/known-bugs.ts): each fails until its bug is fixed.

  it('nul-in-text: a NUL character in a stored string is not a 500', async () => {
    const result = await e.call('POST', '/api/v1/sources', {
      body: { name: 'nul\u0000name', type: 'fuzz_feed', upstreamHost: 'nul.example' },
    });
    expect(result.status, JSON.stringify(result.json)).toBeLessThan(500);
  });

  it('lone-surrogate-in-jsonb: an unpaired surrogate in a payload is not a 500', async () => {
    const result = await e.call('POST', '/api/v1/jobs', {
      body: { type: 'fuzz.x', payload: { a: '\ud800' } },
    });
    expect(result.status, JSON.stringify(result.json)).toBeLessThan(500);
  });

  it('non-finite-number: 1e400 in a payload is not a 500', async () => {
    const result = await e.call('POST', '/api/v1/jobs', { raw: '{"type":"fuzz.x","payload":{"a":1e400}}' });
    expect(result.status, JSON.stringify(result.json)).toBeLessThan(500);
  });

  it('deep-nesting: a deeply nested payload is not a 500', async () => {
    const depth = 100_000;
    const result = await e.call('POST', '/api/v1/jobs', {
      raw: `{"type":"fuzz.x","payload":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`,
    });
    expect(result.status, JSON.stringify(result.json)).toBeLessThan(500);
  });

  it('prototype-named-parameter: a query parameter named constructor is a 400, not a 500', async () => {
    const result = await e.call('GET', '/api/v1/jobs?constructor=1');
    expect(result.status, JSON.stringify(result.json)).toBe(400);
  });

  it('prototype-named-parameter: a header named constructor is ignored, not a 500', async () => {
    const result = await e.call('GET', '/healthz', {
      token: null,
      tenant: null,
      headers: { constructor: 'x' },
    });
    expect(result.status, JSON.stringify(result.json)).toBe(200);
  });

  it('malformed-percent-encoding: a malformed escape in a path id is not a 500', async () => {
    const result = await e.call('GET', '/api/v1/jobs/%E0%A4%A');
    expect(result.status, JSON.stringify(result.json)).toBeLessThan(500);
  });
});
