/** The record of an `Idempotency-Key`, expired or not (the caller compares `expires_at` with its clock). */
export const FIND_IDEMPOTENCY_KEY = {
  name: 'find_idempotency_key_v1',
  text: `
SELECT request_hash, state, response_status, response_headers, response_body, created_at, expires_at
  FROM idempotency_keys
 WHERE tenant_id = $1 AND route = $2 AND key = $3`,
};

export interface IdempotencyKeyRow {
  request_hash: string;
  state: 'in_progress' | 'completed';
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  created_at: Date;
  expires_at: Date;
}

export function findIdempotencyKeyValues(p: { tenantId: string; route: string; key: string }): unknown[] {
  return [p.tenantId, p.route, p.key];
}
