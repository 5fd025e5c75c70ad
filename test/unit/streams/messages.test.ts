import { describe, expect, it } from 'vitest';
import {
  type DeliveredItem,
  MAX_MESSAGE_BYTES,
  packMessages,
} from '../../../layers/core/src/services/broadcaster.ts';

/** How the broadcaster packs events into WebSocket messages under API Gateway's 128 KB limit. */
const item = (seq: number, bytes: number): DeliveredItem => ({
  type: 'event',
  position: `7.${seq}`,
  subscriptions: ['all'],
  event: {
    eventType: 'job.queued',
    subject: { kind: 'job', id: `job-${seq}`, data: { pad: 'x'.repeat(bytes) } },
  },
});

describe('packMessages', () => {
  it('packs events in order into as few messages as fit, each within the limit', () => {
    const items = Array.from({ length: 100 }, (_, i) => item(i, 5_000));
    const messages = packMessages(items);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.length).toBeLessThanOrEqual(5);
    for (const message of messages) {
      expect(Buffer.byteLength(message.text)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      const parsed = JSON.parse(message.text);
      expect(parsed.type).toBe('events');
      expect(parsed.items).toEqual(message.items);
    }
    expect(messages.flatMap((m) => m.items.map((i) => i.position))).toEqual(items.map((i) => i.position));
  });

  it('sends an event that alone exceeds the limit as an event_ref, in its place', () => {
    const messages = packMessages([item(1, 10), item(2, 200_000), item(3, 10)]);
    const items = messages.flatMap((m) => m.items);
    expect(items.map((i) => i.type)).toEqual(['event', 'event_ref', 'event']);
    expect(items[1]).toEqual({
      type: 'event_ref',
      position: '7.2',
      subscriptions: ['all'],
      eventType: 'job.queued',
      subjectId: 'job-2',
    });
    for (const message of messages)
      expect(Buffer.byteLength(message.text)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it('counts bytes, not characters', () => {
    const wide = {
      ...item(1, 0),
      event: { eventType: 'job.queued', subject: { id: 'j', note: '€'.repeat(50_000) } },
    };
    const messages = packMessages([wide as DeliveredItem]);
    expect(messages[0]!.items[0]!.type).toBe('event_ref');
  });

  it('packs nothing into no message', () => {
    expect(packMessages([])).toEqual([]);
  });
});
