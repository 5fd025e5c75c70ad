import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/routes.ts';
import {
  assertWithinAccountConcurrency,
  auroraMaxConnections,
  CONNECTIONS_PER_CONTAINER,
  type ConnectionBudget,
  concurrencyWithin,
  connectionsByConsumer,
  proxyPoolConnections,
} from '../../infra/lib/connection-budget.ts';
import { ENVIRONMENTS } from '../../infra/lib/settings.ts';

const budget = (
  maxCapacityAcu: number,
  shares: Partial<ConnectionBudget['shares']> = {},
): ConnectionBudget => ({
  maxCapacityAcu,
  proxyMaxConnectionsPercent: 90,
  shares: { rest: 0.5, stream: 0.1, webSocket: 0.1, tick: 0.02, planner: 0.1, broadcaster: 0.1, ...shares },
});

describe('the database connection budget', () => {
  it("follows Aurora's max_connections formula: memory / 9531392 per connection, capped at 5000", () => {
    // 1 ACU ≈ 2 GiB: 2147483648 / 9531392 = 225.3
    expect(auroraMaxConnections(0.5)).toBe(112);
    expect(auroraMaxConnections(1)).toBe(225);
    expect(auroraMaxConnections(4)).toBe(901);
    expect(auroraMaxConnections(16)).toBe(3604);
    expect(auroraMaxConnections(32)).toBe(5000);
    expect(() => auroraMaxConnections(0)).toThrow(/positive/);
  });

  it("gives the proxy its percentage of those and each family its share of the proxy's pool", () => {
    expect(proxyPoolConnections(budget(4))).toBe(810);
    expect(connectionsByConsumer(budget(4))).toEqual({
      rest: 405,
      stream: 81,
      webSocket: 81,
      tick: 16,
      planner: 81,
      broadcaster: 81,
    });
    expect(() => proxyPoolConnections({ ...budget(4), proxyMaxConnectionsPercent: 0 })).toThrow(/1\.\.100/);
    expect(() => connectionsByConsumer(budget(4, { rest: 0.9 }))).toThrow(/at most 1/);
  });

  it('sizes concurrency as connections / (pool per container × functions sharing them)', () => {
    // 405 REST connections, 2 per container, 9 functions: 22 containers each
    expect(concurrencyWithin(budget(4), 'rest', 9)).toBe(Math.floor(405 / (2 * 9)));
    expect(concurrencyWithin(budget(4), 'stream')).toBe(81);
    expect(concurrencyWithin(budget(4), 'broadcaster')).toBe(40);
    expect(() => concurrencyWithin(budget(0.5, { tick: 0.001 }), 'tick')).toThrow(/cannot give/);
  });

  it('refuses reservations that would leave Lambda less than 100 unreserved', () => {
    expect(() => assertWithinAccountConcurrency([400, 500], 1000)).not.toThrow();
    expect(() => assertWithinAccountConcurrency([400, 501], 1000)).toThrow(/exceeds/);
  });

  it("derives every environment's consumer budgets and prod's reservations from its budget, within the account", () => {
    for (const settings of Object.values(ENVIRONMENTS)) {
      const connections = connectionsByConsumer(settings.connectionBudget);
      expect(settings.planner.connectionBudget, settings.name).toBe(connections.planner);
      expect(settings.broadcaster.connectionBudget, settings.name).toBe(connections.broadcaster);
      expect(settings.database.maxCapacityAcu, settings.name).toBe(settings.connectionBudget.maxCapacityAcu);
    }
    const prod = ENVIRONMENTS.prod;
    const buffered = Object.values(FUNCTIONS).filter((fn) => !('streaming' in fn && fn.streaming)).length;
    expect(prod.reservedConcurrency).toEqual({
      restFunction: concurrencyWithin(prod.connectionBudget, 'rest', buffered),
      webSocketFunction: concurrencyWithin(prod.connectionBudget, 'webSocket', 3),
      tick: 1,
      streamFunction: concurrencyWithin(prod.connectionBudget, 'stream'),
    });
    // what prod's functions may hold at once stays inside the proxy's pool
    const held =
      prod.reservedConcurrency.restFunction! * buffered * CONNECTIONS_PER_CONTAINER.rest +
      prod.reservedConcurrency.webSocketFunction! * 3 * CONNECTIONS_PER_CONTAINER.webSocket +
      prod.reservedConcurrency.streamFunction! * CONNECTIONS_PER_CONTAINER.stream +
      prod.reservedConcurrency.tick! * CONNECTIONS_PER_CONTAINER.tick +
      prod.planner.connectionBudget +
      prod.broadcaster.connectionBudget;
    expect(held).toBeLessThanOrEqual(proxyPoolConnections(prod.connectionBudget));
  });
});
