import type {
  IdempotencyRecord,
  IdempotencyStore,
  KeyScope,
  StoredResponse,
} from '../../../../layers/core/src/http/idempotency.ts';

/**
 * An in-memory IdempotencyStore with the semantics of the SQL statements (claim with takeover of expired
 * and abandoned records, fenced complete and release). JavaScript runs each method's check-and-set without
 * interleaving, as the row lock does in PostgreSQL.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, IdempotencyRecord>();
  readonly calls: string[] = [];

  async claim(
    scope: KeyScope,
    claim: { requestHash: string; now: Date; expiresAt: Date; abandonedBefore: Date },
  ): Promise<Date | null> {
    this.calls.push('claim');
    const id = this.#id(scope);
    const existing = this.records.get(id);
    const free =
      !existing ||
      existing.expiresAt <= claim.now ||
      (existing.state === 'in_progress' &&
        existing.createdAt <= claim.abandonedBefore &&
        existing.requestHash === claim.requestHash);
    if (!free) return null;
    this.records.set(id, {
      requestHash: claim.requestHash,
      state: 'in_progress',
      response: null,
      createdAt: claim.now,
      expiresAt: claim.expiresAt,
    });
    return claim.now;
  }

  async find(scope: KeyScope): Promise<IdempotencyRecord | null> {
    this.calls.push('find');
    return this.records.get(this.#id(scope)) ?? null;
  }

  async complete(scope: KeyScope, claimedAt: Date, response: StoredResponse): Promise<boolean> {
    this.calls.push('complete');
    const record = this.#claimed(scope, claimedAt);
    if (!record) return false;
    this.records.set(this.#id(scope), { ...record, state: 'completed', response });
    return true;
  }

  async release(scope: KeyScope, claimedAt: Date): Promise<boolean> {
    this.calls.push('release');
    if (!this.#claimed(scope, claimedAt)) return false;
    return this.records.delete(this.#id(scope));
  }

  #claimed(scope: KeyScope, claimedAt: Date): IdempotencyRecord | undefined {
    const record = this.records.get(this.#id(scope));
    return record?.state === 'in_progress' && record.createdAt.getTime() === claimedAt.getTime()
      ? record
      : undefined;
  }

  #id(scope: KeyScope): string {
    return JSON.stringify([scope.tenantId, scope.route, scope.key]);
  }
}
