import { z } from 'zod';
import type { CursorCodec, CursorKey } from '../domain/cursor.ts';

/** `page_size` (default 50, max 500) and `page_token`, shared by every list (DESIGN §8). */
export const pageQuery = {
  page_size: z.coerce.number().int().min(1).max(500).default(50),
  page_token: z.string().min(1).max(1024).optional(),
};

export interface Page<T> {
  items: T[];
  next_page_token: string | null;
}

export interface PageRequest {
  limit: number;
  /** Sort key of the last row of the previous page, decoded and verified. */
  after: CursorKey | null;
}

/**
 * Decodes the page token for a list whose scope (route + filters) is `scope`; a token minted for another
 * scope is rejected. Lists fetch limit+1 rows so the next token is only issued when more rows exist.
 */
export function pageRequest(
  cursors: CursorCodec,
  scope: unknown,
  query: { page_size: number; page_token?: string | undefined },
): PageRequest {
  return {
    limit: query.page_size,
    after: query.page_token === undefined ? null : cursors.decode(scope, query.page_token),
  };
}

export function toPage<R, T>(
  cursors: CursorCodec,
  scope: unknown,
  rows: R[],
  limit: number,
  keyOf: (row: R) => CursorKey,
  present: (row: R) => T,
): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return {
    items: pageRows.map(present),
    next_page_token: hasMore && last !== undefined ? cursors.encode(scope, keyOf(last)) : null,
  };
}
