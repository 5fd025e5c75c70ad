import { readFile } from 'node:fs/promises';
import {
  eventBridgeClient,
  kmsClient,
  managementApiClient,
  s3Client,
  sqsClient,
} from './adapters/aws/clients.ts';
import { ApiGatewayConnectionPoster } from './adapters/aws/connection-poster.ts';
import { EventBridgePublisher } from './adapters/aws/eventbridge-publisher.ts';
import { KmsSigner } from './adapters/aws/kms-signer.ts';
import { S3ExportStore } from './adapters/aws/s3-export-store.ts';
import { readSecretString } from './adapters/aws/secrets.ts';
import { SqsDeadLetterQueue } from './adapters/aws/sqs-dead-letter-queue.ts';
import { SqsQueue } from './adapters/aws/sqs-queue.ts';
import { MemoryQueue } from './adapters/in-process/memory-queue.ts';
import { StreamNotifier } from './adapters/in-process/stream-notifier.ts';
import { FileExportStore } from './adapters/local/file-export-store.ts';
import { KeySigner } from './adapters/local/key-signer.ts';
import { resolveConnectionString } from './adapters/postgres/connection-string.ts';
import { Database } from './adapters/postgres/database.ts';
import { systemClock, uuidV7Ids } from './adapters/system.ts';
import { type TokenVerifier, tokenVerifierFromConfig } from './auth/tokens.ts';
import { type Config, loadConfig } from './config.ts';
import { CursorCodec } from './domain/cursor.ts';
import { initTracing } from './observability/tracing.ts';
import type { Clock, IdGenerator } from './ports/clock-and-ids.ts';
import type { ConnectionPoster } from './ports/connection-poster.ts';
import type { EventPublisherPort } from './ports/event-publisher.ts';
import type { ExportStore } from './ports/export-store.ts';
import type { QueuePort } from './ports/queue.ts';
import type { Signer } from './ports/signer.ts';
import { ArtifactsService } from './services/artifacts.ts';
import { AuditExportsService } from './services/audit-exports.ts';
import { AuditLogService } from './services/audit-log.ts';
import { BackfillsService } from './services/backfills.ts';
import type { BackpressureSettings } from './services/backpressure.ts';
import { BroadcasterService } from './services/broadcaster.ts';
import { ConnectionsService } from './services/connections.ts';
import { DeadLettersService } from './services/dead-letters.ts';
import { FanoutService } from './services/fanout.ts';
import { FlowControlService } from './services/flow-control.ts';
import { JobsService } from './services/jobs.ts';
import { LeasingService } from './services/leasing.ts';
import { MaintenanceService } from './services/maintenance.ts';
import { PackRunsService } from './services/pack-runs.ts';
import { PublisherService } from './services/publisher.ts';
import { QueuesService, type RedrivableQueuePair } from './services/queues.ts';
import { RunsService } from './services/runs.ts';
import { SchedulesService } from './services/schedules.ts';
import { SourcesService } from './services/sources.ts';
import { StreamsService } from './services/streams.ts';

/**
 * Everything a function needs, built once per container on first use (not at import, so the local runtime
 * and tests can set the environment first) and shared across invocations, as Lambda containers do.
 */
export interface Runtime {
  config: Config;
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  cursors: CursorCodec;
  verifyToken: TokenVerifier;
  /** The `plan` queue: SQS when PLAN_QUEUE_URL is set, else in-process (consumed by the local runtime). */
  planQueue: QueuePort;
  sources: SourcesService;
  flowControl: FlowControlService;
  runs: RunsService;
  jobs: JobsService;
  leasing: LeasingService;
  deadLetters: DeadLettersService;
  packRuns: PackRunsService;
  schedules: SchedulesService;
  backfills: BackfillsService;
  connections: ConnectionsService;
  maintenance: MaintenanceService;
  /** The `fanout` queue of delivery hints: SQS when FANOUT_QUEUE_URL is set, else in-process. */
  fanoutQueue: QueuePort;
  /** Wakes in-process stream readers (the local runtime's SSE) when a fanout hint is sent. */
  notifier: StreamNotifier;
  streams: StreamsService;
  fanout: FanoutService;
  broadcaster: BroadcasterService;
  /** The outbox publisher; null when EVENT_BUS_NAME is unset (events then stay unpublished). */
  publisher: PublisherService | null;
  /** The `plan` and `fanout` queues with their dead-letter queues (null where none is configured). */
  deadLetterQueues: Readonly<Record<'plan' | 'fanout', RedrivableQueuePair>>;
  /** Redrive of the `plan` and `fanout` dead-letter queues. */
  queues: QueuesService;
  auditLog: AuditLogService;
  auditExports: AuditExportsService;
  artifacts: ArtifactsService;
}

let current: Promise<Runtime> | undefined;

export function getRuntime(): Promise<Runtime> {
  current ??= buildRuntime().catch((error) => {
    current = undefined;
    throw error;
  });
  return current;
}

/** Closes the pool; the next getRuntime() builds afresh (local runtime shutdown, tests). */
export async function closeRuntime(): Promise<void> {
  const runtime = current;
  current = undefined;
  if (!runtime) return;
  const { db, planQueue, fanoutQueue } = await runtime;
  if (planQueue instanceof MemoryQueue) planQueue.close();
  if (fanoutQueue instanceof MemoryQueue) fanoutQueue.close();
  for (const { deadLetters } of Object.values((await runtime).deadLetterQueues)) {
    if (deadLetters instanceof MemoryQueue) deadLetters.close();
  }
  await db.close();
}

async function buildRuntime(): Promise<Runtime> {
  // before any AWS client is created, so each one is traced on Lambda
  await initTracing();
  const config = loadConfig();
  const verifyToken = tokenVerifierFromConfig(config);
  const db = Database.connect(await resolveConnectionString(config), {
    appRole: config.DB_APP_ROLE,
    systemRole: config.DB_SYSTEM_ROLE,
    max: config.DB_POOL_MAX,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  });
  const clock = systemClock;
  const ids = uuidV7Ids;
  const cursors = new CursorCodec(await cursorSecret(config));
  const plan = queuePair('plan', config.PLAN_QUEUE_URL, config.PLAN_DLQ_URL);
  const planQueue = plan.queue;
  const events = config.EVENT_BUS_NAME
    ? {
        publisher: new EventBridgePublisher(eventBridgeClient(), config.EVENT_BUS_NAME),
        batchSize: config.PUBLISH_BATCH_SIZE,
      }
    : undefined;
  const fanout = queuePair('fanout', config.FANOUT_QUEUE_URL, config.FANOUT_DLQ_URL);
  const fanoutQueue = fanout.queue;
  const endpoint = config.WS_MANAGEMENT_ENDPOINT;
  const connectionPoster = () => {
    if (!endpoint)
      throw new Error('configuration: set WS_MANAGEMENT_ENDPOINT to deliver to WebSocket connections');
    return new ApiGatewayConnectionPoster(managementApiClient(endpoint));
  };
  const streamSettings: StreamSettings = {
    pollIntervalMs: config.STREAM_POLL_INTERVAL_MS,
    retentionDays: config.EVENT_RETENTION_DAYS,
    retentionMaxPerTenant: config.EVENT_RETENTION_MAX_PER_TENANT,
    heartbeatIdleMs: config.WS_HEARTBEAT_IDLE_S * 1000,
  };
  return {
    config,
    verifyToken,
    ...createServices({
      db,
      clock,
      ids,
      cursors,
      planQueue,
      events,
      fanoutQueue,
      connectionPoster,
      streamSettings,
      deadLetterQueues: { plan, fanout },
      exportStore: config.AUDIT_EXPORT_BUCKET
        ? new S3ExportStore(s3Client(), config.AUDIT_EXPORT_BUCKET)
        : new FileExportStore(config.AUDIT_EXPORT_DIR),
      signer: signerFromConfig(config),
      backpressure: { maxOpenJobsPerTenant: config.BACKPRESSURE_MAX_OPEN_JOBS },
    }),
  };
}

/** Receives after which a message moves to its dead-letter queue: the stack's redrive policy, mirrored locally. */
export const MAX_RECEIVE_COUNT = 5;

/**
 * A work queue and its dead-letter queue. SQS when the queue's URL is set (the DLQ only where its URL is
 * given too: the `queues` function); otherwise in-process, with an in-process DLQ under the same redrive
 * policy as the stack's, so a redrive works the same locally.
 */
function queuePair(
  name: string,
  queueUrl: string | undefined,
  deadLetterUrl: string | undefined,
): RedrivableQueuePair {
  if (queueUrl) {
    const queue = new SqsQueue(sqsClient(), queueUrl);
    return deadLetterUrl
      ? { queue, deadLetters: new SqsDeadLetterQueue(sqsClient(), deadLetterUrl, queueUrl) }
      : { queue, deadLetters: null, missing: `set ${name.toUpperCase()}_DLQ_URL` };
  }
  const deadLetters = new MemoryQueue({ visibilityTimeoutMs: 30_000 });
  const queue = new MemoryQueue({
    visibilityTimeoutMs: 30_000,
    redrive: { maxReceiveCount: MAX_RECEIVE_COUNT, deadLetterQueue: deadLetters },
  });
  return { queue, deadLetters };
}

/**
 * The export manifest signer: the KMS key of AUDIT_SIGNING_KMS_KEY_ID (AWS), else the PEM key of
 * AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE. Resolved on first use, so a function that never exports
 * never reads a key; a missing key fails the export that needs it, naming the variables.
 */
export function signerFromConfig(config: Config): () => Promise<Signer> {
  let signer: Promise<Signer> | undefined;
  const build = async (): Promise<Signer> => {
    if (config.AUDIT_SIGNING_KMS_KEY_ID) return new KmsSigner(kmsClient(), config.AUDIT_SIGNING_KMS_KEY_ID);
    if (config.AUDIT_SIGNING_KEY) return new KeySigner(config.AUDIT_SIGNING_KEY);
    if (config.AUDIT_SIGNING_KEY_FILE)
      return new KeySigner(await readFile(config.AUDIT_SIGNING_KEY_FILE, 'utf8'));
    throw new Error(
      'configuration: no audit signing key: set AUDIT_SIGNING_KMS_KEY_ID, AUDIT_SIGNING_KEY_FILE or AUDIT_SIGNING_KEY',
    );
  };
  return () => {
    signer ??= build().catch((error: unknown) => {
      signer = undefined;
      throw error;
    });
    return signer;
  };
}

/**
 * The page-token key: the secret named by CURSOR_SECRET_ARN (AWS), else CURSOR_SECRET, else - only when
 * not on AWS (no DATABASE_SECRET_ARN) - a fixed development value.
 */
async function cursorSecret(config: Config): Promise<string> {
  if (config.CURSOR_SECRET_ARN) return readSecretString(config.CURSOR_SECRET_ARN);
  if (config.CURSOR_SECRET) return config.CURSOR_SECRET;
  if (config.DATABASE_SECRET_ARN) throw new Error('configuration: set CURSOR_SECRET_ARN (or CURSOR_SECRET)');
  return 'jobengine-dev-cursor-secret';
}

export interface ServiceDeps {
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  cursors: CursorCodec;
  planQueue: QueuePort;
  /** Where domain events are published (the EventBridge bus); absent = publishing off. */
  events?: { publisher: EventPublisherPort; batchSize: number } | undefined;
  /** The `fanout` queue; default: an in-process queue. */
  fanoutQueue?: QueuePort | undefined;
  /** How the broadcaster reaches WebSocket connections; default: none (delivering throws). */
  connectionPoster?: (() => ConnectionPoster) | undefined;
  streamSettings?: Partial<StreamSettings> | undefined;
  /** The `plan` and `fanout` queues with their dead-letter queues; default: the queues above, without DLQs. */
  deadLetterQueues?: Readonly<Record<'plan' | 'fanout', RedrivableQueuePair>> | undefined;
  /** Where export bundles are stored; default: a folder under the working directory's .data. */
  exportStore?: ExportStore | undefined;
  /** Signs export manifests; default: none (an export then fails, naming the missing configuration). */
  signer?: (() => Promise<Signer>) | undefined;
  /** Admission limits on enqueue (config BACKPRESSURE_MAX_OPEN_JOBS); default DEFAULT_BACKPRESSURE. */
  backpressure?: BackpressureSettings | undefined;
}

/** Event log and delivery settings (config: STREAM_POLL_INTERVAL_MS, EVENT_RETENTION_*, WS_HEARTBEAT_IDLE_S). */
export interface StreamSettings {
  pollIntervalMs: number;
  retentionDays: number;
  retentionMaxPerTenant: number;
  heartbeatIdleMs: number;
}

const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  pollIntervalMs: 100,
  retentionDays: 7,
  retentionMaxPerTenant: 1_000_000,
  heartbeatIdleMs: 300_000,
};

export type Services = Omit<Runtime, 'config' | 'verifyToken'>;

/** Wires the application services over their ports: the one place the object graph is built. */
export function createServices(deps: ServiceDeps): Services {
  const { db, clock, ids, cursors } = deps;
  const runs = new RunsService(deps);
  const flowControl = new FlowControlService({ db, clock, ids, cursors, backpressure: deps.backpressure });
  const jobs = new JobsService({ db, cursors, runs });
  const schedules = new SchedulesService({ db, clock, ids, cursors, runs });
  const backfills = new BackfillsService({ db, clock, ids, cursors });
  const publisher = deps.events ? new PublisherService({ db, ...deps.events }) : null;
  const settings = { ...DEFAULT_STREAM_SETTINGS, ...deps.streamSettings };
  const fanoutQueue = deps.fanoutQueue ?? new MemoryQueue({ visibilityTimeoutMs: 30_000 });
  const notifier = new StreamNotifier();
  const fanout = new FanoutService({ queue: fanoutQueue, notifier });
  const streams = new StreamsService({ db, clock, notifier, config: settings });
  const connectionPoster =
    deps.connectionPoster ??
    (() => {
      throw new Error('no WebSocket management endpoint configured');
    });
  const deadLetterQueues = deps.deadLetterQueues ?? {
    plan: { queue: deps.planQueue, deadLetters: null, missing: 'this runtime was built without one' },
    fanout: { queue: fanoutQueue, deadLetters: null, missing: 'this runtime was built without one' },
  };
  return {
    ...deps,
    deadLetterQueues,
    queues: new QueuesService({ db, queues: deadLetterQueues }),
    sources: new SourcesService({ db, clock, ids, cursors }),
    flowControl,
    runs,
    jobs,
    leasing: new LeasingService({ db }),
    deadLetters: new DeadLettersService({ db, cursors, jobs }),
    packRuns: new PackRunsService({ db, clock, ids, cursors, runs }),
    schedules,
    backfills,
    connections: new ConnectionsService({ db, clock, ids, fanout }),
    auditLog: new AuditLogService({ db, cursors }),
    auditExports: new AuditExportsService({
      db,
      clock,
      ids,
      store: deps.exportStore ?? new FileExportStore('.data/audit-exports'),
      signer: deps.signer ?? signerFromConfig(loadConfig({})),
    }),
    artifacts: new ArtifactsService({ db, cursors }),
    maintenance: new MaintenanceService({
      db,
      clock,
      runs,
      flowControl,
      schedules,
      backfills,
      publisher,
      streams,
      fanout,
    }),
    publisher,
    fanoutQueue,
    notifier,
    streams,
    fanout,
    broadcaster: new BroadcasterService({
      db,
      clock,
      ids,
      streams,
      poster: connectionPoster,
      config: { heartbeatIdleMs: settings.heartbeatIdleMs },
    }),
  };
}
