import { Agent, request } from 'node:http';

/**
 * A raw HTTP client for hostile requests: the path, header values and body bytes go out exactly as given
 * (fetch would normalize, re-encode or refuse some of them), and a dropped connection is reported as such
 * instead of being retried.
 */
export interface RawRequest {
  method: string;
  /** Already percent-encoded path and query. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
}

export type RawResponse =
  | {
      ok: true;
      status: number;
      headers: Record<string, string | string[] | undefined>;
      text: string;
      json: unknown;
    }
  | { ok: false; error: string };

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

export interface SendOptions {
  timeoutMs?: number;
  /**
   * An event stream (`text/event-stream`) does not end: its answer is what arrived until `until` holds for
   * the text so far, or `streamMs` passed (default: the status and headers only); then it is closed.
   */
  streamMs?: number;
  until?: (text: string) => boolean;
}

export function send(baseUrl: string, req: RawRequest, options: SendOptions = {}): Promise<RawResponse> {
  const { timeoutMs = 30_000, streamMs = 0, until } = options;
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: RawResponse) => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    let outgoing: ReturnType<typeof request>;
    try {
      outgoing = request(
        {
          host: url.hostname,
          port: url.port,
          method: req.method,
          path: req.path,
          headers: { ...req.headers, ...(req.body ? { 'Content-Length': String(req.body.length) } : {}) },
          agent,
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          const streaming = /^text\/event-stream\b/.test(String(response.headers['content-type'] ?? ''));
          const stop = () => {
            const text = Buffer.concat(chunks).toString('utf8');
            done({
              ok: true,
              status: response.statusCode ?? 0,
              headers: response.headers,
              text,
              json: undefined,
            });
            response.destroy();
          };
          if (streaming) {
            const timer = setTimeout(stop, streamMs);
            response.on('close', () => clearTimeout(timer));
          }
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            if (streaming && until?.(Buffer.concat(chunks).toString('utf8'))) stop();
          });
          response.on('error', (error) => done({ ok: false, error: `response: ${error.message}` }));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            done({ ok: true, status: response.statusCode ?? 0, headers: response.headers, text, json });
          });
        },
      );
    } catch (error) {
      // the request could not even be written (a header value node refuses): a generator bug
      throw new Error(`unsendable request ${req.method} ${req.path}: ${(error as Error).message}`);
    }
    outgoing.on('timeout', () => {
      outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      done({ ok: false, error: `${error.code ?? 'error'}: ${error.message}` }),
    );
    outgoing.end(req.body);
  });
}

export function closeAgent(): void {
  agent.destroy();
}
