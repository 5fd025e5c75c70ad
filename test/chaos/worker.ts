import { JobEngineClient, PermanentError, RetryableError, Worker } from '../../sdk/worker/src/index.ts';

/**
 * A chaos worker process: an SDK Worker for the chaos job types that fails at random - mostly retryable
 * upstream errors, a few permanent ones - and can be SIGKILLed at any moment by the driver.
 * Args: <url> <token> <tenant> <workerId> <retryableRate> <permanentRate>
 */
const [url, token, tenant, workerId, retryableRate, permanentRate] = process.argv.slice(2);
const client = new JobEngineClient({
  baseUrl: url!,
  token: token!,
  tenant: tenant!,
  retry: { maxAttempts: 8, baseMs: 100, capMs: 2000 },
  timeoutMs: 10_000,
});
const handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
  const roll = Math.random();
  if (roll < Number(permanentRate)) throw new PermanentError('MALFORMED_INPUT', 'chaos: permanent failure');
  if (roll < Number(permanentRate) + Number(retryableRate)) {
    throw new RetryableError('UPSTREAM_TIMEOUT', 'chaos: transient failure', { errorClass: 'upstream' });
  }
  return { result: { by: workerId } };
};
const worker = new Worker({
  client,
  workerId: workerId!,
  concurrency: 8,
  batchSize: 16,
  leaseSeconds: 5,
  pollIntervalMs: 50,
  maxPollIntervalMs: 500,
  handlers: { 'chaos.fetch': handler, 'chaos.parse': handler, 'chaos.merge': handler },
});
worker.installSignalHandlers({ timeoutMs: 5_000 });
worker.start();
process.stdout.write(`ready ${workerId}\n`);
