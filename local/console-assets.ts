import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { logger } from '@jobengine/core';

/** Where the Console is served: its Vite `base`. */
export const CONSOLE_PATH = '/console/';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The same policy the CloudFront distribution sends (infra/lib/console.ts): scripts and styles from the
 * Console's own origin only; API and WebSocket calls may go to the configured endpoints.
 */
export const CONSOLE_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss: http: https:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

type Files = Map<string, Uint8Array>;

/**
 * Serves the Console under /console/. The first request builds it with Vite in memory (about a second;
 * nothing is written, so concurrent runtimes never race on a dist folder and a fresh clone needs no build
 * step); later requests are served from that build. Unknown paths get index.html (the Console routes by
 * URL hash, so that only matters for bookmarks of /console/<anything>).
 */
export function createConsoleAssets() {
  let files: Promise<Files> | undefined;
  const build = () => {
    files ??= buildConsole().catch((error: Error) => {
      files = undefined;
      throw error;
    });
    return files;
  };
  return async function serveConsole(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
  ): Promise<void> {
    request.resume();
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === CONSOLE_PATH.slice(0, -1)) {
      response.writeHead(301, { Location: CONSOLE_PATH }).end();
      return;
    }
    let built: Files;
    try {
      built = await build();
    } catch (error) {
      logger.error('console build failed', { error: error as Error });
      response
        .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end('the Console could not be built; see the runtime log');
      return;
    }
    const name = url.pathname.slice(CONSOLE_PATH.length);
    const asset = name && built.has(name) ? name : 'index.html';
    const body = built.get(asset)!;
    response.writeHead(200, {
      ...CONSOLE_SECURITY_HEADERS,
      'Content-Type': CONTENT_TYPES[extname(asset)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      // Asset names carry a content hash; index.html must always be revalidated.
      'Cache-Control': asset === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}

async function buildConsole(): Promise<Files> {
  const started = Date.now();
  // Loaded on first use only: runtimes that never serve the Console (most tests) do not pay for Vite.
  const { build } = await import('vite');
  const result = await build({
    configFile: join(import.meta.dirname, '../console/vite.config.ts'),
    logLevel: 'silent',
    build: { write: false },
  });
  const files: Files = new Map();
  for (const output of Array.isArray(result) ? result : [result]) {
    if (!('output' in output)) continue;
    for (const item of output.output) {
      files.set(item.fileName, item.type === 'chunk' ? Buffer.from(item.code) : toBytes(item.source));
    }
  }
  logger.info('console built', { files: files.size, ms: Date.now() - started });
  return files;
}

function toBytes(source: string | Uint8Array): Uint8Array {
  return typeof source === 'string' ? Buffer.from(source) : source;
}
