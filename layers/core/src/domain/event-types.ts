import type { EventSubject } from './events.ts';
import type { JobState, RUN_TRANSITIONS } from './state-machines.ts';

type SubjectKind = EventSubject['kind'];
/** The states a run reaches by a transition; a run starts in `planning` without an event. */
type RunEventState = (typeof RUN_TRANSITIONS)[keyof typeof RUN_TRANSITIONS]['to'];

/** `job.<status>`: one per job state, written by the statement that makes the transition (DESIGN §9). */
const JOB_STATUS_EVENTS = {
  'job.pending': 'job',
  'job.queued': 'job',
  'job.throttled': 'job',
  'job.leased': 'job',
  'job.running': 'job',
  'job.succeeded': 'job',
  'job.failed': 'job',
  'job.canceled': 'job',
  'job.dead_lettered': 'job',
} as const satisfies Record<`job.${JobState}`, 'job'>;

/** `run.<status>`: one per state a run transition leads to. */
const RUN_STATUS_EVENTS = {
  'run.running': 'run',
  'run.succeeded': 'run',
  'run.failed': 'run',
  'run.canceled': 'run',
} as const satisfies Record<`run.${RunEventState}`, 'run'>;

/**
 * Every event type JobEngine writes, with the kind of subject it carries: the registry the published
 * contract is checked against. Each has a JSON Schema, `events/schemas/<type>.schema.json`; tests fail
 * when a type is written that is not listed here, or listed without a schema.
 */
export const EVENT_TYPES = {
  ...JOB_STATUS_EVENTS,
  'job.prioritized': 'job',
  'job.retry_requested': 'job',
  ...RUN_STATUS_EVENTS,
  'source.created': 'source',
  'source.updated': 'source',
  'source.paused': 'source',
  'source.resumed': 'source',
  'source.circuit_opened': 'source',
  'source.circuit_half_opened': 'source',
  'source.circuit_closed': 'source',
  'quota.created': 'quota',
  'quota.updated': 'quota',
  'quota.deleted': 'quota',
  'quota.paused': 'quota',
  'quota.resumed': 'quota',
  'bucket.created': 'bucket',
  'bucket.updated': 'bucket',
  'bucket.deleted': 'bucket',
  'bucket.throttled': 'bucket',
  'bucket.recovered': 'bucket',
  'throttle.created': 'throttle',
  'throttle.lifted': 'throttle',
  'incident.opened': 'incident',
  'incident.resolved': 'incident',
  'dead_letter.replayed': 'dead_letter',
  'dead_letter.discarded': 'dead_letter',
  'pack_run.created': 'pack_run',
  'schedule.created': 'schedule',
  'schedule.updated': 'schedule',
  'schedule.deleted': 'schedule',
  'schedule.paused': 'schedule',
  'schedule.resumed': 'schedule',
  'schedule.fired': 'schedule',
  'schedule.skipped': 'schedule',
  'watermark.advanced': 'watermark',
  'backfill.created': 'backfill',
  'backfill.paused': 'backfill',
  'backfill.resumed': 'backfill',
  'backfill.canceled': 'backfill',
  'backfill.succeeded': 'backfill',
  'backfill.failed': 'backfill',
} as const satisfies Record<string, SubjectKind>;

export type EventType = keyof typeof EVENT_TYPES;

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_TYPES, value);
}
