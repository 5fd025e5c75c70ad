/**
 * A subscription as stored in `ws_connections.subscriptions`: the client's id and filters, a key minted
 * per `subscribe` (a re-subscription with the same id is a new subscription), and the stream position
 * delivered so far (`<tx>.<seq>`).
 */
export interface StoredSubscription {
  id: string;
  key: string;
  filters: {
    runId?: string;
    jobId?: string;
    jobType?: string;
    sourceId?: string;
    eventTypes?: string[];
  };
  position: string;
}
