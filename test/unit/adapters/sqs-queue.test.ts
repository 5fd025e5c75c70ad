import {
  DeleteMessageBatchCommand,
  type DeleteMessageBatchRequestEntry,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueueBatchError, SqsQueue } from '../../../layers/core/src/adapters/aws/sqs-queue.ts';
import type { QueueMessage } from '../../../layers/core/src/ports/queue.ts';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobengine-plan';

const sqsMock = mockClient(SQSClient);
let queue: SqsQueue;

beforeEach(() => {
  sqsMock.reset();
  queue = new SqsQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL, {
    maxAttempts: 3,
    retryDelayMs: 0,
  });
});

afterEach(() => {
  sqsMock.reset();
});

const bodiesOf = (n: number) => Array.from({ length: n }, (_, i) => `{"runId":"run-${i}"}`);

function sentEntries(): SendMessageBatchRequestEntry[][] {
  return sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);
}

function deletedEntries(): DeleteMessageBatchRequestEntry[][] {
  return sqsMock.commandCalls(DeleteMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);
}

function sqsMessage(i: number, receiveCount?: string) {
  return {
    MessageId: `m-${i}`,
    ReceiptHandle: `r-${i}`,
    Body: `body-${i}`,
    Attributes: receiveCount === undefined ? {} : { ApproximateReceiveCount: receiveCount },
  };
}

describe('SqsQueue.sendBatch', () => {
  it('sends 25 bodies as chunks of 10, 10 and 5, every body exactly once, to the configured queue', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    await queue.sendBatch(bodiesOf(25));

    const chunks = sentEntries();
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(chunks.flat().map((e) => e.MessageBody)).toEqual(bodiesOf(25));
    for (const call of sqsMock.commandCalls(SendMessageBatchCommand)) {
      expect(call.args[0].input.QueueUrl).toBe(QUEUE_URL);
      const ids = call.args[0].input.Entries?.map((e) => e.Id) ?? [];
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('makes no call for an empty batch', async () => {
    await queue.sendBatch([]);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('re-sends only the entries that failed, with their original bodies', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [
          { Id: '3', Code: 'InternalError', Message: 'try again', SenderFault: false },
          { Id: '7', Code: 'ServiceUnavailable', Message: 'try again', SenderFault: false },
        ],
      })
      .resolves({ Failed: [] });

    await queue.sendBatch(bodiesOf(10));

    const chunks = sentEntries();
    expect(chunks).toHaveLength(2);
    expect(chunks[1]?.map((e) => e.MessageBody)).toEqual([`{"runId":"run-3"}`, `{"runId":"run-7"}`]);
  });

  it('gathers failures from several chunks into one retry call', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '2', Code: 'InternalError', SenderFault: false }] })
      .resolvesOnce({ Failed: [{ Id: '14', Code: 'InternalError', SenderFault: false }] })
      .resolves({ Failed: [] });

    await queue.sendBatch(bodiesOf(15));

    expect(sentEntries().map((c) => c.map((e) => e.MessageBody))).toEqual([
      bodiesOf(10),
      bodiesOf(15).slice(10),
      [`{"runId":"run-2"}`, `{"runId":"run-14"}`],
    ]);
  });

  it('throws a QueueBatchError naming the entries that still fail after maxAttempts', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
      Failed: input.Entries.filter((e) => e.Id === '4').map((e) => ({
        Id: e.Id,
        Code: 'InternalError',
        Message: 'still broken',
        SenderFault: false,
      })),
    }));

    const error = await queue.sendBatch(bodiesOf(12)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(QueueBatchError);
    const batchError = error as QueueBatchError;
    expect(batchError.message).toContain('bodies[4] (InternalError: still broken)');
    expect(batchError.message).toContain('after 3 attempt(s)');
    expect(batchError.failures).toEqual([
      { entry: 'bodies[4]', code: 'InternalError', message: 'still broken', senderFault: false },
    ]);
    // 2 chunks on the first attempt, then one single-entry call per retry.
    expect(sentEntries().map((c) => c.length)).toEqual([10, 2, 1, 1]);
  });

  it('does not retry entries SQS rejects as the sender fault', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: '1', Code: 'InvalidParameterValue', Message: 'too long', SenderFault: true }],
    });

    await expect(queue.sendBatch(bodiesOf(3))).rejects.toThrow(
      /bodies\[1\] \(InvalidParameterValue: too long\)/,
    );
    expect(sentEntries()).toHaveLength(1);
  });

  it('lets whole-request errors through unchanged (the SDK already retried them)', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('AccessDenied'));
    await expect(queue.sendBatch(bodiesOf(1))).rejects.toThrow('AccessDenied');
  });
});

describe('SqsQueue.receive', () => {
  it('long-polls with the requested wait, at most 10 messages, asking for ApproximateReceiveCount', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [sqsMessage(1, '1')] });

    await queue.receive(5, 20);

    const calls = sqsMock.commandCalls(ReceiveMessageCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      MaxNumberOfMessages: 5,
      WaitTimeSeconds: 20,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    });
  });

  it('maps SQS messages to QueueMessages, parsing the receive count', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({
      Messages: [sqsMessage(1, '1'), sqsMessage(2, '3'), sqsMessage(3), sqsMessage(4, 'garbage')],
    });

    const messages = await queue.receive(10, 0);

    expect(messages).toEqual<QueueMessage[]>([
      { id: 'm-1', body: 'body-1', receiveCount: 1, receipt: 'r-1' },
      { id: 'm-2', body: 'body-2', receiveCount: 3, receipt: 'r-2' },
      { id: 'm-3', body: 'body-3', receiveCount: 1, receipt: 'r-3' },
      { id: 'm-4', body: 'body-4', receiveCount: 1, receipt: 'r-4' },
    ]);
  });

  it('resolves with [] when the long poll returns nothing', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({});
    await expect(queue.receive(10, 1)).resolves.toEqual([]);
  });

  it('tops up past 10 without waiting again, and stops at the first short batch', async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: Array.from({ length: 10 }, (_, i) => sqsMessage(i, '1')) })
      .resolvesOnce({ Messages: Array.from({ length: 4 }, (_, i) => sqsMessage(10 + i, '1')) })
      .resolves({ Messages: [sqsMessage(99, '1')] });

    const messages = await queue.receive(25, 20);

    expect(messages.map((m) => m.id)).toEqual(Array.from({ length: 14 }, (_, i) => `m-${i}`));
    const inputs = sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.MaxNumberOfMessages, i.WaitTimeSeconds])).toEqual([
      [10, 20],
      [10, 0],
    ]);
  });

  it('never asks for more than max in total', async () => {
    sqsMock.on(ReceiveMessageCommand).callsFake((input: { MaxNumberOfMessages: number }) => ({
      Messages: Array.from({ length: input.MaxNumberOfMessages }, (_, i) => sqsMessage(i, '1')),
    }));

    const messages = await queue.receive(12, 0);

    expect(messages).toHaveLength(12);
    const inputs = sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.MaxNumberOfMessages)).toEqual([10, 2]);
  });

  it('clamps the wait to what SQS accepts', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({});
    await queue.receive(1, 60);
    await queue.receive(1, -1);
    const waits = sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.WaitTimeSeconds);
    expect(waits).toEqual([20, 0]);
  });

  it('rejects a max that is not a positive integer, and a NaN wait', async () => {
    await expect(queue.receive(0, 0)).rejects.toThrow(RangeError);
    await expect(queue.receive(1, Number.NaN)).rejects.toThrow(RangeError);
    expect(sqsMock.calls()).toHaveLength(0);
  });
});

describe('SqsQueue.ack', () => {
  const received = (n: number): QueueMessage[] =>
    Array.from({ length: n }, (_, i) => ({ id: `m-${i}`, body: '', receiveCount: 1, receipt: `r-${i}` }));

  it('deletes by receipt handle in chunks of 10', async () => {
    sqsMock.on(DeleteMessageBatchCommand).resolves({ Failed: [] });

    await queue.ack(received(23));

    const chunks = deletedEntries();
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 3]);
    expect(chunks.flat().map((e) => e.ReceiptHandle)).toEqual(received(23).map((m) => m.receipt));
  });

  it('retries failed deletes and names the message ids that never succeed', async () => {
    sqsMock
      .on(DeleteMessageBatchCommand)
      .callsFake((input: { Entries: DeleteMessageBatchRequestEntry[] }) => ({
        Failed: input.Entries.filter((e) => e.ReceiptHandle === 'r-2').map((e) => ({
          Id: e.Id,
          Code: 'InternalError',
          SenderFault: false,
        })),
      }));

    await expect(queue.ack(received(3))).rejects.toThrow(
      /DeleteMessageBatch: 1 entries .* m-2 \(InternalError/,
    );
    expect(deletedEntries().map((c) => c.map((e) => e.ReceiptHandle))).toEqual([
      ['r-0', 'r-1', 'r-2'],
      ['r-2'],
      ['r-2'],
    ]);
  });

  it('makes no call when there is nothing to acknowledge', async () => {
    await queue.ack([]);
    expect(sqsMock.calls()).toHaveLength(0);
  });
});
