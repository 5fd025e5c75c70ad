import { z } from 'zod';

/**
 * Configuration, read from the environment once per container and validated: a missing or malformed
 * variable fails fast with its name. Every variable is listed in the README configuration table.
 */
const schema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_SECRET_ARN: z.string().min(1).optional(),
  DATABASE_PROXY_ENDPOINT: z.string().min(1).optional(),
  DATABASE_NAME: z.string().min(1).default('jobengine'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Role each transaction switches to with SET LOCAL ROLE; empty when the login user is the role. */
  DB_APP_ROLE: z.string().default('jobengine_app'),
  DB_SYSTEM_ROLE: z.string().default('jobengine_system'),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(25_000),
  /** Signs page tokens; any stable secret of 16+ characters. Locally a development value is used. */
  CURSOR_SECRET: z.string().min(16).optional(),
  /** On AWS: the Secrets Manager secret holding the page-token key (read at cold start). */
  CURSOR_SECRET_ARN: z.string().min(1).optional(),
  AUTH_ISSUER: z.string().min(1).default('jobengine-local'),
  AUTH_AUDIENCE: z.string().min(1).default('jobengine'),
  /** JSON Web Key Set as JSON text (offline) ... */
  AUTH_JWKS: z.string().min(1).optional(),
  /** ... or a URL to fetch it from. */
  AUTH_JWKS_URL: z.string().url().optional(),
  AUTH_CLOCK_SKEW_S: z.coerce.number().int().min(0).max(300).default(60),
  /** Largest request body accepted (Lambda's synchronous payload limit is 6 MB). */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(6_000_000),
  /** SQS `plan` queue; unset = the in-process queue the local runtime consumes. */
  PLAN_QUEUE_URL: z.string().url().optional(),
  /** How long an `Idempotency-Key` and its kept response live (ADR 0006). */
  IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(24),
});

export type Config = z.infer<typeof schema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
