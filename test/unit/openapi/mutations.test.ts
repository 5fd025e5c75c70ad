import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { OPERATIONS, openApiDocument } from '../../../layers/core/src/openapi/index.ts';
import { caseInsensitiveSource } from '../../../layers/core/src/openapi/patterns.ts';
import type { ResourceIds } from '../../fuzz/fixtures.ts';
import { baseDraft, type Context, categories, render } from '../../fuzz/mutations.ts';
import { documentedOperations, type Json } from '../../fuzz/openapi.ts';

/**
 * The campaign's generator checked against the zod schemas the handlers validate with: base bodies are
 * valid, and what a body mutation calls certainly invalid, zod rejects. Otherwise the campaign would
 * report false findings, or miss real ones.
 */
const document = openApiDocument() as Json;
const operations = documentedOperations(document);
const uuid = (n: number) => `0193a1b2-0000-7000-8000-${String(n).padStart(12, '0')}`;
const ids: ResourceIds = {
  source: uuid(1),
  run: uuid(2),
  job: uuid(3),
  leasedJob: uuid(4),
  lease: uuid(5),
  deadLetter: uuid(6),
  packRun: uuid(7),
  event: '1234.5',
};
const context: Context = {
  document,
  fixtures: {
    tenant: 'fuzz-a',
    otherTenant: 'fuzz-b',
    own: ids,
    other: { ...ids, source: uuid(11) },
    pageTokens: {
      listJobs: 'eyJ2IjoxfQ.abcdefghijklmnopqrstuv',
      listRuns: 'eyJ2IjoyfQ.abcdefghijklmnopqrstuv',
    },
    pageFilters: { listJobs: 'type=fuzz.idle', listRuns: 'kind=adhoc' },
    fresh: async () => ids,
  },
  tokens: { valid: 'valid', unauthenticated: { bad: 'bad' }, forbidden: { other: 'other' } },
  tokensWithout: { 'orch:read': 'r', 'orch:operate': 'o', 'orch:quota': 'q', 'orch:backfill': 'b' },
};
const bodySchema = (operationId: string) => OPERATIONS.find((spec) => spec.operationId === operationId)?.body;
const BODY_INVALIDATIONS = ['wrong-type', 'missing-required', 'extra-field', 'constraint', 'not-an-object'];

describe('the campaign generator', () => {
  it('starts every operation from a request its schema accepts', () => {
    for (const op of operations) {
      const rendered = render(baseDraft(op, ids, 'token', 'fuzz-a'));
      const schema = bodySchema(op.operationId);
      if (!schema) {
        expect(rendered.body, op.key).toBeUndefined();
        continue;
      }
      const parsed = (schema as z.ZodType).safeParse(JSON.parse(rendered.body!.toString('utf8')));
      expect(parsed.success, `${op.key}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  // Grows with the API surface (every operation × every body invalidation): give it room on a busy machine.
  it('calls a body invalid only when the handler schema rejects it', () => {
    let checked = 0;
    for (const op of operations) {
      const schema = bodySchema(op.operationId) as z.ZodType | undefined;
      if (!schema) continue;
      const byCategory = categories(op, context);
      for (const category of BODY_INVALIDATIONS) {
        const arbitrary = byCategory.get(category);
        if (!arbitrary) continue;
        for (const mutation of fc.sample(arbitrary, { numRuns: 40, seed: 1 })) {
          expect(mutation.invalid).toBe(true);
          const draft = baseDraft(op, ids, 'token', 'fuzz-a');
          mutation.apply(draft);
          const text = render(draft).body!.toString('utf8');
          const parsed = schema.safeParse(JSON.parse(text));
          expect(parsed.success, `${op.key} [${category}] ${mutation.note}`).toBe(false);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  }, 60_000);

  it('sends malformed JSON that no JSON parser accepts', () => {
    const op = operations.find((candidate) => candidate.operationId === 'submitJob')!;
    for (const mutation of fc.sample(categories(op, context).get('malformed-json')!, {
      numRuns: 50,
      seed: 2,
    })) {
      const draft = baseDraft(op, ids, 'token', 'fuzz-a');
      mutation.apply(draft);
      expect(() => JSON.parse(render(draft).body!.toString('utf8')), mutation.note).toThrow();
    }
  });

  it('covers every operation with the categories that apply to it', () => {
    for (const op of operations) {
      const names = [...categories(op, context).keys()];
      for (const always of [
        'content-type',
        'malformed-json',
        'body-too-large',
        'method',
        'query',
        'hostile-headers',
      ]) {
        expect(names, op.key).toContain(always);
      }
      if (op.scope) expect(names, op.key).toEqual(expect.arrayContaining(['auth', 'tenant']));
      if (op.pathParams.length > 0)
        expect(names, op.key).toEqual(expect.arrayContaining(['path-id', 'unknown-verb']));
      if (op.body) expect(names, op.key).toEqual(expect.arrayContaining(['wrong-type', 'extra-field']));
    }
  });
});

describe('case-insensitive patterns in the document', () => {
  const sources = [
    '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\\d{1,5})?$',
    '^[a-z][a-z0-9_.-]{0,63}$',
    '^abc-[^x]\\d+$',
  ];
  const text = fc.string({ unit: fc.constantFrom(...'aAbBcCxXzZ09-._:é'.split('')), maxLength: 12 });

  it('accept exactly what the flagged regex accepts', () => {
    for (const source of sources) {
      const flagged = new RegExp(source, 'i');
      const spelled = new RegExp(caseInsensitiveSource(source), 'u');
      fc.assert(
        fc.property(text, (value) => flagged.test(value) === spelled.test(value)),
        { numRuns: 500 },
      );
      expect(spelled.test('ABC-Y1') || !source.startsWith('^abc')).toBe(true);
    }
  });
});
