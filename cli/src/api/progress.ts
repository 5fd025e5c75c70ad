import type { Resource } from './types.ts';

/**
 * done/total of a backfill, from whichever progress fields the server reports (`progress {total,
 * succeeded, failed, canceled}` - done counts every ended chunk, as the server's `percentDone` does -,
 * `progress {done,total}`, `chunks {completed,total}`, or flat `completedChunks`/`totalChunks`);
 * undefined when it reports none.
 */
export function backfillProgress(backfill: Resource): { done: number; total: number } | undefined {
  const p = backfill.progress as Record<string, unknown> | null | undefined;
  if (p && typeof p === 'object') {
    const total = num(p.total);
    const ended = [p.succeeded, p.failed, p.canceled].map(num);
    if (total !== undefined && ended.every((n) => n !== undefined)) {
      return { done: ended.reduce((sum: number, n) => sum + n!, 0), total };
    }
  }
  for (const candidate of [backfill.progress, backfill.chunks, backfill]) {
    if (!candidate || typeof candidate !== 'object') continue;
    const c = candidate as Record<string, unknown>;
    const total = num(c.total) ?? num(c.totalChunks) ?? num(c.chunksTotal);
    const done =
      num(c.done) ?? num(c.completed) ?? num(c.succeeded) ?? num(c.completedChunks) ?? num(c.chunksDone);
    if (total !== undefined && done !== undefined) return { done, total };
  }
  return undefined;
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
