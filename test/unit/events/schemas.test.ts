import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { truncatedEvent } from '../../../layers/core/src/adapters/aws/eventbridge-publisher.ts';
import { EVENT_TYPES, type EventType } from '../../../layers/core/src/domain/event-types.ts';
import { JOB_STATES, RUN_TRANSITIONS } from '../../../layers/core/src/domain/state-machines.ts';
import type { PublishableEvent } from '../../../layers/core/src/ports/event-publisher.ts';
import { describeErrors, loadEventSchemas } from '../../support/event-schemas.ts';

/**
 * The published event contract (events/schemas, events/README.md) against the code's registry of event
 * types (domain/event-types.ts). Real envelopes, written by the real SQL, are validated against these
 * schemas by test/integration/publisher.test.ts.
 */
const schemas = loadEventSchemas();
const SCHEMA_BASE = 'https://schemas.stellaops.dev/jobengine/events/';
const CORE_SRC = new URL('../../../layers/core/src/', import.meta.url);
const REGISTERED = Object.keys(EVENT_TYPES) as EventType[];

/** Every core source file, with its text. */
const sources = readdirSync(CORE_SRC, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts') && !name.endsWith('event-types.ts'))
  .map((name) => ({ name, text: readFileSync(new URL(name, CORE_SRC), 'utf8') }));
const SUBJECT_KINDS = [...new Set(Object.values(EVENT_TYPES))];
const KIND = `(?:${SUBJECT_KINDS.join('|')})`;

describe('event schema files', () => {
  it('are draft 2020-12 schemas with an $id naming their path, that compile in strict mode', () => {
    expect(schemas.files.size).toBeGreaterThan(REGISTERED.length);
    for (const [name, schema] of schemas.files) {
      expect(schema.$schema, name).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id, name).toBe(`${SCHEMA_BASE}${name}`);
      expect(schema.title, name).toBeTruthy();
    }
  });

  it('exist for exactly the registered event types', () => {
    expect([...schemas.eventTypes].sort()).toEqual([...REGISTERED].sort());
  });

  it('let the envelope carry exactly the subject kinds of the registered types', () => {
    const envelope = schemas.files.get('orch.event.v1.schema.json')!;
    const kinds = (envelope.properties as { subject: { properties: { kind: { enum: string[] } } } }).subject
      .properties.kind.enum;
    expect([...kinds].sort()).toEqual([...SUBJECT_KINDS].sort());
  });

  it.each(REGISTERED)('%s: pins the event type and its subject kind, on top of the envelope', (type) => {
    const schema = schemas.files.get(`${type}.schema.json`)!;
    expect(schema.$ref).toBe('orch.event.v1.schema.json');
    const properties = schema.properties as {
      eventType: { const: string };
      subject: { properties: { kind: { const: string } } };
    };
    expect(properties.eventType.const).toBe(type);
    expect(properties.subject.properties.kind.const).toBe(EVENT_TYPES[type]);
  });
});

describe('event type registry', () => {
  it('has a job.<status> for every job state and a run.<status> for every state a run transition reaches', () => {
    for (const state of JOB_STATES) expect(REGISTERED).toContain(`job.${state}`);
    for (const { to } of Object.values(RUN_TRANSITIONS)) expect(REGISTERED).toContain(`run.${to}`);
  });

  it('lists every event type written by a literal in the core (TypeScript and SQL)', () => {
    // Audit actions (`action: 'schedule.create'`) share the `<kind>.<verb>` shape but are no event types.
    const literal = new RegExp(`(?<!action: )'(${KIND}\\.[a-z_]+)'`, 'g');
    // jobengine_job_event(<event id>, $1, '<status>', ...) writes job.<status>
    const jobEvent = /jobengine_job_event\(\w+\.event_id,\s*\$1,\s*'([a-z_]+)'/g;
    const written = sources.flatMap(({ name, text }) => [
      ...[...text.matchAll(literal)].map((m) => ({ name, type: m[1]! })),
      ...[...text.matchAll(jobEvent)].map((m) => ({ name, type: `job.${m[1]}` })),
    ]);
    expect(written.length).toBeGreaterThan(5);
    expect(written.filter(({ type }) => type.startsWith('job.')).length).toBeGreaterThan(3);
    for (const { name, type } of written) expect(REGISTERED, `${type} in ${name}`).toContain(type);
  });

  it('has types for every computed prefix (`run.` || status) the SQL writes', () => {
    const prefixes = sources.flatMap(({ text }) =>
      [...text.matchAll(new RegExp(`'(${KIND})\\.'\\s*\\|\\|`, 'g'))].map((m) => m[1]!),
    );
    expect(prefixes.length).toBeGreaterThan(0);
    for (const prefix of prefixes) {
      expect(REGISTERED.some((type) => type.startsWith(`${prefix}.`))).toBe(true);
    }
  });
});

describe('schemas constrain events', () => {
  const jobId = '0190a6b2-6c3e-7d4f-8a1b-2c3d4e5f6a7b';
  const leased: PublishableEvent = {
    schema: 'orch.event.v1',
    eventId: '0190a6b2-6c3f-7000-8000-000000000001',
    eventType: 'job.leased',
    occurredAt: '2025-01-02T03:04:05.678Z',
    seq: 42,
    idempotencyKey: `orch-job.leased-${jobId}-1`,
    correlationId: 'corr-1',
    tenantId: 'acme',
    projectId: null,
    actor: { subject: 'worker-1', scopes: ['orch:operate'] },
    subject: {
      kind: 'job',
      id: jobId,
      data: {
        id: jobId,
        type: 'advisory.fetch',
        runId: '0190a6b2-6c3e-7000-8000-00000000000a',
        attempt: 1,
        leaseId: '5f0c7e0e-9a43-4c43-9a5e-2b1c3d4e5f60',
        status: 'leased',
        reason: null,
        payloadDigest: `sha256:${'a'.repeat(64)}`,
        artifacts: [],
      },
    },
  };
  const withData = (data: Record<string, unknown>) => ({
    ...leased,
    subject: { ...leased.subject, data: { ...leased.subject.data, ...data } },
  });

  it('accept a well-formed job.leased event', () => {
    const validate = schemas.forType('job.leased');
    expect(validate(leased), describeErrors(validate)).toBe(true);
    expect(schemas.envelope(leased)).toBe(true);
  });

  it.each([
    ['another status in the data', withData({ status: 'running' })],
    ['no lease id', withData({ leaseId: null })],
    ['a field the contract does not have', withData({ payload: {} })],
    ['an idempotency key of another type', { ...leased, idempotencyKey: `orch-job.running-${jobId}-1` }],
    ['a subject of another kind', { ...leased, subject: { ...leased.subject, kind: 'run' } }],
    ['a local time', { ...leased, occurredAt: '2025-01-02T03:04:05.678+01:00' }],
    ['no seq', { ...leased, seq: undefined }],
    ['an extra envelope field', { ...leased, extra: true }],
  ])('refuse a job.leased event with %s', (_, event) => {
    const plain = JSON.parse(JSON.stringify(event));
    expect(schemas.forType('job.leased')(plain)).toBe(false);
  });

  it('describe the truncated reference the bus carries for oversized events', () => {
    const reference = truncatedEvent(leased);
    expect(schemas.truncated(reference), describeErrors(schemas.truncated)).toBe(true);
    expect(reference).not.toHaveProperty('subject.data');
    expect(schemas.envelope(reference)).toBe(false);
  });
});
