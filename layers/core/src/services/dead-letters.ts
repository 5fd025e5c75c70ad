import type { Database } from '../adapters/postgres/database.ts';
import { deadLetterStats } from '../adapters/postgres/sql/dead-letters/dead-letter-stats.ts';
import { getDeadLetter } from '../adapters/postgres/sql/dead-letters/get-dead-letter.ts';
import { listDeadLetters } from '../adapters/postgres/sql/dead-letters/list-dead-letters.ts';
import { resolveDeadLetters } from '../adapters/postgres/sql/dead-letters/resolve-dead-letters.ts';
import type { DeadLetter, ListDeadLettersInput, ReplayFilterInput } from '../api/dead-letters.ts';
import type { CursorCodec } from '../domain/cursor.ts';
import { AppError, NotFoundError } from '../domain/errors.ts';
import { type Page, pageRequest, toPage } from '../http/pagination.ts';
import { recordAudit } from './audit.ts';
import { type CallContext, noteOf } from './context.ts';
import { idCursor, requireUuid } from './ids.ts';
import { type JobsService, REPLAY_PRIORITY } from './jobs.ts';
import { presentDeadLetter } from './presenters.ts';

/**
 * Dead letters (DESIGN §2, §6): jobs that exhausted their attempts or failed non-retryably. Replay never
 * rewrites history - it creates a new job with `replayOf` at high priority and marks the dead letter
 * replayed; discard closes it. Both emit `dead_letter.*` events.
 */
export class DeadLettersService {
  constructor(private readonly deps: { db: Database; cursors: CursorCodec; jobs: JobsService }) {}

  async list(call: CallContext, query: ListDeadLettersInput): Promise<Page<DeadLetter>> {
    const { page_size: _size, page_token: _token, ...filter } = query;
    const scope = { list: 'dead_letters', filter };
    const page = pageRequest(this.deps.cursors, scope, query);
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listDeadLetters(
        db,
        call.tenantId,
        {
          status: filter.status,
          jobType: filter.job_type,
          errorCode: filter.error_code,
          sourceId: filter.source_id,
        },
        idCursor(page.after),
        page.limit,
      ),
    );
    return toPage(this.deps.cursors, scope, rows, page.limit, (r) => [r.id], presentDeadLetter);
  }

  async get(call: CallContext, id: string): Promise<DeadLetter> {
    const deadLetterId = requireUuid('dead letter', id);
    const row = await this.deps.db.tenant(call.tenantId, (db) =>
      getDeadLetter(db, call.tenantId, deadLetterId),
    );
    if (!row) throw new NotFoundError('dead letter', id);
    return presentDeadLetter(row);
  }

  async stats(call: CallContext) {
    const stats = await this.deps.db.tenant(call.tenantId, (db) => deadLetterStats(db, call.tenantId));
    return {
      counts: stats.counts,
      oldestOpenAt: stats.oldestOpenAt?.toISOString() ?? null,
      topErrors: stats.topErrors.map((c) => ({
        errorCode: c.error_code,
        jobType: c.job_type,
        errorClass: c.error_class,
        count: c.count,
        lastFailureAt: c.last_failure_at.toISOString(),
      })),
    };
  }

  /** Replays one open dead letter; a second replay of the same one is a 409. */
  async replay(
    call: CallContext,
    id: string,
    priority: number | undefined,
  ): Promise<{ deadLetter: DeadLetter; jobId: string }> {
    const deadLetterId = requireUuid('dead letter', id);
    const current = await this.deps.db.tenant(call.tenantId, (db) =>
      getDeadLetter(db, call.tenantId, deadLetterId),
    );
    if (!current) throw new NotFoundError('dead letter', id);
    if (current.status !== 'open')
      throw new AppError('ILLEGAL_TRANSITION', `dead letter is already ${current.status}`);
    const [replayed] = await this.replayRows(call, [current.id], priority ?? REPLAY_PRIORITY);
    if (!replayed) throw new AppError('CONFLICT', 'dead letter was resolved concurrently');
    return { deadLetter: await this.get(call, id), jobId: replayed.jobId };
  }

  /** Replays open dead letters matching a filter (oldest first, up to `limit`), or only counts them (dry run). */
  async replayMatching(call: CallContext, input: ReplayFilterInput) {
    const filter = {
      status: 'open',
      jobType: input.filter.jobType,
      errorCode: input.filter.errorCode,
      sourceId: input.filter.sourceId,
      createdBefore: input.filter.createdBefore ? new Date(input.filter.createdBefore) : undefined,
    };
    const rows = await this.deps.db.tenant(call.tenantId, (db) =>
      listDeadLetters(db, call.tenantId, filter, null, input.limit),
    );
    const matched = rows.slice(0, input.limit);
    if (input.dryRun) {
      return {
        dryRun: true,
        matched: matched.length,
        more: rows.length > input.limit,
        deadLetterIds: matched.map((r) => r.id),
        replayed: [],
      };
    }
    const replayed = await this.replayRows(
      call,
      matched.map((r) => r.id),
      input.priority ?? REPLAY_PRIORITY,
    );
    return {
      dryRun: false,
      matched: matched.length,
      more: rows.length > input.limit,
      deadLetterIds: matched.map((r) => r.id),
      replayed,
    };
  }

  async discard(call: CallContext, id: string): Promise<DeadLetter> {
    const deadLetterId = requireUuid('dead letter', id);
    const resolved = await this.deps.db.tenant(call.tenantId, async (db) => {
      const current = await getDeadLetter(db, call.tenantId, deadLetterId, { forUpdate: true });
      if (!current) throw new NotFoundError('dead letter', id);
      if (current.status !== 'open')
        throw new AppError('ILLEGAL_TRANSITION', `dead letter is already ${current.status}`);
      const ids = await resolveDeadLetters(
        db,
        call.tenantId,
        [{ id: deadLetterId, status: 'discarded', replayedJobId: null }],
        call.actor,
        call.correlationId,
        noteOf(call),
      );
      const after = await getDeadLetter(db, call.tenantId, deadLetterId);
      await recordAudit(db, call, {
        action: 'dead_letter.discard',
        targetKind: 'dead_letter',
        targetId: deadLetterId,
        before: presentDeadLetter(current),
        after: after ? presentDeadLetter(after) : undefined,
      });
      return ids;
    });
    if (resolved.length === 0) throw new AppError('CONFLICT', 'dead letter was resolved concurrently');
    return this.get(call, id);
  }

  /**
   * Each dead letter: lock it (skipping ones a concurrent replay holds), create the replay job and mark it
   * replayed in one transaction, so a dead letter is replayed at most once even under concurrent calls.
   */
  private async replayRows(call: CallContext, ids: readonly string[], priority: number) {
    const replayed: { deadLetterId: string; jobId: string }[] = [];
    for (const id of ids) {
      const jobId = await this.deps.db.tenant(call.tenantId, (db) =>
        this.deps.jobs.replayDeadLetterIn(db, call, id, priority),
      );
      if (jobId) replayed.push({ deadLetterId: id, jobId });
    }
    return replayed;
  }
}
