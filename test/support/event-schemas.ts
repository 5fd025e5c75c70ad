import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** events/schemas: the published event contract (events/README.md). */
export const SCHEMAS_DIR = new URL('../../events/schemas/', import.meta.url);
export const ENVELOPE_FILE = 'orch.event.v1.schema.json';
export const TRUNCATED_FILE = 'orch.event.v1.truncated.schema.json';

export interface EventSchemas {
  /** Every schema file, relative to events/schemas, with its parsed content. */
  files: Map<string, { $id: string; title?: string } & Record<string, unknown>>;
  /** Event types that have a `<type>.schema.json`. */
  eventTypes: string[];
  envelope: ValidateFunction;
  truncated: ValidateFunction;
  /** The validator of one event type's schema; throws for a type without one. */
  forType(eventType: string): ValidateFunction;
}

/**
 * Loads every schema under events/schemas into one strict ajv (draft 2020-12, formats checked), so that
 * relative `$ref`s resolve between files exactly as a consumer's validator resolves them by `$id`.
 */
export function loadEventSchemas(): EventSchemas {
  const names = readdirSync(SCHEMAS_DIR, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.schema.json'))
    .sort();
  const files = new Map(
    names.map((name) => [name, JSON.parse(readFileSync(new URL(name, SCHEMAS_DIR), 'utf8'))] as const),
  );
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const schema of files.values()) ajv.addSchema(schema);
  // Compiled now, so that a schema strict mode refuses fails the load rather than its first use.
  const validators = new Map([...files].map(([name, schema]) => [name, ajv.getSchema(schema.$id)!]));
  const compile = (name: string) => {
    const validate = validators.get(name);
    if (!validate) throw new Error(`no schema events/schemas/${name}`);
    return validate;
  };
  const eventTypes = names
    .filter((name) => !name.includes('/') && name !== ENVELOPE_FILE && name !== TRUNCATED_FILE)
    .map((name) => name.replace(/\.schema\.json$/, ''));
  return {
    files,
    eventTypes,
    envelope: compile(ENVELOPE_FILE),
    truncated: compile(TRUNCATED_FILE),
    forType: (eventType) => compile(`${eventType}.schema.json`),
  };
}

/** ajv's errors as one readable line per problem, for assertion messages. */
export function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
}
