import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';

/** The ids every line logged while serving one request carries (set by the HTTP plumbing). */
export interface LogContext {
  tenantId?: string | undefined;
  correlationId?: string | undefined;
  requestId?: string | undefined;
}

const logContext = new AsyncLocalStorage<LogContext>();

/**
 * Runs `fn` with a fresh, mutable log context: what `setLogContext` puts in it lands on every line logged
 * from `fn` and the work it starts. Scoped per async flow, so the local runtime serving requests
 * concurrently in one process never mixes their ids (appended logger keys would).
 */
export function withLogContext<T>(fn: () => T): T {
  return logContext.run({}, fn);
}

export function setLogContext(fields: LogContext): void {
  const store = logContext.getStore();
  if (store) Object.assign(store, fields);
}

type ExtraInput = Parameters<Logger['info']> extends [unknown, ...infer Rest] ? Rest : never;

function withContext(extra: ExtraInput): ExtraInput {
  const store = logContext.getStore();
  if (!store) return extra;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(store)) if (value !== undefined) fields[key] = value;
  if (Object.keys(fields).length === 0) return extra;
  const [first] = extra;
  // a lone Error or string is what Powertools logs as `error` / `extra`; keep it under that key
  if (extra.length === 1 && first instanceof Error) return [{ ...fields, error: first }];
  if (extra.length === 1 && typeof first === 'string') return [{ ...fields, extra: first }];
  return [fields, ...(extra as Record<string, unknown>[])];
}

/** Powertools' logger, with the request's tenant, correlation and request ids added to every line. */
class ContextLogger extends Logger {
  override debug(input: Parameters<Logger['debug']>[0], ...extra: ExtraInput): void {
    super.debug(input, ...withContext(extra));
  }
  override info(input: Parameters<Logger['info']>[0], ...extra: ExtraInput): void {
    super.info(input, ...withContext(extra));
  }
  override warn(input: Parameters<Logger['warn']>[0], ...extra: ExtraInput): void {
    super.warn(input, ...withContext(extra));
  }
  override error(input: Parameters<Logger['error']>[0], ...extra: ExtraInput): void {
    super.error(input, ...withContext(extra));
  }
}

/**
 * The one structured JSON logger (Powertools). Level from POWERTOOLS_LOG_LEVEL / LOG_LEVEL; lines logged
 * while serving a request carry its tenant, request and correlation ids (see `withLogContext`).
 */
export const logger: Logger = new ContextLogger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'jobengine',
  logLevel: (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO',
});
