import type { CursorKey } from '../domain/cursor.ts';
import { AppError, NotFoundError } from '../domain/errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path ids that cannot exist answer 404 like ids of another tenant (never a database cast error). */
export function requireUuid(kind: string, id: string): string {
  if (!UUID.test(id)) throw new NotFoundError(kind, id);
  return id.toLowerCase();
}

/**
 * The id a page token carries. Lists are in id order, which is creation order because ids are UUIDv7;
 * anything else in the token is an invalid token.
 */
export function idCursor(key: CursorKey | null): string | null {
  if (key === null) return null;
  const id = String(key[0]);
  if (key.length !== 1 || !UUID.test(id)) {
    throw new AppError('INVALID_PAGE_TOKEN', 'page_token is invalid or belongs to another query');
  }
  return id;
}
