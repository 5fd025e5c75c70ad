import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyWebsocketEventV2,
  ScheduledEvent,
  SQSEvent,
} from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../functions/routes.ts';

/**
 * The sample events in events/ are what `npm run invoke` feeds handlers, so a sample that drifts from
 * what AWS sends would hide bugs instead of finding them. The @types/aws-lambda types document the
 * shapes; the assertions check the fields our handlers read.
 */
const EVENTS_DIR = new URL('../../../events/', import.meta.url);
const TRIGGER_FOLDERS = ['rest', 'ws', 'sqs', 'scheduled'] as const;
const PLACEHOLDERS = ['DEV_TOKEN', 'SOURCE_ID', 'IDEMPOTENCY_KEY'];

const read = (file: string) => readFileSync(new URL(file, EVENTS_DIR), 'utf8');
const load = <T>(file: string): T => JSON.parse(read(file)) as T;

const sampleFiles = TRIGGER_FOLDERS.flatMap((folder) =>
  readdirSync(new URL(`${folder}/`, EVENTS_DIR))
    .filter((name) => name.endsWith('.json'))
    .map((name) => `${folder}/${name}`),
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('sample events', () => {
  it('all parse as JSON, and each is listed in events/README.md', () => {
    expect(sampleFiles.length).toBeGreaterThanOrEqual(8);
    const readme = read('README.md');
    for (const file of sampleFiles) {
      expect(() => JSON.parse(read(file)), file).not.toThrow();
      expect(readme, `${file} missing from events/README.md`).toContain(`\`${file}\``);
    }
  });

  it('use only the placeholders the README documents', () => {
    const readme = read('README.md');
    const used = new Set(
      sampleFiles.flatMap((f) => [...read(f).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1])),
    );
    expect([...used].sort()).toEqual([...PLACEHOLDERS].sort());
    for (const name of PLACEHOLDERS) expect(readme).toContain(`{{${name}}}`);
  });
});

describe.each(sampleFiles.filter((f) => f.startsWith('rest/')))('REST proxy event %s', (file) => {
  const event = load<APIGatewayProxyEvent>(file);

  it('targets a route of functions/routes.ts, with a consistent request context', () => {
    expect(ROUTES.some((r) => r.method === event.httpMethod && r.path === event.resource)).toBe(true);
    const { requestContext } = event;
    expect(requestContext.resourcePath).toBe(event.resource);
    expect(requestContext.httpMethod).toBe(event.httpMethod);
    expect(requestContext.path).toBe(`/${requestContext.stage}${event.path}`);
    expect(requestContext.requestId).toMatch(UUID);
    expect(requestContext.identity.sourceIp).toBeTruthy();
    expect(event.isBase64Encoded).toBe(false);
  });

  it('has a path that is the resource with its path parameters filled in', () => {
    const filled = event.resource.replace(
      /\{(\w+)\}/g,
      (_, name: string) => event.pathParameters?.[name] ?? '',
    );
    expect(event.path).toBe(filled);
  });

  it('carries the bearer token and tenant headers, mirrored in multiValueHeaders', () => {
    expect(event.headers.Authorization).toBe('Bearer {{DEV_TOKEN}}');
    expect(event.headers['X-Stella-Tenant']).toBe('acme');
    for (const [name, value] of Object.entries(event.headers)) {
      expect(event.multiValueHeaders[name], name).toEqual([value]);
    }
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      expect(event.multiValueQueryStringParameters?.[name], name).toEqual([value]);
    }
  });
});

describe('REST samples, one by one', () => {
  it('create-source POSTs a JSON body string describing the source', () => {
    const event = load<APIGatewayProxyEvent>('rest/create-source.json');
    expect(event.httpMethod).toBe('POST');
    expect(event.headers['Content-Type']).toBe('application/json');
    expect(event.headers['Idempotency-Key']).toBe('{{IDEMPOTENCY_KEY}}');
    expect(typeof event.body).toBe('string');
    expect(JSON.parse(event.body!)).toEqual({
      name: 'nvd-feed',
      type: 'advisory_feed',
      upstreamHost: 'services.nvd.example',
      config: { format: 'json' },
    });
  });

  it('list-sources asks for a page of 10', () => {
    const event = load<APIGatewayProxyEvent>('rest/list-sources.json');
    expect(event.queryStringParameters).toEqual({ page_size: '10' });
    expect(event.multiValueQueryStringParameters).toEqual({ page_size: ['10'] });
    expect(event.body).toBeNull();
  });

  it('get-source names the source in pathParameters', () => {
    const event = load<APIGatewayProxyEvent>('rest/get-source.json');
    expect(event.resource).toBe('/api/v1/sources/{id}');
    expect(event.pathParameters).toEqual({ id: '{{SOURCE_ID}}' });
  });
});

describe('WebSocket samples', () => {
  type WsEvent = APIGatewayProxyWebsocketEventV2 & {
    headers?: Record<string, string>;
    requestContext: { disconnectStatusCode?: number; identity: { sourceIp: string } };
  };
  const connect = load<WsEvent>('ws/connect.json');
  const message = load<WsEvent>('ws/message-subscribe.json');
  const disconnect = load<WsEvent>('ws/disconnect.json');

  it('route keys match event types', () => {
    expect(
      [connect, message, disconnect].map((e) => [e.requestContext.routeKey, e.requestContext.eventType]),
    ).toEqual([
      ['$connect', 'CONNECT'],
      ['$default', 'MESSAGE'],
      ['$disconnect', 'DISCONNECT'],
    ]);
  });

  it('belong to one connection on one API, in time order', () => {
    for (const event of [connect, message, disconnect]) {
      const { requestContext: rc } = event;
      expect(rc.connectionId).toBe(connect.requestContext.connectionId);
      expect(rc.domainName).toBe(`${rc.apiId}.execute-api.us-east-1.amazonaws.com`);
      expect(rc.connectedAt).toBe(connect.requestContext.connectedAt);
      expect(rc.messageDirection).toBe('IN');
      expect(rc.stage).toBe('prod');
      expect(rc.identity.sourceIp).toBeTruthy();
    }
    expect(connect.requestContext.requestTimeEpoch).toBeLessThan(message.requestContext.requestTimeEpoch);
    expect(message.requestContext.requestTimeEpoch).toBeLessThan(disconnect.requestContext.requestTimeEpoch);
  });

  it('$connect carries token and tenant in the query string (browsers cannot set WebSocket headers)', () => {
    expect(connect.queryStringParameters).toEqual({ token: '{{DEV_TOKEN}}', tenant: 'acme' });
    expect(connect.multiValueQueryStringParameters).toEqual({ token: ['{{DEV_TOKEN}}'], tenant: ['acme'] });
    expect(connect.headers?.['Sec-WebSocket-Version']).toBe('13');
  });

  it('$default carries a subscribe action as a JSON body string, with a message id', () => {
    expect(message.requestContext.messageId).toBeTruthy();
    expect(JSON.parse(message.body!)).toEqual({
      action: 'subscribe',
      filters: { eventTypes: ['job.leased'] },
    });
  });

  it('$disconnect has a close status code', () => {
    expect(disconnect.requestContext.disconnectStatusCode).toBe(1005);
  });
});

describe('SQS sample', () => {
  const event = load<SQSEvent>('sqs/plan-batch.json');

  it('holds two records from the plan queue', () => {
    expect(event.Records).toHaveLength(2);
    for (const record of event.Records) {
      expect(record.eventSource).toBe('aws:sqs');
      expect(record.eventSourceARN).toBe('arn:aws:sqs:us-east-1:123456789012:jobengine-plan');
      expect(record.awsRegion).toBe('us-east-1');
      expect(record.messageId).toMatch(UUID);
      expect(record.receiptHandle).toMatch(/^AQEB/);
    }
    expect(new Set(event.Records.map((r) => r.messageId)).size).toBe(2);
  });

  it('bodies are JSON strings naming a tenant and a UUIDv7 run, with their true MD5', () => {
    for (const record of event.Records) {
      expect(JSON.parse(record.body)).toEqual({ tenantId: 'acme', runId: expect.stringMatching(UUID_V7) });
      expect(record.md5OfBody).toBe(createHash('md5').update(record.body).digest('hex'));
    }
  });

  it('system attributes are strings, receive counts included', () => {
    expect(event.Records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    for (const { attributes } of event.Records) {
      expect(Number(attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
        Number(attributes.SentTimestamp),
      );
    }
  });
});

describe('scheduled sample', () => {
  const event = load<ScheduledEvent>('scheduled/tick.json');

  it('is an EventBridge Scheduled Event from a rule', () => {
    expect(event.source).toBe('aws.events');
    expect(event['detail-type']).toBe('Scheduled Event');
    expect(event.version).toBe('0');
    expect(event.id).toMatch(UUID);
    expect(event.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
    expect(event.resources).toEqual([expect.stringMatching(/^arn:aws:events:us-east-1:123456789012:rule\//)]);
    expect(event.detail).toEqual({});
  });
});
