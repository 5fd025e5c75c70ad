/**
 * Posts a message to a WebSocket connection: API Gateway's management API on AWS, the local gateway's
 * `/@connections` locally (the same SDK client). `gone` = 410, the connection no longer exists; any other
 * failure throws.
 */
export interface ConnectionPoster {
  post(connectionId: string, data: string): Promise<'sent' | 'gone'>;
}
