import type { CursorKey } from '../domain/cursor.ts';
import { AppError, NotFoundError } from '../domain/errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path ids that cannot exist answer 404 like ids of another tenant (never a database cast error). */
export function requireUuid(kind: string, id: string): string {
  if (!UUID.test(id)) throw new NotFoundError(kind, id);
  return id.toLowerCase();
}

/** The (created_at, id) position a page token carries; anything else is an invalid token. */
export function createdAtCursor(key: CursorKey | null): { createdAt: Date; id: string } | null {
  if (key === null) return null;
  const createdAt = new Date(String(key[0]));
  const id = String(key[1]);
  if (key.length !== 2 || Number.isNaN(createdAt.getTime()) || !UUID.test(id)) {
    throw new AppError('INVALID_PAGE_TOKEN', 'page_token is invalid or belongs to another query');
  }
  return { createdAt, id };
}
