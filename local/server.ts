import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { closeRuntime, getRuntime, logger, migrateDatabase } from '@jobengine/core';
import type { ScheduledEvent } from 'aws-lambda';
import { lambdaContext, loadHandler } from './apigw-event.ts';
import { CONSOLE_PATH, createConsoleAssets } from './console-assets.ts';
import { openLocalDatabase } from './database.ts';
import { configureDevelopmentAuditExports, configureDevelopmentAuth } from './dev-keys.ts';
import { createRestGateway } from './http-gateway.ts';
import { consumeQueue } from './queue-consumer.ts';
import { createWebSocketGateway } from './ws-gateway.ts';

export interface LocalRuntimeOptions {
  host: string;
  port: number;
  /** Git-ignored folder for the embedded database and the development signing key. */
  dataDir: string;
  /** When unset, an embedded PostgreSQL is started under dataDir. */
  databaseUrl: string | undefined;
  embeddedPort: number;
  tickIntervalMs: number;
}

export interface LocalRuntime {
  url: string;
  wsUrl: string;
  databaseUrl: string;
  devToken: string;
  stop(): Promise<void>;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): LocalRuntimeOptions {
  return {
    host: env.HOST ?? '127.0.0.1',
    port: Number(env.PORT ?? 3000),
    dataDir: resolve(env.LOCAL_DATA_DIR ?? '.data'),
    databaseUrl: env.DATABASE_URL || undefined,
    embeddedPort: Number(env.EMBEDDED_PG_PORT ?? 54329),
    tickIntervalMs: Number(env.TICK_INTERVAL_MS ?? 60_000),
  };
}

/**
 * Boots the whole control plane on one machine (DESIGN §5): PostgreSQL, migrations, one HTTP port with
 * REST and WebSocket through the Lambda handlers, and the minute tick. Local mode differs from AWS only in
 * adapters, never in handlers.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  await mkdir(options.dataDir, { recursive: true });
  const database = await openLocalDatabase(options);
  const databaseUrl = database.url;
  const { applied } = await migrateDatabase(databaseUrl);
  logger.info('migrations applied', { applied });

  process.env.DATABASE_URL = databaseUrl;
  const devToken = await configureDevelopmentAuth(options.dataDir);
  await configureDevelopmentAuditExports(options.dataDir);

  const rest = createRestGateway();
  const ws = createWebSocketGateway();
  const serveConsole = createConsoleAssets();
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const managed = /^\/(?:@|%40)connections\/([^/]+)$/.exec(url.pathname);
    const work = managed
      ? ws.manage(request, response, decodeURIComponent(managed[1]!))
      : url.pathname === CONSOLE_PATH.slice(0, -1) || url.pathname.startsWith(CONSOLE_PATH)
        ? serveConsole(request, response, url)
        : rest(request, response, url);
    work.catch((error: Error) => {
      logger.error('unhandled local request failure', { error });
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    ws.upgrade(request, socket, head, url).catch((error: Error) => {
      logger.error('websocket upgrade failed', { error });
      socket.destroy();
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => done());
  });
  const { port } = server.address() as AddressInfo;
  // The broadcaster posts to this runtime's own /@connections with the real management API client,
  // which signs its requests: any credentials do locally.
  const reachableHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  process.env.WS_MANAGEMENT_ENDPOINT ??= `http://${reachableHost}:${port}`;
  if (!process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE) {
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
  }

  const runtime = await getRuntime();
  const planner = consumeQueue(
    runtime.planQueue,
    'plan',
    await loadHandler<Parameters<typeof consumeQueue>[2]>('functions/planner/handler.ts'),
  );
  const broadcaster = consumeQueue(
    runtime.fanoutQueue,
    'fanout',
    await loadHandler<Parameters<typeof consumeQueue>[2]>('functions/broadcaster/handler.ts'),
  );

  // Outbound events (EVENT_BUS_NAME set): on AWS only the minute tick publishes; locally a fast loop too.
  const publishing = runtime.publisher?.start(runtime.config.PUBLISH_INTERVAL_MS);

  const tick =
    await loadHandler<(event: ScheduledEvent, context: unknown) => Promise<unknown>>(
      'functions/tick/handler.ts',
    );
  let ticking = Promise.resolve();
  const timer = setInterval(() => {
    ticking = ticking
      .then(() => tick(scheduledEvent(), lambdaContext('jobengine-tick')))
      .then(() => undefined)
      .catch((error: Error) => logger.error('tick failed', { error }));
  }, options.tickIntervalMs);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(timer);
      ws.close();
      rest.closeStreams();
      await Promise.all([planner.stop(), broadcaster.stop()]);
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
      });
      await ticking;
      await publishing?.stop();
      await closeRuntime();
      await database.stop();
    })();
    return stopping;
  };

  const url = `http://${options.host}:${port}`;
  return { url, wsUrl: `ws://${options.host}:${port}/ws`, databaseUrl, devToken, stop };
}

function scheduledEvent(): ScheduledEvent {
  const now = new Date();
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: 'local',
    time: now.toISOString(),
    region: 'local',
    resources: ['arn:aws:events:local:000000000000:rule/jobengine-minute-tick'],
    detail: {},
  };
}
