import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { closeRuntime, migrateDatabase } from '@jobengine/core';
import { HANDLERS } from '../functions/routes.ts';
import { lambdaContext, loadHandler } from '../local/apigw-event.ts';
import { openLocalDatabase } from '../local/database.ts';
import { configureDevelopmentAuth } from '../local/dev-keys.ts';

/**
 * `npm run invoke -- <function> <event.json> [KEY=VALUE ...]` runs one handler with one event against the
 * configured database, as `sam local invoke -e` would. `{{DEV_TOKEN}}` in the event becomes a development
 * token; `{{KEY}}` becomes the VALUE given on the command line.
 */
const [name, eventFile, ...assignments] = process.argv.slice(2);
const entry = name ? HANDLERS[name] : undefined;
if (!entry || !eventFile) {
  console.error(`usage: npm run invoke -- <${Object.keys(HANDLERS).join('|')}> <event.json> [KEY=VALUE ...]`);
  process.exit(2);
}

const dataDir = resolve(process.env.LOCAL_DATA_DIR ?? '.data');
const database = await openLocalDatabase({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir,
  embeddedPort: Number(process.env.EMBEDDED_PG_PORT ?? 54329),
});
try {
  await migrateDatabase(database.url);
  process.env.DATABASE_URL = database.url;
  const values: Record<string, string> = {
    DEV_TOKEN: await configureDevelopmentAuth(dataDir),
    IDEMPOTENCY_KEY: crypto.randomUUID(),
  };
  for (const assignment of assignments) {
    const [key, ...rest] = assignment.split('=');
    if (key && rest.length) values[key] = rest.join('=');
  }
  const text = (await readFile(eventFile, 'utf8')).replace(/\{\{(\w+)\}\}/g, (placeholder, key: string) => {
    if (values[key] === undefined) throw new Error(`${eventFile} needs ${placeholder}: pass ${key}=<value>`);
    return values[key];
  });
  const handler = await loadHandler<(event: unknown, context: unknown) => Promise<unknown>>(entry);
  const result = await handler(JSON.parse(text), lambdaContext(`jobengine-${name}`));
  console.log(JSON.stringify(result, null, 2));
} finally {
  await closeRuntime();
  await database.stop();
}
