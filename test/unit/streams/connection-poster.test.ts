import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiGatewayConnectionPoster } from '../../../layers/core/src/adapters/aws/connection-poster.ts';

const management = mockClient(ApiGatewayManagementApiClient);
const poster = new ApiGatewayConnectionPoster(
  new ApiGatewayManagementApiClient({
    region: 'us-east-1',
    endpoint: 'https://example.execute-api.us-east-1.amazonaws.com/live',
  }),
);

afterEach(() => management.reset());

describe('ApiGatewayConnectionPoster', () => {
  it('posts the message as UTF-8 bytes to the connection', async () => {
    management.on(PostToConnectionCommand).resolves({});
    await expect(poster.post('abc=', '{"type":"events","items":[]}')).resolves.toBe('sent');
    const input = management.commandCalls(PostToConnectionCommand)[0]!.args[0].input;
    expect(input.ConnectionId).toBe('abc=');
    expect(Buffer.from(input.Data as Uint8Array).toString('utf8')).toBe('{"type":"events","items":[]}');
  });

  it('answers gone for 410 GoneException', async () => {
    management.on(PostToConnectionCommand).rejects(new GoneException({ message: 'Gone', $metadata: {} }));
    await expect(poster.post('abc=', '{}')).resolves.toBe('gone');
  });

  it('throws anything else', async () => {
    management.on(PostToConnectionCommand).rejects(new ForbiddenException({ message: 'no', $metadata: {} }));
    await expect(poster.post('abc=', '{}')).rejects.toBeInstanceOf(ForbiddenException);
  });
});
