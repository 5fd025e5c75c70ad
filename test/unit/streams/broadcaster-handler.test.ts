import type { Context, SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/** The `fanout` consumer: one delivery per tenant of a batch, failures per record, re-hints on deadline. */
const fakes = vi.hoisted(() => ({
  delivered: [] as string[],
  hinted: [] as string[][],
  outcome: {} as Record<string, 'complete' | 'cut' | 'throws'>,
}));

vi.mock('@jobengine/core', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@jobengine/core')>()),
  getRuntime: async () => ({
    clock: { now: () => new Date() },
    broadcaster: {
      deliver: async (tenantId: string) => {
        fakes.delivered.push(tenantId);
        if (fakes.outcome[tenantId] === 'throws') throw new Error('database down');
        return {
          tenantId,
          passes: 1,
          messages: 0,
          events: 0,
          gone: 0,
          failed: 0,
          complete: fakes.outcome[tenantId] !== 'cut',
        };
      },
    },
    fanout: {
      hint: async (tenants: Iterable<string>) => {
        fakes.hinted.push([...tenants]);
      },
    },
  }),
}));

const { handler } = await import('../../../functions/broadcaster/handler.ts');

const record = (messageId: string, body: string) => ({ messageId, body }) as SQSEvent['Records'][number];
const context = { getRemainingTimeInMillis: () => 30_000 } as Context;

describe('broadcaster handler', () => {
  beforeEach(() => {
    fakes.delivered = [];
    fakes.hinted = [];
    fakes.outcome = {};
  });

  it('delivers each tenant of a batch once and drops malformed hints', async () => {
    const result = await handler(
      {
        Records: [
          record('1', '{"tenantId":"acme"}'),
          record('2', '{"tenantId":"acme"}'),
          record('3', '{"tenantId":"globex"}'),
          record('4', 'not json'),
          record('5', '{"tenant":"x"}'),
        ],
      },
      context,
    );
    expect(fakes.delivered.sort()).toEqual(['acme', 'globex']);
    expect(result.batchItemFailures).toEqual([]);
    expect(fakes.hinted).toEqual([[]]);
  });

  it("reports a failed tenant's records, and hints again a tenant the deadline cut short", async () => {
    fakes.outcome = { acme: 'throws', globex: 'cut' };
    const result = await handler(
      {
        Records: [
          record('1', '{"tenantId":"acme"}'),
          record('2', '{"tenantId":"globex"}'),
          record('3', '{"tenantId":"acme"}'),
        ],
      },
      context,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '1' }, { itemIdentifier: '3' }]);
    expect(fakes.hinted).toEqual([['globex']]);
  });
});
