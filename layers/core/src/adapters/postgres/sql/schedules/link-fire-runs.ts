import type { Queryable } from '../../database.ts';

/** Records which run each claimed fire time created, in one statement for the whole tick's fires. */
export async function linkFireRuns(
  db: Queryable,
  tenantId: string,
  scheduleId: string,
  links: readonly { fireTime: Date; runId: string }[],
): Promise<void> {
  if (links.length === 0) return;
  await db.query(
    `UPDATE schedule_fires f SET run_id = l.run_id
       FROM jsonb_to_recordset($3::jsonb) AS l(fire_time timestamptz, run_id uuid)
      WHERE f.tenant_id = $1 AND f.schedule_id = $2 AND f.fire_time = l.fire_time`,
    [
      tenantId,
      scheduleId,
      JSON.stringify(links.map((l) => ({ fire_time: l.fireTime.toISOString(), run_id: l.runId }))),
    ],
  );
}
