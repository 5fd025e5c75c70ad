/**
 * Wakes stream readers of a tenant when its events may have changed. In the local runtime every function
 * shares one process, so the fanout hint sent after a commit reaches the SSE readers at once; on AWS no
 * one notifies a streaming function's container and its readers simply poll. Only latency depends on it:
 * a reader always re-reads the event log after waking, notified or not.
 */
export class StreamNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(tenantId: string): void {
    for (const wake of [...(this.waiters.get(tenantId) ?? [])]) wake();
  }

  /** Resolves on the tenant's next notification, after `timeoutMs`, or when `signal` aborts. */
  wait(tenantId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      let waiters = this.waiters.get(tenantId);
      if (!waiters) {
        waiters = new Set();
        this.waiters.set(tenantId, waiters);
      }
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        const current = this.waiters.get(tenantId);
        current?.delete(wake);
        if (current?.size === 0) this.waiters.delete(tenantId);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}
