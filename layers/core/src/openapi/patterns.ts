import type { z } from 'zod';

/**
 * JSON Schema patterns have no flags, and zod emits a regex's source without them. A case-insensitive
 * regex (`/^[a-z]+$/i`) would be documented stricter than it validates, so its source is rewritten with
 * both cases spelled out (`^[a-zA-Z]+$`).
 */
export function caseInsensitiveSource(source: string): string {
  if (/\(\?<|\\[pPuxck]/.test(source)) {
    throw new Error(`openapi: cannot spell out the case-insensitive pattern ${source}`);
  }
  const other = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
  const isLetter = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/.test(c);
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      out += source.slice(i, i + 2);
      i++;
    } else if (inClass) {
      if (c === ']') {
        inClass = false;
        out += c;
      } else if (isLetter(c) && source[i + 1] === '-' && isLetter(source[i + 2])) {
        const end = source[i + 2]!;
        out += `${c}-${end}${other(c)}-${other(end)}`;
        i += 2;
      } else {
        out += isLetter(c) ? `${c}${other(c)}` : c;
      }
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (source[i + 1] === '^') {
        out += '^';
        i++;
      }
    } else {
      out += isLetter(c) ? `[${c}${other(c)}]` : c;
    }
  }
  return out;
}

interface CheckDef {
  _zod: { def: { pattern?: unknown } };
}

/** `override` for z.toJSONSchema: documents case-insensitive string patterns as they validate. */
export function flaggedPatterns(ctx: { zodSchema: unknown; jsonSchema: { pattern?: string } }): void {
  if (typeof ctx.jsonSchema.pattern !== 'string') return;
  const def = (ctx.zodSchema as z.ZodType)._zod.def as { checks?: CheckDef[] };
  const patterns = (def.checks ?? [])
    .map((check) => check._zod.def.pattern)
    .filter((pattern): pattern is RegExp => pattern instanceof RegExp);
  const [regex] = patterns;
  if (patterns.length === 1 && regex!.flags.includes('i') && regex!.source === ctx.jsonSchema.pattern) {
    ctx.jsonSchema.pattern = caseInsensitiveSource(regex!.source);
  }
}
