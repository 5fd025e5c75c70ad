import type { Queryable } from '../../database.ts';
import { THROTTLE_COLUMNS, type ThrottleRow } from './rows.ts';

export async function insertThrottle(
  db: Queryable,
  p: {
    tenantId: string;
    id: string;
    targetKind: ThrottleRow['target_kind'];
    targetId: string | null;
    kind: ThrottleRow['kind'];
    maxConcurrency: number | null;
    startsAt: Date;
    expiresAt: Date | null;
    reason: string;
    ticket: string | null;
    createdBy: string;
    now: Date;
  },
): Promise<ThrottleRow> {
  const result = await db.query<ThrottleRow>(
    `INSERT INTO throttles (tenant_id, id, target_kind, target_id, kind, max_concurrency, starts_at, expires_at,
                            reason, ticket, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     RETURNING ${THROTTLE_COLUMNS}`,
    [
      p.tenantId,
      p.id,
      p.targetKind,
      p.targetId,
      p.kind,
      p.maxConcurrency,
      p.startsAt,
      p.expiresAt,
      p.reason,
      p.ticket,
      p.createdBy,
      p.now,
    ],
  );
  return result.rows[0]!;
}
