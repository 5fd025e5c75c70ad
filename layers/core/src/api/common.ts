import { z } from 'zod';

/** Shared field shapes of the public API. */
export const uuid = z.uuid();
export const jobType = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'lowercase letters, digits, _ . - ; starting with a letter');
export const jobKey = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'letters, digits, _ . : - ; up to 128');
export const priority = z.number().int().min(-100).max(100);
export const digest = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, 'sha256: followed by 64 lowercase hex digits');
export const timestamp = z.iso.datetime({ offset: true });
export const errorCode = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'UPPER_SNAKE');
export const booleanParam = z.enum(['true', 'false']).transform((value) => value === 'true');
