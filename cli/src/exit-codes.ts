import { ApiError, NotAvailableError } from './api/client.ts';

/**
 * Exit codes of `jobengine` (docs/cli.md). Scripts branch on them, so they never change meaning.
 */
export const EXIT = {
  /** the command did what it was asked */
  OK: 0,
  /** bad flags or arguments, missing configuration, an unreadable input file, any other local failure */
  USAGE: 1,
  /** the API refused the request (4xx other than auth): validation, not found, conflict, precondition */
  REFUSED: 2,
  /** the server failed or did not answer (5xx, connection refused, timeout) */
  UNAVAILABLE: 3,
  /** the token was refused (401) or does not grant the tenant or scope (403) */
  AUTH: 4,
  /** this server does not have the route at all (an older or newer server) */
  NOT_AVAILABLE: 5,
  /** a watched run or backfill ended unsuccessfully (failed, canceled), or a verification failed */
  UNSUCCESSFUL: 6,
} as const;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command's outcome that is not an error of the CLI but should not exit 0 (a failed run). */
export class Unsuccessful extends Error {
  override name = 'Unsuccessful';
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.USAGE;
  if (error instanceof Unsuccessful) return EXIT.UNSUCCESSFUL;
  if (error instanceof NotAvailableError) return EXIT.NOT_AVAILABLE;
  if (error instanceof ApiError) {
    if (error.status === undefined || error.status >= 500) return EXIT.UNAVAILABLE;
    if (error.status === 401 || error.status === 403) return EXIT.AUTH;
    return EXIT.REFUSED;
  }
  return EXIT.USAGE;
}
