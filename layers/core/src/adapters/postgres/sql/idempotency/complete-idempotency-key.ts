/**
 * Stores the response of the request that claimed the key. Fenced by the claim's `created_at`: if the
 * record was taken over (this claimant was presumed dead) or released meanwhile, nothing is written.
 */
export const COMPLETE_IDEMPOTENCY_KEY = {
  name: 'complete_idempotency_key_v1',
  text: `
UPDATE idempotency_keys
   SET state = 'completed', response_status = $5, response_headers = $6, response_body = $7
 WHERE tenant_id = $1 AND route = $2 AND key = $3 AND created_at = $4 AND state = 'in_progress'
RETURNING created_at`,
};

export interface CompleteIdempotencyKeyParams {
  tenantId: string;
  route: string;
  key: string;
  claimedAt: Date;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function completeIdempotencyKeyValues(p: CompleteIdempotencyKeyParams): unknown[] {
  return [p.tenantId, p.route, p.key, p.claimedAt, p.status, JSON.stringify(p.headers), p.body];
}
