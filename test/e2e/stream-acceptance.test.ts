import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStreamSoak } from '../streams/soak-driver.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * The Realtime acceptance scenario at CI size (`npx tsx scripts/stream-soak.ts` runs 50,000 events): 8
 * concurrent writers, 3 tenants, transactions of random size and duration committing out of seq order
 * (some rolled back), and per tenant a WebSocket and an SSE subscriber that drop and resume at random
 * moments. Each must receive every event of its tenant exactly once, in stream order, and nothing else.
 */
describe('stream acceptance: concurrent writers, subscribers resuming at random', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('delivers every event exactly once, in order, to its own tenant only', async () => {
    const report = await runStreamSoak({
      databaseUrl: t.url,
      events: 6_000,
      writers: 8,
      tenants: 3,
      maxTransactionEvents: 20,
      maxHoldMs: 20,
      rollbackRate: 0.05,
      connectedMs: [100, 600],
      timeoutMs: 60_000,
      log: () => undefined,
    });
    expect(report.events).toBe(6_000);
    expect(report.subscribers).toHaveLength(6);
    for (const subscriber of report.subscribers) {
      expect(subscriber, `${subscriber.tenant} ${subscriber.kind}`).toMatchObject({
        duplicates: 0,
        missing: 0,
        outOfOrder: 0,
        foreign: 0,
      });
      expect(subscriber.connections).toBeGreaterThan(1);
    }
  }, 120_000);
});
