import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one structured JSON logger (Powertools). Level from POWERTOOLS_LOG_LEVEL / LOG_LEVEL; each request
 * appends its tenant, request and correlation ids (http/middleware.ts) so every line can be traced.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'jobengine',
  logLevel: (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO',
});
