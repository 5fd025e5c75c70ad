import { parseArgs } from 'node:util';
import { openSse, openWs } from '../test/e2e/stream-clients.ts';
import { startStreamRig } from '../test/streams/rig.ts';

/**
 * Event → delivery latency of the two stream paths, through the local runtime (`local/main.ts` as a child
 * process, as `npm start` runs it):
 *
 *   npx tsx bench/stream-latency.ts [--ws 100] [--sse 100] [--events 300] [--rate 20]
 *
 * A writer creates sources over the REST API at `rate` per second; each writes one `source.created` event
 * and sends a fanout hint after its commit. `--ws` WebSocket subscribers (one connection each) and then
 * `--sse` SSE subscribers receive every one of them. Latency is the receive time minus the event's
 * `occurredAt`, which the service stamps just before the event's transaction commits (same machine, same
 * clock, millisecond precision): so it is commit → delivery plus the statement's own time, about 1 ms.
 * DATABASE_URL: a migrated, empty database to use; else an embedded PostgreSQL is started for the run.
 */
const { values: args } = parseArgs({
  options: {
    ws: { type: 'string', default: '100' },
    sse: { type: 'string', default: '100' },
    events: { type: 'string', default: '300' },
    rate: { type: 'string', default: '20' },
  },
  strict: true,
});
const wsCount = Number(args.ws);
const sseCount = Number(args.sse);
const events = Number(args.events);
const rate = Number(args.rate);
const tenant = 'bench';

const rig = await startStreamRig({ databaseUrl: process.env.DATABASE_URL || undefined });
try {
  const { runtime } = rig;
  const token = await runtime.token({ tenants: [tenant], expiresIn: '2h' });
  console.error(`runtime at ${runtime.url}`);

  const report: Record<string, unknown>[] = [];
  if (wsCount > 0) {
    const samples: number[] = [];
    const clients = await Promise.all(
      Array.from({ length: wsCount }, async () => {
        const client = await openWs(runtime.wsUrl, {
          token,
          tenant,
          onItem: (item) => samples.push(Date.now() - Date.parse(String(item.event?.occurredAt))),
        });
        await client.request(
          { action: 'subscribe', filters: { eventTypes: ['source.created'] } },
          'subscribed',
        );
        return client;
      }),
    );
    await write(runtime.url, token, 'ws');
    await waitFor(() => samples.length >= events * wsCount, 30_000);
    await Promise.all(clients.map((client) => client.close()));
    report.push(summary(`WebSocket, ${wsCount} subscribers`, samples, events * wsCount));
  }
  if (sseCount > 0) {
    const samples: number[] = [];
    const clients = await Promise.all(
      Array.from({ length: sseCount }, () =>
        openSse(runtime.url, {
          token,
          tenant,
          query: { event_types: 'source.created' },
          onEvent: (event) => samples.push(Date.now() - Date.parse(String(event.data.occurredAt))),
        }),
      ),
    );
    await write(runtime.url, token, 'sse');
    await waitFor(() => samples.length >= events * sseCount, 30_000);
    for (const client of clients) client.close();
    report.push(summary(`SSE, ${sseCount} subscribers`, samples, events * sseCount));
  }
  console.log(`\nevent → delivery, ${events} events at ${rate}/s (ms):\n`);
  console.table(report);
} finally {
  await rig.stop();
}

/** Creates `events` sources at `rate` per second, without waiting on one another. */
async function write(baseUrl: string, bearer: string, prefix: string): Promise<void> {
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      fetch(`${baseUrl}/api/v1/sources`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${bearer}`,
          'X-Stella-Tenant': tenant,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({
          name: `${prefix}-${i}-${Date.now()}`,
          type: 'advisory-feed',
          upstreamHost: 'feeds.example',
          config: {},
        }),
      }).then(async (response) => {
        if (response.status !== 201)
          throw new Error(`create source: ${response.status} ${await response.text()}`);
      }),
    );
  }
  await Promise.all(pending);
}

function summary(path: string, samples: number[], expected: number) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    path,
    deliveries: `${samples.length}/${expected}`,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.at(-1),
  };
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
