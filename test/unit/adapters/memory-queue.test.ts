import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryQueue } from '../../../layers/core/src/adapters/in-process/memory-queue.ts';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  expect(vi.getTimerCount(), 'a receive left a timer behind').toBe(0);
  vi.useRealTimers();
});

const bodies = (messages: { body: string }[]) => messages.map((m) => m.body);

describe('MemoryQueue', () => {
  it('delivers what was sent, up to max, in send order', async () => {
    const queue = new MemoryQueue();
    await queue.sendBatch(['a', 'b', 'c']);

    expect(bodies(await queue.receive(2, 0))).toEqual(['a', 'b']);
    expect(bodies(await queue.receive(10, 0))).toEqual(['c']);
    expect(await queue.receive(10, 0)).toEqual([]);
  });

  it('gives each message a distinct id, receiveCount 1 on first delivery, and a receipt', async () => {
    const queue = new MemoryQueue();
    await queue.sendBatch(['a', 'b']);

    const [a, b] = await queue.receive(10, 0);

    expect(a?.id).not.toBe(b?.id);
    expect(a).toMatchObject({ body: 'a', receiveCount: 1, receipt: expect.any(String) });
  });

  it('hides a received message until the visibility timeout, then redelivers it with a higher count', async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 1000 });
    await queue.sendBatch(['a']);
    const [first] = await queue.receive(1, 0);

    vi.advanceTimersByTime(999);
    expect(await queue.receive(1, 0)).toEqual([]);

    vi.advanceTimersByTime(1);
    const [second] = await queue.receive(1, 0);
    expect(second).toMatchObject({ id: first?.id, body: 'a', receiveCount: 2 });
    expect(second?.receipt).not.toBe(first?.receipt);
  });

  it('does not redeliver an acknowledged message', async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 1000 });
    await queue.sendBatch(['a', 'b']);
    const received = await queue.receive(10, 0);

    await queue.ack(received.filter((m) => m.body === 'a'));
    vi.advanceTimersByTime(1000);

    expect(bodies(await queue.receive(10, 0))).toEqual(['b']);
  });

  it('ignores an ack with a stale receipt: the newer delivery still owns the message', async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 1000 });
    await queue.sendBatch(['a']);
    const stale = await queue.receive(1, 0);
    vi.advanceTimersByTime(1000);
    await queue.receive(1, 0);

    await queue.ack(stale);
    vi.advanceTimersByTime(1000);
    const latest = await queue.receive(1, 0);
    expect(latest).toMatchObject([{ body: 'a', receiveCount: 3 }]);

    await queue.ack(latest);
    vi.advanceTimersByTime(1000);
    expect(await queue.receive(1, 0)).toEqual([]);
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue on its next delivery', async () => {
    const deadLetters = new MemoryQueue();
    const queue = new MemoryQueue({
      visibilityTimeoutMs: 1000,
      redrive: { maxReceiveCount: 2, deadLetterQueue: deadLetters },
    });
    await queue.sendBatch(['poison', 'fine']);
    const [poison, fine] = await queue.receive(10, 0);
    await queue.ack([fine!]);

    vi.advanceTimersByTime(1000);
    expect(await queue.receive(10, 0)).toMatchObject([{ body: 'poison', receiveCount: 2 }]);
    vi.advanceTimersByTime(1000);
    expect(await queue.receive(10, 0)).toEqual([]);

    const dead = await deadLetters.receive(10, 0);
    expect(dead).toMatchObject([{ id: poison?.id, body: 'poison', receiveCount: 1 }]);
  });

  it('a waiting receive resolves as soon as a message is sent, and clears its timer', async () => {
    const queue = new MemoryQueue();
    const start = Date.now();
    const pending = queue.receive(10, 20);
    await vi.advanceTimersByTimeAsync(5000);
    expect(vi.getTimerCount()).toBe(1);

    await queue.sendBatch(['late']);

    expect(bodies(await pending)).toEqual(['late']);
    expect(Date.now() - start).toBe(5000);
  });

  it('a waiting receive resolves with [] when the wait ends', async () => {
    const queue = new MemoryQueue();
    const pending = queue.receive(10, 3);
    await vi.advanceTimersByTimeAsync(3000);
    await expect(pending).resolves.toEqual([]);
  });

  it('a waiting receive picks up a message whose visibility timeout expires during the wait', async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 2000 });
    await queue.sendBatch(['a']);
    await queue.receive(1, 0);

    const pending = queue.receive(1, 10);
    await vi.advanceTimersByTimeAsync(2000);

    expect(await pending).toMatchObject([{ body: 'a', receiveCount: 2 }]);
  });

  it('close wakes every waiting receive with [] and rejects later sends', async () => {
    const queue = new MemoryQueue();
    const waiting = [queue.receive(1, 20), queue.receive(5, 20)];

    queue.close();

    expect(await Promise.all(waiting)).toEqual([[], []]);
    await expect(queue.sendBatch(['x'])).rejects.toThrow('closed');
    expect(await queue.receive(1, 20)).toEqual([]);
  });

  it('several waiters share a burst without duplicates', async () => {
    const queue = new MemoryQueue();
    const waiting = [queue.receive(2, 20), queue.receive(2, 20), queue.receive(2, 20)];

    await queue.sendBatch(['a', 'b', 'c', 'd']);
    await vi.advanceTimersByTimeAsync(20_000);

    const delivered = (await Promise.all(waiting)).flat();
    expect(bodies(delivered).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('caps the wait at 20 s, as SQS long polling does', async () => {
    const queue = new MemoryQueue();
    const start = Date.now();
    const pending = queue.receive(1, 3600);
    await vi.advanceTimersByTimeAsync(20_000);
    await expect(pending).resolves.toEqual([]);
    expect(Date.now() - start).toBe(20_000);
  });

  it('rejects a max that is not a positive integer, and a NaN wait', async () => {
    await expect(new MemoryQueue().receive(0, 0)).rejects.toThrow(RangeError);
    await expect(new MemoryQueue().receive(1, Number.NaN)).rejects.toThrow(RangeError);
  });
});
