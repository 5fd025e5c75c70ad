import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { logger, type ResponseStream } from '@jobengine/core';

const DELIMITER = Buffer.alloc(8);

/**
 * The local stand-in for API Gateway's side of a streaming Lambda integration: the handler writes the
 * metadata prelude (JSON with statusCode and headers), eight NUL bytes, then the body; this stream turns
 * the prelude into the HTTP status line and headers and passes the body on as it comes, with
 * backpressure. When the client goes away the stream is destroyed, which the handler sees as `close`.
 */
export class LocalResponseStream extends Writable implements ResponseStream {
  private prelude: Buffer | null = Buffer.alloc(0);

  constructor(private readonly response: ServerResponse) {
    super();
    response.once('close', () => {
      if (!response.writableFinished) this.destroy();
    });
  }

  setContentType(_contentType: string): void {
    // The content type of the integration response itself; the prelude carries the client's.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.prelude === null) {
      this.forward(chunk, callback);
      return;
    }
    const buffered = Buffer.concat([this.prelude, chunk]);
    const end = buffered.indexOf(DELIMITER);
    if (end < 0) {
      this.prelude = buffered;
      callback();
      return;
    }
    this.prelude = null;
    let metadata: { statusCode?: number; headers?: Record<string, string> };
    try {
      metadata = JSON.parse(buffered.subarray(0, end).toString('utf8'));
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.response.writeHead(metadata.statusCode ?? 200, metadata.headers ?? {});
    this.response.flushHeaders();
    const body = buffered.subarray(end + DELIMITER.length);
    if (body.length > 0) this.forward(body, callback);
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.prelude !== null) {
      // The function ended without a prelude: API Gateway answers 502.
      logger.error('streaming function ended without response metadata');
      if (!this.response.headersSent) this.response.writeHead(502, { 'Content-Type': 'application/json' });
    }
    this.response.end(() => callback());
  }

  private forward(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.response.write(chunk)) callback();
    else this.response.once('drain', () => callback());
  }
}
