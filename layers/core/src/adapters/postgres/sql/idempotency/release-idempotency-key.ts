/**
 * Forgets a claim whose request ended without a response worth keeping (5xx, 429), so a retry with the
 * same key runs again. Fenced by the claim's `created_at`, like COMPLETE_IDEMPOTENCY_KEY.
 */
export const RELEASE_IDEMPOTENCY_KEY = {
  name: 'release_idempotency_key_v1',
  text: `
DELETE FROM idempotency_keys
 WHERE tenant_id = $1 AND route = $2 AND key = $3 AND created_at = $4 AND state = 'in_progress'
RETURNING created_at`,
};

export function releaseIdempotencyKeyValues(p: {
  tenantId: string;
  route: string;
  key: string;
  claimedAt: Date;
}): unknown[] {
  return [p.tenantId, p.route, p.key, p.claimedAt];
}
