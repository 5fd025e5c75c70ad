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
  /** The `plan` queue's dead-letter queue; only the `queues` function (redrive) is given it. */
  PLAN_DLQ_URL: z.string().url().optional(),
  /** How long an `Idempotency-Key` and its kept response live (ADR 0006). */
  IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  /** SQS `fanout` queue of delivery hints; unset = the in-process queue the local runtime consumes. */
  FANOUT_QUEUE_URL: z.string().url().optional(),
  /** The `fanout` queue's dead-letter queue; only the `queues` function (redrive) is given it. */
  FANOUT_DLQ_URL: z.string().url().optional(),
  /**
   * The API Gateway management endpoint of the WebSocket stage (`https://{api}.execute-api.{region}
   * .amazonaws.com/{stage}`), where the broadcaster posts; locally the runtime's own URL.
   */
  WS_MANAGEMENT_ENDPOINT: z.string().url().optional(),
  /** A WebSocket connection the server has not written to for this long gets a heartbeat message. */
  WS_HEARTBEAT_IDLE_S: z.coerce.number().int().min(10).max(540).default(300),
  /** How often a stream reader (SSE) polls the event log while idle; notifications wake it earlier. */
  STREAM_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(10_000).default(100),
  /** SSE: a `: ping` comment after this long without data, so proxies keep the response open. */
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  /** SSE: the `retry:` hint, how long a client waits before reconnecting. */
  SSE_RETRY_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /** Events older than this are pruned by the minute tick, published or not. */
  EVENT_RETENTION_DAYS: z.coerce.number().min(0.001).max(3650).default(7),
  /** Published events beyond a tenant's newest this many are pruned by the minute tick. */
  EVENT_RETENTION_MAX_PER_TENANT: z.coerce.number().int().min(1).default(1_000_000),
  /** EventBridge bus for outbound domain events; unset = publishing off, events stay in the outbox. */
  EVENT_BUS_NAME: z.string().min(1).optional(),
  /** Events claimed from the outbox per publishing round (one transaction, PutEvents in chunks of 10). */
  PUBLISH_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /** Period of the local runtime's publishing loop (on AWS the minute tick publishes). */
  PUBLISH_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** KMS key (id, ARN or alias) that signs audit export manifests; ECC_NIST_EDWARDS25519 or ECC_NIST_P256. */
  AUDIT_SIGNING_KMS_KEY_ID: z.string().min(1).optional(),
  /** Else a PEM private key (PKCS#8, Ed25519 or P-256): its text ... */
  AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  /** ... or a file holding it (the local runtime generates one under LOCAL_DATA_DIR). */
  AUDIT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** S3 bucket of export bundles; unset = the folder AUDIT_EXPORT_DIR. */
  AUDIT_EXPORT_BUCKET: z.string().min(1).optional(),
  AUDIT_EXPORT_DIR: z.string().min(1).default('.data/audit-exports'),
  /** Backpressure guard: open (pending, queued, throttled) jobs one tenant may hold; beyond it enqueue is 429. */
  BACKPRESSURE_MAX_OPEN_JOBS: z.coerce.number().int().min(1).default(1_000_000),
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
