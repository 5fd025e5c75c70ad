import { parseArgs } from 'node:util';
import { runStreamSoak } from '../test/streams/soak-driver.ts';

/**
 * `npx tsx scripts/stream-soak.ts [--events 50000] [--writers 8] [--tenants 3]`: the Realtime acceptance
 * run at full size (the e2e suite runs 6,000 events) on an embedded PostgreSQL of its own. Prints each
 * subscriber's tally; exits 1 if any subscriber missed, repeated, reordered or leaked an event.
 */
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    writers: { type: 'string', default: '8' },
    tenants: { type: 'string', default: '3' },
  },
});
const report = await runStreamSoak({
  events: Number(values.events),
  writers: Number(values.writers),
  tenants: Number(values.tenants),
  maxTransactionEvents: 20,
  maxHoldMs: 20,
  rollbackRate: 0.05,
  connectedMs: [200, 2_000],
  timeoutMs: 10 * 60_000,
  log: (line) => console.log(line),
});
console.log(JSON.stringify(report, null, 2));
const broken = report.subscribers.filter((s) => s.duplicates + s.missing + s.outOfOrder + s.foreign > 0);
if (broken.length > 0) {
  console.error(`${broken.length} subscriber(s) did not receive their stream exactly once, in order`);
  process.exitCode = 1;
}
