import type { Queryable } from '../../database.ts';

export interface ScheduleFire {
  fireTime: Date;
  outcome: 'fired' | 'skipped';
  reason: string | null;
  runId: string | null;
}

/**
 * Claims fire times of a schedule: the primary key (tenant, schedule, fire time) lets each fire time be
 * recorded once, however many ticks race for it. Returns the fire times this call recorded; a fire time
 * another tick already recorded is not returned, and its run must not be created.
 */
export async function recordScheduleFires(
  db: Queryable,
  tenantId: string,
  scheduleId: string,
  fires: readonly ScheduleFire[],
  now: Date,
): Promise<Date[]> {
  if (fires.length === 0) return [];
  const result = await db.query<{ fire_time: Date }>(
    `INSERT INTO schedule_fires (tenant_id, schedule_id, fire_time, run_id, outcome, reason, fired_at)
     SELECT $1, $2, f.fire_time, f.run_id, f.outcome, f.reason, $4
       FROM jsonb_to_recordset($3::jsonb) AS f(fire_time timestamptz, run_id uuid, outcome text, reason text)
     ON CONFLICT (tenant_id, schedule_id, fire_time) DO NOTHING
     RETURNING fire_time`,
    [
      tenantId,
      scheduleId,
      JSON.stringify(
        fires.map((f) => ({
          fire_time: f.fireTime.toISOString(),
          run_id: f.runId,
          outcome: f.outcome,
          reason: f.reason,
        })),
      ),
      now,
    ],
  );
  return result.rows.map((row) => row.fire_time);
}
