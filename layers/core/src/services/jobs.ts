import type { Database, Queryable } from '../adapters/postgres/database.ts';
import { getDeadLetter } from '../adapters/postgres/sql/dead-letters/get-dead-letter.ts';
import { getDeadLetterOfJob } from '../adapters/postgres/sql/dead-letters/get-dead-letter-of-job.ts';
import { resolveDeadLetters } from '../adapters/postgres/sql/dead-letters/resolve-dead-letters.ts';
import { cancelJobs } from '../adapters/postgres/sql/jobs/cancel-jobs.ts';
import { getJob } from '../adapters/postgres/sql/jobs/get-job.ts';
import type { JobRow } from '../adapters/postgres/sql/jobs/job-row.ts';
import { listJobHistory } from '../adapters/postgres/sql/jobs/list-job-history.ts';
import { listJobs } from '../adapters/postgres/sql/jobs/list-jobs.ts';
import { makeJobReady } from '../adapters/postgres/sql/jobs/make-job-ready.ts';
import { prioritizeJob } from '../adapters/postgres/sql/jobs/prioritize-job.ts';
import type { CreateJobInput, Job, ListJobsInput } from '../api/jobs.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { AppError, NotFoundError } from '../domain/errors.ts';
import { TERMINAL_JOB_STATES } from '../domain/state-machines.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import { recordAudit } from './audit.ts';
import { type CallContext, noteOf } from './context.ts';
import { idCursor, requireUuid } from './ids.ts';
import { presentDeadLetter, presentHistory, presentJob } from './presenters.ts';
import type { RunsService } from './runs.ts';

/** Priority a replayed job gets unless the operator says otherwise (DESIGN §2: replay at high priority). */
export const REPLAY_PRIORITY = 50;

/** Jobs: one-job submissions, reads, history, and operator controls (DESIGN §6). */
export class JobsService {
  constructor(private readonly deps: { db: Database; cursors: CursorCodec; runs: RunsService }) {}

  /** POST /jobs: a one-job run, planned in the same transaction so the job is queued on return. */
  async submit(call: CallContext, input: CreateJobInput): Promise<Job> {
    const jobId = await this.deps.db.tenant(call.tenantId, async (db) => {
      const { jobIds } = await this.deps.runs.submitAndPlanIn(
        db,
        call,
        {
          jobs: [
            {
              key: input.key,
              type: input.type,
              payload: input.payload,
              dependsOn: [],
              retry: input.retry,
              sourceId: input.sourceId,
            },
          ],
          priority: input.priority,
          sourceId: input.sourceId,
          projectId: input.projectId,
        },
        'adhoc',
      );
      const job = presentJob((await getJob(db, call.tenantId, jobIds[0]!))!);
      await recordAudit(db, call, { action: 'job.submit', targetKind: 'job', targetId: job.id, after: job });
      return job.id;
    });
    return this.get(call, jobId);
  }

  async get(call: CallContext, id: string): Promise<Job> {
    return presentJob(await this.row(call, id));
  }

  async list(call: CallContext, query: ListJobsInput): Promise<Page<Job>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'jobs', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listJobs(
        db,
        call.tenantId,
        { status: filter.status, type: filter.type, runId: filter.run_id, sourceId: filter.source_id },
        idCursor(page.after),
        page.limit,
      ),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (r) => [r.id], presentJob);
  }

  /** Every transition of the job, oldest first (order: history id). */
  async history(
    call: CallContext,
    id: string,
    query: { page_size: number; page_token?: string | undefined },
  ) {
    const jobId = requireUuid('job', id);
    const scope = { list: 'job_history', jobId };
    const page = pageRequest(this.deps.cursors, scope, query);
    const afterId = page.after === null ? null : Number(page.after[0]);
    if (afterId !== null && !Number.isSafeInteger(afterId)) {
      throw new AppError('INVALID_PAGE_TOKEN', 'page_token is invalid or belongs to another query');
    }
    const rows = await this.deps.db.tenant(call.tenantId, async (db) => {
      if (!(await getJob(db, call.tenantId, jobId))) throw new NotFoundError('job', id);
      return listJobHistory(db, call.tenantId, jobId, afterId, page.limit);
    });
    return toPage(this.deps.cursors, scope, rows, page.limit, (r) => [Number(r.id)], presentHistory);
  }

  /**
   * Cancels the job and its not-yet-started descendants; a held lease is voided (LEASE_LOST). The reason is
   * the given one, else the operator's (`call.note`); the operator's ticket lands on the events.
   */
  async cancel(call: CallContext, id: string, reason?: string): Promise<Job> {
    const job = await this.row(call, id);
    if (TERMINAL_JOB_STATES.has(job.status))
      throw new AppError('ILLEGAL_TRANSITION', `job is already ${job.status}`);
    await this.deps.db.tenant(call.tenantId, async (db) => {
      await cancelJobs(db, {
        tenantId: call.tenantId,
        jobIds: [job.id],
        runId: null,
        reason: reason ?? noteOf(call).reason ?? 'canceled_by_operator',
        ticket: noteOf(call).ticket,
        actor: call.actor,
      });
      await this.audit(db, call, { action: 'job.cancel', before: job });
    });
    return this.get(call, job.id);
  }

  /**
   * Retry: a queued job waiting out its backoff becomes ready now; a job that ended badly is replayed as
   * a new job (`replayOf`, high priority) - history is never rewritten.
   */
  async retry(call: CallContext, id: string): Promise<Job> {
    const job = await this.row(call, id);
    if (job.status === 'queued') {
      await this.deps.db.tenant(call.tenantId, async (db) => {
        await makeJobReady(db, call.tenantId, job.id, call.actor, noteOf(call));
        await this.audit(db, call, { action: 'job.retry', before: job });
      });
      return this.get(call, job.id);
    }
    if (job.status === 'dead_lettered') {
      const replayId = await this.deps.db.tenant(call.tenantId, async (db) => {
        const letter = await getDeadLetterOfJob(db, call.tenantId, job.id);
        if (letter?.status !== 'open')
          throw new AppError('ILLEGAL_TRANSITION', `its dead letter is already ${letter?.status ?? 'gone'}`);
        return this.replayDeadLetterIn(db, call, letter.id, REPLAY_PRIORITY);
      });
      return this.get(call, replayId!);
    }
    if (job.status === 'failed' || job.status === 'canceled') {
      const replayId = await this.deps.db.tenant(call.tenantId, async (db) => {
        const newJobId = await this.replayIn(db, call, job, REPLAY_PRIORITY);
        await recordAudit(db, call, {
          action: 'job.retry',
          targetKind: 'job',
          targetId: job.id,
          before: presentJob(job),
          after: { ...presentJob(job), replayedAs: newJobId },
        });
        return newJobId;
      });
      return this.get(call, replayId);
    }
    throw new AppError('ILLEGAL_TRANSITION', `a ${job.status} job cannot be retried`);
  }

  async prioritize(call: CallContext, id: string, priority: number): Promise<Job> {
    const job = await this.row(call, id);
    const changed = await this.deps.db.tenant(call.tenantId, async (db) => {
      const done = await prioritizeJob(db, call.tenantId, job.id, priority, call.actor, noteOf(call));
      if (done) await this.audit(db, call, { action: 'job.prioritize', before: job });
      return done;
    });
    if (!changed) throw new AppError('ILLEGAL_TRANSITION', `a ${job.status} job cannot be reprioritized`);
    return this.get(call, job.id);
  }

  /** In the caller's transaction: a new one-job run copying the job's type, payload and policy. */
  async replayIn(db: Queryable, call: CallContext, job: JobRow, priority: number): Promise<string> {
    const { jobIds } = await this.deps.runs.submitAndPlanIn(
      db,
      call,
      {
        jobs: [
          {
            key: job.job_key,
            type: job.type,
            payload: job.payload,
            dependsOn: [],
            retry: job.retry_policy,
            sourceId: job.source_id ?? undefined,
            priority,
          },
        ],
        priority,
        sourceId: job.source_id ?? undefined,
        projectId: job.project_id ?? undefined,
        labels: { replayOf: job.id },
      },
      'replay',
      job.id,
    );
    return jobIds[0]!;
  }

  /**
   * In the caller's transaction: locks an open dead letter, replays its job and marks it replayed, so a dead
   * letter is replayed at most once however many replays race. Returns the new job id, or null when the
   * dead letter is no longer open.
   */
  async replayDeadLetterIn(
    db: Queryable,
    call: CallContext,
    deadLetterId: string,
    priority: number,
  ): Promise<string | null> {
    const letter = await getDeadLetter(db, call.tenantId, deadLetterId, { forUpdate: true });
    if (letter?.status !== 'open') return null;
    const job = await getJob(db, call.tenantId, letter.job_id);
    if (!job) return null;
    const newJobId = await this.replayIn(db, call, job, priority);
    await resolveDeadLetters(
      db,
      call.tenantId,
      [{ id: deadLetterId, status: 'replayed', replayedJobId: newJobId }],
      call.actor,
      call.correlationId,
      noteOf(call),
    );
    const replayed = await getDeadLetter(db, call.tenantId, deadLetterId);
    await recordAudit(db, call, {
      action: 'dead_letter.replay',
      targetKind: 'dead_letter',
      targetId: deadLetterId,
      before: presentDeadLetter(letter),
      after: presentDeadLetter(replayed!),
    });
    return newJobId;
  }

  /** An audit entry for an operator control on a job: its state before (as read) and after (in `db`). */
  private async audit(
    db: Queryable,
    call: CallContext,
    { action, before }: { action: string; before: JobRow },
  ): Promise<void> {
    const after = await getJob(db, call.tenantId, before.id);
    await recordAudit(db, call, {
      action,
      targetKind: 'job',
      targetId: before.id,
      before: presentJob(before),
      after: after ? presentJob(after) : undefined,
    });
  }

  async row(call: CallContext, id: string): Promise<JobRow> {
    const jobId = requireUuid('job', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) => getJob(db, call.tenantId, jobId));
    if (!row) throw new NotFoundError('job', id);
    return row;
  }
}
