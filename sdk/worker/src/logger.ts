/**
 * The logging port. `console` fits it, and so do most structured loggers (pino, Powertools); the SDK never
 * logs anywhere unless one is given.
 */
export interface Logger {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

const ignore = (): void => {};

export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** A logger that adds `attributes` to every entry (e.g. the job a handler is running). */
export function withAttributes(logger: Logger, attributes: Record<string, unknown>): Logger {
  const merge = (extra?: Record<string, unknown>) => ({ ...attributes, ...extra });
  return {
    debug: (message, extra) => logger.debug(message, merge(extra)),
    info: (message, extra) => logger.info(message, merge(extra)),
    warn: (message, extra) => logger.warn(message, merge(extra)),
    error: (message, extra) => logger.error(message, merge(extra)),
  };
}
