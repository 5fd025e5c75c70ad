import { describe, expect, it, vi } from 'vitest';
import { MemoryQueue } from '../../../layers/core/src/adapters/in-process/memory-queue.ts';
import { StreamNotifier } from '../../../layers/core/src/adapters/in-process/stream-notifier.ts';
import { FanoutService } from '../../../layers/core/src/services/fanout.ts';

describe('StreamNotifier', () => {
  it("wakes a tenant's waiters only, and times out otherwise", async () => {
    vi.useFakeTimers();
    try {
      const notifier = new StreamNotifier();
      let a = false;
      let b = false;
      const waitA = notifier.wait('a', 1_000).then(() => {
        a = true;
      });
      const waitB = notifier.wait('b', 1_000).then(() => {
        b = true;
      });
      notifier.notify('a');
      await waitA;
      expect([a, b]).toEqual([true, false]);
      await vi.advanceTimersByTimeAsync(1_000);
      await waitB;
      expect(b).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('returns at once when aborted', async () => {
    const notifier = new StreamNotifier();
    const stop = new AbortController();
    const waiting = notifier.wait('a', 60_000, stop.signal);
    stop.abort();
    await waiting;
    await notifier.wait('a', 60_000, stop.signal);
  });
});

describe('FanoutService', () => {
  it('sends one hint per tenant and wakes in-process readers', async () => {
    const queue = new MemoryQueue();
    const notifier = new StreamNotifier();
    const woken = notifier.wait('acme', 60_000);
    await new FanoutService({ queue, notifier }).hint(['acme', 'globex', 'acme']);
    await woken;
    const messages = await queue.receive(10, 0);
    expect(
      messages.map((m) => JSON.parse(m.body)).sort((x, y) => x.tenantId.localeCompare(y.tenantId)),
    ).toEqual([{ tenantId: 'acme' }, { tenantId: 'globex' }]);
    queue.close();
  });

  it('never throws: a hint that cannot be sent is left to the tick sweep', async () => {
    const queue = new MemoryQueue();
    queue.close();
    await expect(
      new FanoutService({ queue, notifier: new StreamNotifier() }).hint(['acme']),
    ).resolves.toBeUndefined();
  });
});
