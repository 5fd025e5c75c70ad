import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { traceClient } from '../../observability/tracing.ts';

/**
 * The one place AWS SDK clients are created. Each is built on first use and then kept for the life of
 * the container, so warm invocations reuse its connections and resolved credentials. On Lambda their
 * calls are traced (observability/tracing.ts).
 *
 * Endpoints are deliberately not configured here: the SDK itself reads `AWS_ENDPOINT_URL` (and the
 * per-service `AWS_ENDPOINT_URL_SQS`, ...), so pointing the whole app at LocalStack or moto is one
 * environment variable and nothing emulator-specific reaches production code paths.
 */

export const DEFAULT_AWS_REGION = 'us-east-1';

/** Lambda always sets `AWS_REGION`; the default only matters locally, where a missing region would throw. */
export function awsRegion(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION || DEFAULT_AWS_REGION;
}

let sqs: SQSClient | undefined;

export function sqsClient(): SQSClient {
  sqs ??= traceClient(new SQSClient({ region: awsRegion() }));
  return sqs;
}

let eventBridge: EventBridgeClient | undefined;

export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= traceClient(new EventBridgeClient({ region: awsRegion() }));
  return eventBridge;
}

let managementApi: { endpoint: string; client: ApiGatewayManagementApiClient } | undefined;

/**
 * The API Gateway management API of one WebSocket stage: the endpoint is the stage's https URL on AWS, the
 * local runtime's own URL locally (WS_MANAGEMENT_ENDPOINT).
 */
export function managementApiClient(endpoint: string): ApiGatewayManagementApiClient {
  if (managementApi?.endpoint !== endpoint) {
    managementApi = {
      endpoint,
      client: traceClient(new ApiGatewayManagementApiClient({ region: awsRegion(), endpoint })),
    };
  }
  return managementApi.client;
}

let s3: S3Client | undefined;

export function s3Client(): S3Client {
  // Path-style addressing works with every emulator and with real buckets alike.
  s3 ??= traceClient(new S3Client({ region: awsRegion(), forcePathStyle: true }));
  return s3;
}

let kms: KMSClient | undefined;

export function kmsClient(): KMSClient {
  kms ??= traceClient(new KMSClient({ region: awsRegion() }));
  return kms;
}
