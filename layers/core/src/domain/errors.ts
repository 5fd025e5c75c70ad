/**
 * Errors a client can see. Each has a stable `code` (UPPER_SNAKE) and an HTTP status; mapping to the
 * error envelope happens only at the edge (http/envelope.ts). Anything that is not an AppError is a bug
 * and surfaces as 500 INTERNAL.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  INVALID_PAGE_TOKEN: 400,
  UNAUTHENTICATED: 401,
  TENANT_REQUIRED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  VERSION_MISMATCH: 409,
  ILLEGAL_TRANSITION: 409,
  LEASE_LOST: 409,
  BACKFILL_OVERLAP: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PROJECT_REQUIRED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  DATABASE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `config.url`, or `` for the whole body. */
  path: string;
  message: string;
}

export class AppError extends Error {
  override readonly name: string = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_CODES[code];
    this.headers = options?.headers ?? {};
  }

  /** Extra response headers (Retry-After, Allow, ...). */
  readonly headers: Record<string, string>;
}

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  constructor(message: string, details: ErrorDetail[] = []) {
    super('VALIDATION_FAILED', message, details);
  }
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  constructor(kind: string, id: string) {
    super('NOT_FOUND', `${kind} ${id} not found`);
  }
}

export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
}

export class IllegalTransitionError extends AppError {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly event: string,
  ) {
    super('ILLEGAL_TRANSITION', `${machine} in state '${from}' cannot take '${event}'`);
  }
}

export class DatabaseUnavailableError extends AppError {
  override readonly name = 'DatabaseUnavailableError';
  constructor(cause: unknown) {
    super('DATABASE_UNAVAILABLE', 'the database is unavailable; retry later', [], {
      cause,
      headers: { 'Retry-After': '5' },
    });
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
