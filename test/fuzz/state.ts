import type pg from 'pg';

/**
 * What a rejected request must not change: the row count of every table, the latest update of every
 * table that records one, and the last event sequence number. Read as the admin user, so row-level
 * security hides nothing.
 */
export type StateSnapshot = Record<string, string | null>;

export async function snapshotQuery(admin: pg.Pool): Promise<string> {
  const { rows } = await admin.query<{ table_name: string; has_updated_at: boolean }>(
    `SELECT t.table_name,
            EXISTS (SELECT 1 FROM information_schema.columns c
                     WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name
                       AND c.column_name = 'updated_at') AS has_updated_at
       FROM information_schema.tables t
      WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND t.table_name <> 'migrations'
      ORDER BY t.table_name`,
  );
  const columns = rows.flatMap((row) => {
    const table = `"${row.table_name}"`;
    const parts = [`'${row.table_name}', (SELECT count(*) FROM ${table})::text`];
    if (row.has_updated_at) {
      parts.push(`'${row.table_name}.updated_at', (SELECT max(updated_at) FROM ${table})::text`);
    }
    return parts;
  });
  columns.push(`'events.seq', (SELECT max(seq) FROM events)::text`);
  columns.push(`'runs.planning', (SELECT count(*) FROM runs WHERE status = 'planning')::text`);
  return `SELECT json_build_object(${columns.join(', ')}) AS state`;
}

export async function snapshot(admin: pg.Pool, query: string): Promise<StateSnapshot> {
  const { rows } = await admin.query<{ state: StateSnapshot }>(query);
  return rows[0]!.state;
}

/** Keys whose values differ, as `key: before → after`. */
export function stateChanges(before: StateSnapshot, after: StateSnapshot, ignore: string[] = []): string[] {
  const changes: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (ignore.includes(key)) continue;
    if (before[key] !== after[key]) changes.push(`${key}: ${before[key]} → ${after[key]}`);
  }
  return changes;
}

/**
 * Waits until the state stops changing and no run is left planning: the planner works asynchronously
 * after a run is accepted.
 */
export async function settle(admin: pg.Pool, query: string, timeoutMs = 5_000): Promise<StateSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last = await snapshot(admin, query);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    const next = await snapshot(admin, query);
    const quiet = stateChanges(last, next).length === 0 && next['runs.planning'] === '0';
    if (quiet || Date.now() > deadline) return next;
    last = next;
  }
}
