import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';

/** The AWS API emulator the aws tier runs against, as found or started by `./setup.ts`. */
export interface AwsEmulator {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** null when no emulator is available: the aws tier skips. */
    awsEmulator: AwsEmulator | null;
  }
}

/** Typed as provided, but a file run outside the `aws` project (whose globalSetup provides it) gets undefined. */
const provided: AwsEmulator | null | undefined = inject('awsEmulator');
if (provided === undefined) {
  console.warn('aws tier skipped: run it as the `aws` project (npm run test:aws) so test/aws/setup.ts runs');
}

/** The emulator for this run, or null when there is none and the aws tier skips. */
export const awsEmulator: AwsEmulator | null = provided ?? null;

/**
 * Points the AWS SDK of this test worker at the emulator through the same environment variables a
 * deployed or local runtime uses, so `clients.ts` is exercised exactly as in production.
 */
export function useEmulator(emulator: AwsEmulator): void {
  process.env.AWS_ENDPOINT_URL = emulator.endpoint;
  process.env.AWS_REGION = emulator.region;
  process.env.AWS_ACCESS_KEY_ID = emulator.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = emulator.secretAccessKey;
}

/**
 * A queue with its dead-letter queue and redrive policy, shaped like the `plan`/`fanout` pairs the stack
 * deploys. Both URLs are returned so the caller can delete them after its tests.
 */
export async function createQueueWithDlq(
  client: SQSClient,
  name: string,
  options: { maxReceiveCount: number; visibilityTimeoutSeconds: number },
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl!;
  const attributes = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: attributes.Attributes?.QueueArn,
          maxReceiveCount: options.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: main.QueueUrl!, dlqUrl };
}
