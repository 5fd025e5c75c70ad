/**
 * Claims an `Idempotency-Key` for one request: inserts the record `in_progress` and answers its
 * `created_at`, which the claimant later presents to complete or release it (a compare-and-set token).
 *
 * A conflicting record is taken over only when it no longer counts: past its TTL (any request may reuse
 * the key), or still `in_progress` since before `$7` for the same request (its claimant died). The
 * conflicting row is locked and the condition re-checked against its latest version, so of several
 * concurrent claimants exactly one gets a row back. No row back = someone else holds the key; read it with
 * FIND_IDEMPOTENCY_KEY (a new statement, whose snapshot sees the holder's committed row).
 */
export const CLAIM_IDEMPOTENCY_KEY = {
  name: 'claim_idempotency_key_v1',
  text: `
INSERT INTO idempotency_keys AS k (tenant_id, route, key, request_hash, state, created_at, expires_at)
VALUES ($1, $2, $3, $4, 'in_progress', $5, $6)
ON CONFLICT (tenant_id, route, key) DO UPDATE
   SET request_hash = excluded.request_hash, state = 'in_progress', response_status = NULL,
       response_headers = NULL, response_body = NULL, created_at = excluded.created_at,
       expires_at = excluded.expires_at
 WHERE k.expires_at <= excluded.created_at
    OR (k.state = 'in_progress' AND k.created_at <= $7 AND k.request_hash = excluded.request_hash)
RETURNING created_at`,
};

export interface ClaimIdempotencyKeyParams {
  tenantId: string;
  route: string;
  key: string;
  requestHash: string;
  now: Date;
  expiresAt: Date;
  /** An `in_progress` record created at or before this instant is abandoned. */
  abandonedBefore: Date;
}

export function claimIdempotencyKeyValues(p: ClaimIdempotencyKeyParams): unknown[] {
  return [p.tenantId, p.route, p.key, p.requestHash, p.now, p.expiresAt, p.abandonedBefore];
}
