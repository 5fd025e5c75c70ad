import {
  GetQueueAttributesCommand,
  SQSClient,
  SQSServiceException,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isMoveTaskUnavailable,
  SqsDeadLetterQueue,
} from '../../../layers/core/src/adapters/aws/sqs-dead-letter-queue.ts';

const ACCOUNT = 'https://sqs.us-east-1.amazonaws.com/123456789012';
const sqsMock = mockClient(SQSClient);
let dlq: SqsDeadLetterQueue;

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string; AttributeNames: string[] }) => {
    if (input.AttributeNames.includes('QueueArn')) {
      return {
        Attributes: { QueueArn: `arn:aws:sqs:us-east-1:123456789012:${input.QueueUrl.split('/').pop()}` },
      };
    }
    return { Attributes: { ApproximateNumberOfMessages: '7', ApproximateNumberOfMessagesNotVisible: '2' } };
  });
  dlq = new SqsDeadLetterQueue(
    new SQSClient({ region: 'us-east-1' }),
    `${ACCOUNT}/plan-dlq`,
    `${ACCOUNT}/plan`,
  );
});
afterEach(() => sqsMock.reset());

const serviceError = (name: string, status: number, message = name) =>
  new SQSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });

describe('SqsDeadLetterQueue', () => {
  it('counts visible and in-flight messages', async () => {
    expect(await dlq.approximateSize()).toBe(9);
  });

  it('starts a move task from the DLQ to its source queue and returns the handle', async () => {
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    expect(await dlq.startMoveTask()).toBe('task-1');
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: 'arn:aws:sqs:us-east-1:123456789012:plan-dlq',
      DestinationArn: 'arn:aws:sqs:us-east-1:123456789012:plan',
    });
  });

  it('resolves null where the endpoint lacks the API, so the caller falls back', async () => {
    // moto: an HTML 500 page the SDK cannot parse
    const html = Object.assign(new SyntaxError('Unexpected token \'<\', "<!doctype "... is not valid JSON'), {
      $metadata: { httpStatusCode: 500 },
    });
    sqsMock.on(StartMessageMoveTaskCommand).rejects(html);
    expect(await dlq.startMoveTask()).toBeNull();
    sqsMock.on(StartMessageMoveTaskCommand).rejects(serviceError('InvalidAction', 400));
    expect(await dlq.startMoveTask()).toBeNull();
  });

  it('answers 409 while a move task already runs, and rethrows anything else', async () => {
    sqsMock
      .on(StartMessageMoveTaskCommand)
      .rejects(serviceError('UnsupportedOperation', 400, 'There is already a task running for this queue'));
    await expect(dlq.startMoveTask()).rejects.toMatchObject({ code: 'CONFLICT', status: 409 });
    sqsMock.on(StartMessageMoveTaskCommand).rejects(serviceError('AccessDenied', 403));
    await expect(dlq.startMoveTask()).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('tells a missing API from a real failure', () => {
    expect(isMoveTaskUnavailable(serviceError('UnknownOperationException', 400))).toBe(true);
    expect(isMoveTaskUnavailable(serviceError('Whatever', 501))).toBe(true);
    expect(isMoveTaskUnavailable(serviceError('ResourceNotFoundException', 400))).toBe(false);
    expect(isMoveTaskUnavailable(serviceError('ThrottlingException', 400))).toBe(false);
    expect(isMoveTaskUnavailable('not an error')).toBe(false);
  });
});
