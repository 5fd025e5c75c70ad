/**
 * Backfill planning (DESIGN §2): an explicit historical window [start, end) split into chunks on a grid of
 * `chunkS` seconds from `start`, minus the windows already covered (processed, or in flight) for the same
 * source and stream. Pure; the service reads the covered windows and the quota, and writes the plan.
 */
export interface TimeWindow {
  start: Date;
  end: Date;
}

/** Chunks one backfill may hold: its plan is written in one request, within the API's 29 s. */
export const MAX_BACKFILL_CHUNKS = 10_000;

/** Merges overlapping or touching windows and clips them to `range`; sorted by start. */
export function mergeWindows(windows: readonly TimeWindow[], range: TimeWindow): TimeWindow[] {
  const clipped = windows
    .map((w) => ({
      start: Math.max(w.start.getTime(), range.start.getTime()),
      end: Math.min(w.end.getTime(), range.end.getTime()),
    }))
    .filter((w) => w.end > w.start)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: { start: number; end: number }[] = [];
  for (const w of clipped) {
    const last = merged.at(-1);
    if (last && w.start <= last.end) last.end = Math.max(last.end, w.end);
    else merged.push({ ...w });
  }
  return merged.map((w) => ({ start: new Date(w.start), end: new Date(w.end) }));
}

/**
 * The chunks to run: each grid chunk of [range.start, range.end) minus the covered windows (a partly
 * covered chunk keeps only its uncovered pieces). Stops after `limit` + 1 chunks so an oversized request is
 * detected without building it whole.
 */
export function planChunks(
  range: TimeWindow,
  chunkS: number,
  covered: readonly TimeWindow[],
  limit = MAX_BACKFILL_CHUNKS,
): TimeWindow[] {
  const merged = mergeWindows(covered, range).map((w) => ({
    start: w.start.getTime(),
    end: w.end.getTime(),
  }));
  const step = chunkS * 1000;
  const rangeEnd = range.end.getTime();
  const chunks: TimeWindow[] = [];
  let c = 0;
  for (let start = range.start.getTime(); start < rangeEnd && chunks.length <= limit; start += step) {
    const end = Math.min(start + step, rangeEnd);
    let from = start;
    // Covered windows are sorted and disjoint: skip those ending before this chunk, cut the rest out.
    while (c < merged.length && merged[c]!.end <= from) c++;
    for (let k = c; k < merged.length && merged[k]!.start < end; k++) {
      const cover = merged[k]!;
      if (cover.start > from) chunks.push({ start: new Date(from), end: new Date(cover.start) });
      from = Math.max(from, cover.end);
      if (from >= end) break;
    }
    if (from < end) chunks.push({ start: new Date(from), end: new Date(end) });
  }
  return chunks;
}

export interface QuotaLimits {
  maxActive: number | null;
  burst: number | null;
  refillPerHour: number | null;
}

export interface DurationEstimate {
  /** null: the token bucket never refills (refill 0), so the chunks beyond its burst never start. */
  seconds: number | null;
  /** Chunks running at once: the backfill's max concurrency, capped by the job type's max active quota. */
  concurrency: number;
  /** Seconds one chunk takes: the job type's recent average, else `DEFAULT_CHUNK_SECONDS`. */
  chunkSeconds: number;
  chunkSecondsFrom: 'history' | 'default';
  /** Chunks the token bucket lets start per hour, when the job type has one. */
  refillPerHour: number | null;
  burst: number | null;
}

/** Assumed run time of one chunk when the job type has no history yet. */
export const DEFAULT_CHUNK_SECONDS = 60;

/**
 * How long the chunks take under the current quotas: the slower of running them `concurrency` at a time
 * and the rate the job type's token bucket allows (burst first, then refill per hour). Ignores other work
 * competing for the same quota, so it is a lower bound when the tenant is busy.
 */
export function estimateDuration(
  chunks: number,
  maxConcurrency: number,
  quota: QuotaLimits | null,
  averageChunkSeconds: number | null,
): DurationEstimate {
  const chunkSeconds = averageChunkSeconds ?? DEFAULT_CHUNK_SECONDS;
  const concurrency = Math.max(1, Math.min(maxConcurrency, quota?.maxActive ?? Number.POSITIVE_INFINITY));
  const byConcurrency = Math.ceil(chunks / concurrency) * chunkSeconds;
  const refill = quota?.refillPerHour ?? null;
  const burst = quota?.burst ?? null;
  let byTokens = 0;
  if (refill !== null && burst !== null) {
    const afterBurst = Math.max(0, chunks - burst);
    byTokens = afterBurst === 0 ? 0 : refill > 0 ? (afterBurst / refill) * 3600 + chunkSeconds : Infinity;
  }
  const seconds = Math.max(byConcurrency, byTokens);
  return {
    seconds: Number.isFinite(seconds) ? Math.ceil(seconds) : null,
    concurrency,
    chunkSeconds,
    chunkSecondsFrom: averageChunkSeconds === null ? 'default' : 'history',
    refillPerHour: refill,
    burst,
  };
}
