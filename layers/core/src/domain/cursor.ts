import { createHmac, timingSafeEqual } from 'node:crypto';
import { digestOf } from './canonical-json.ts';
import { AppError } from './errors.ts';

/**
 * Opaque page tokens. A token carries the sort key of the last row served and is bound to the list it
 * came from (route + filters) and signed, so a token that was edited, forged, or replayed against a
 * different query is rejected with 400 INVALID_PAGE_TOKEN instead of silently skipping rows.
 *
 * Format: base64url(JSON payload) + '.' + base64url(HMAC-SHA256(secret, payload))[0..22]
 */
export type CursorKey = ReadonlyArray<string | number>;

interface CursorPayload {
  v: 1;
  /** digest of the list scope: route + normalized filters */
  s: string;
  /** sort key of the last row returned, ending with its id */
  k: CursorKey;
}

const SIGNATURE_CHARS = 22;
const MAX_TOKEN_LENGTH = 1024;

export class CursorCodec {
  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new Error('CursorCodec: secret must be at least 16 characters');
  }

  encode(scope: unknown, key: CursorKey): string {
    const payload: CursorPayload = { v: 1, s: digestOf(scope), k: key };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** Returns the sort key, or throws INVALID_PAGE_TOKEN. */
  decode(scope: unknown, token: string): CursorKey {
    const invalid = () =>
      new AppError('INVALID_PAGE_TOKEN', 'page_token is invalid or belongs to another query');
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw invalid();
    const dot = token.indexOf('.');
    if (dot <= 0) throw invalid();
    const body = token.slice(0, dot);
    const signature = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(body));
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw invalid();
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (!isPayload(payload) || payload.s !== digestOf(scope)) throw invalid();
    return payload.k;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, SIGNATURE_CHARS);
  }
}

function isPayload(value: unknown): value is CursorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    p.v === 1 &&
    typeof p.s === 'string' &&
    Array.isArray(p.k) &&
    p.k.length > 0 &&
    p.k.every((part) => typeof part === 'string' || typeof part === 'number')
  );
}
