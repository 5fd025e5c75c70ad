import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalResponseStream } from '../../../local/streaming-response.ts';

/** The local gateway's side of a streaming integration: prelude → status and headers, then the body. */
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

async function serve(write: (stream: LocalResponseStream) => void | Promise<void>) {
  let stream: LocalResponseStream | undefined;
  server = createServer((_request, response) => {
    stream = new LocalResponseStream(response);
    void write(stream);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, stream: () => stream };
}

describe('LocalResponseStream', () => {
  it('turns the prelude into the status line and headers, even split across writes', async () => {
    const { url } = await serve((stream) => {
      const prelude = Buffer.concat([
        Buffer.from(
          JSON.stringify({ statusCode: 201, headers: { 'Content-Type': 'text/plain', 'X-A': 'b' } }),
        ),
        Buffer.alloc(8),
      ]);
      stream.write(prelude.subarray(0, 10));
      stream.write(Buffer.concat([prelude.subarray(10), Buffer.from('hello ')]));
      stream.end('world');
    });
    const response = await fetch(url);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-a')).toBe('b');
    expect(await response.text()).toBe('hello world');
  });

  it('answers 502 when the function ends without a prelude, as API Gateway does', async () => {
    const { url } = await serve((stream) => {
      stream.end();
    });
    expect((await fetch(url)).status).toBe(502);
  });

  it('is destroyed when the client disconnects', async () => {
    const { url, stream } = await serve((s) => {
      s.write(Buffer.concat([Buffer.from('{"statusCode":200}'), Buffer.alloc(8), Buffer.from('first')]));
    });
    const abort = new AbortController();
    const response = await fetch(url, { signal: abort.signal });
    const reader = response.body!.getReader();
    await reader.read();
    abort.abort();
    await expect.poll(() => stream()?.destroyed).toBe(true);
  });
});
