import type { Database } from '../adapters/postgres/database.ts';
import { insertEvents } from '../adapters/postgres/sql/insert-events.ts';
import { getPackRun } from '../adapters/postgres/sql/pack-runs/get-pack-run.ts';
import { insertPackRun } from '../adapters/postgres/sql/pack-runs/insert-pack-run.ts';
import {
  listPackRunLogs,
  type PackRunLogRow,
} from '../adapters/postgres/sql/pack-runs/list-pack-run-logs.ts';
import type { PackRunRow } from '../adapters/postgres/sql/pack-runs/pack-run-row.ts';
import type { CreatePackRunInput, ListPackRunLogsInput, PackRun, PackRunLogLine } from '../api/pack-runs.ts';
import { digestOf } from '../domain/canonical-json.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { AppError, NotFoundError } from '../domain/errors.ts';
import { buildEvent } from '../domain/events.ts';
import type { JobState } from '../domain/state-machines.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import { recordAudit } from './audit.ts';
import { type CallContext, noteOf } from './context.ts';
import { requireUuid } from './ids.ts';
import type { RunsService } from './runs.ts';

/** The job type workers lease to execute packs; its retry default lives in domain/retry.ts. */
export const PACK_RUN_JOB_TYPE = 'pack-run';
/** Key of the one job in a pack run's run. */
export const PACK_RUN_JOB_KEY = 'pack-run';

export interface PackRunsDeps {
  db: Database;
  clock: Clock;
  ids: IdGenerator;
  cursors: CursorCodec;
  runs: RunsService;
}

/**
 * Pack runs (DESIGN §2, §8): a pack (`name@version`) with params, run inside a project as a one-job run
 * (kind `pack_run`, job type `pack-run`). The worker executing it streams log lines with its progress
 * reports (services/leasing.ts); they are read back here, in order.
 */
export class PackRunsService {
  constructor(private readonly deps: PackRunsDeps) {}

  /**
   * Creates the run, plans its job and records the pack run in one transaction, so the job is queued
   * when this returns. The project is the body's `projectId`, else the request's `X-Stella-Project`. The
   * operator's reason and ticket (`call.note`) land on the `pack_run.created` event.
   */
  async create(call: CallContext, input: CreatePackRunInput): Promise<PackRun> {
    const projectId = input.projectId ?? call.projectId;
    if (!projectId) {
      throw new AppError(
        'PROJECT_REQUIRED',
        'a pack run needs a project: send projectId or X-Stella-Project',
      );
    }
    const id = this.deps.ids.next();
    const now = this.deps.clock.now();
    return this.deps.db.tenant(call.tenantId, async (db) => {
      const { run, jobIds } = await this.deps.runs.submitAndPlanIn(
        db,
        call,
        {
          jobs: [
            {
              key: PACK_RUN_JOB_KEY,
              type: PACK_RUN_JOB_TYPE,
              payload: { pack: input.pack, params: input.params, packRunId: id },
              dependsOn: [],
            },
          ],
          priority: input.priority,
          projectId,
          labels: { packRunId: id, pack: input.pack },
        },
        'pack_run',
      );
      await insertPackRun(db, {
        tenantId: call.tenantId,
        id,
        projectId,
        runId: run.id,
        jobId: jobIds[0]!,
        pack: input.pack,
        params: input.params,
        createdBy: call.actor.subject,
        now,
      });
      const packRun = presentPackRun((await getPackRun(db, call.tenantId, id))!);
      await insertEvents(db, [
        buildEvent(
          {
            eventType: 'pack_run.created',
            tenantId: call.tenantId,
            projectId,
            correlationId: call.correlationId,
            actor: call.actor,
            // Params travel as a digest, like job payloads on job events: events stay small.
            subject: {
              kind: 'pack_run',
              id,
              data: {
                id,
                projectId,
                pack: packRun.pack,
                paramsDigest: digestOf(packRun.params),
                runId: packRun.runId,
                jobId: packRun.jobId,
                status: packRun.status,
                ...noteOf(call),
              },
            },
            idempotencyKey: `orch-pack_run.created-${id}`,
          },
          this.deps.ids.next(),
          now,
        ),
      ]);
      await recordAudit(db, call, {
        action: 'pack_run.create',
        targetKind: 'pack_run',
        targetId: id,
        after: packRun,
      });
      return packRun;
    });
  }

  async get(call: CallContext, id: string): Promise<PackRun> {
    const packRunId = requireUuid('pack run', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) => getPackRun(db, call.tenantId, packRunId));
    if (!row) throw new NotFoundError('pack run', id);
    return presentPackRun(row);
  }

  /** The pack run's log lines in `seq` order (the order its worker reported them), optionally one stream. */
  async logs(call: CallContext, id: string, query: ListPackRunLogsInput): Promise<Page<PackRunLogLine>> {
    const packRunId = requireUuid('pack run', id);
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'pack_run_logs', packRunId, filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const afterSeq = page.after === null ? null : seqCursor(page.after);
    const rows = await this.deps.db.tenant(call.tenantId, async (db) => {
      if (!(await getPackRun(db, call.tenantId, packRunId))) throw new NotFoundError('pack run', id);
      return listPackRunLogs(db, call.tenantId, packRunId, { stream: filter.stream }, afterSeq, page.limit);
    });
    return toPage(this.deps.cursors, scope, rows, page.limit, (r) => [Number(r.seq)], presentLogLine);
  }
}

/** The seq a logs page token carries; anything else is an invalid token. */
function seqCursor(key: readonly (string | number)[]): number {
  const seq = key[0];
  if (key.length !== 1 || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new AppError('INVALID_PAGE_TOKEN', 'page_token is invalid or belongs to another query');
  }
  return seq;
}

export function presentPackRun(row: PackRunRow): PackRun {
  return {
    id: row.id,
    projectId: row.project_id,
    pack: row.pack,
    params: row.params,
    runId: row.run_id,
    jobId: row.job_id,
    status: row.job_status as JobState,
    attempt: row.job_attempt,
    progress: row.job_progress,
    correlationId: row.correlation_id,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.job_updated_at.toISOString(),
    startedAt: row.job_started_at?.toISOString() ?? null,
    finishedAt: row.job_finished_at?.toISOString() ?? null,
  };
}

function presentLogLine(row: PackRunLogRow): PackRunLogLine {
  return { seq: Number(row.seq), stream: row.stream, line: row.line, at: row.at.toISOString() };
}
