import type { CatchUpPolicy } from '../../../../domain/schedules.ts';

/** A `schedules` row as pg returns it. */
export interface ScheduleRow {
  tenant_id: string;
  id: string;
  name: string;
  cron: string;
  timezone: string;
  source_id: string | null;
  stream: string;
  project_id: string | null;
  run_template: { jobs: Record<string, unknown>[]; priority: number; labels?: Record<string, string> };
  enabled: boolean;
  paused: boolean;
  catch_up: CatchUpPolicy;
  catch_up_window_s: number;
  lag_s: number;
  max_window_s: number | null;
  next_fire_at: Date | null;
  last_fire_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** The writable fields of a schedule, as the service resolves them. */
export interface ScheduleFields {
  name: string;
  cron: string;
  timezone: string;
  sourceId: string | null;
  stream: string;
  projectId: string | null;
  runTemplate: Record<string, unknown>;
  enabled: boolean;
  paused: boolean;
  catchUp: CatchUpPolicy;
  catchUpWindowS: number;
  lagS: number;
  maxWindowS: number | null;
  nextFireAt: Date | null;
}

export function scheduleValues(f: ScheduleFields): unknown[] {
  return [
    f.name,
    f.cron,
    f.timezone,
    f.sourceId,
    f.stream,
    f.projectId,
    JSON.stringify(f.runTemplate),
    f.enabled,
    f.paused,
    f.catchUp,
    f.catchUpWindowS,
    f.lagS,
    f.maxWindowS,
    f.nextFireAt,
  ];
}
