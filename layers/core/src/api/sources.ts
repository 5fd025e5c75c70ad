import { z } from 'zod';
import { pageQuery } from '../http/pagination.ts';

/** Request and response schemas of the sources API; the OpenAPI document is generated from these. */
export const sourceType = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'lowercase letters, digits, _ . - ; starting with a letter');
export const upstreamHost = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/i,
    'a host name, optionally with :port',
  )
  .transform((host) => host.toLowerCase());
export const projectId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a project id');
const name = z.string().trim().min(1).max(200);
const config = z.record(z.string().max(200), z.unknown());

export const CreateSourceBody = z.strictObject({
  name,
  type: sourceType,
  upstreamHost,
  projectId: projectId.optional(),
  config: config.default({}),
  enabled: z.boolean().default(true),
});
export type CreateSourceInput = z.output<typeof CreateSourceBody>;

export const UpdateSourceBody = z
  .strictObject({
    name: name.optional(),
    upstreamHost: upstreamHost.optional(),
    projectId: projectId.nullable().optional(),
    config: config.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field must be given' });
export type UpdateSourceInput = z.output<typeof UpdateSourceBody>;

const booleanParam = z.enum(['true', 'false']).transform((value) => value === 'true');

/** List order: id ascending (ids are UUIDv7, so this is creation order). */
export const ListSourcesQuery = z.strictObject({
  ...pageQuery,
  type: sourceType.optional(),
  upstream_host: upstreamHost.optional(),
  project_id: projectId.optional(),
  enabled: booleanParam.optional(),
  paused: booleanParam.optional(),
});
export type ListSourcesInput = z.output<typeof ListSourcesQuery>;

export const Source = z.object({
  id: z.uuid(),
  name: z.string(),
  type: z.string(),
  upstreamHost: z.string(),
  projectId: z.string().nullable(),
  config: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  paused: z.boolean(),
  pauseReason: z.string().nullable(),
  circuit: z.object({
    state: z.enum(['closed', 'open', 'half_open']),
    failures: z.number().int(),
    openedAt: z.string().nullable(),
  }),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Source = z.output<typeof Source>;
