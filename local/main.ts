import { logger } from '@jobengine/core';
import { optionsFromEnv, startLocalRuntime } from './server.ts';

/** `npm start`: the whole control plane on this machine; Ctrl-C (SIGINT) or SIGTERM stops it cleanly. */
const runtime = await startLocalRuntime(optionsFromEnv());
logger.info('JobEngine local runtime listening', { url: runtime.url, websocket: runtime.wsUrl });
if (runtime.devToken) {
  console.log(
    [
      '',
      `  JobEngine is running at ${runtime.url}  (WebSocket ${runtime.wsUrl})`,
      `  Console: ${runtime.url}/console/   CLI: npm run cli -- --help`,
      '  Development token (all scopes, every tenant; valid 30 days):',
      '',
      `  export JOBENGINE_URL=${runtime.url}`,
      `  export JOBENGINE_TOKEN=${runtime.devToken}`,
      '',
      '  curl -H "Authorization: Bearer $JOBENGINE_TOKEN" -H "X-Stella-Tenant: acme" $JOBENGINE_URL/api/v1/sources',
      '',
    ].join('\n'),
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info('shutting down', { signal });
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    runtime.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: Error) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  });
}
