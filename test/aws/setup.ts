/**
 * globalSetup of the `aws` test project: finds or starts an AWS API emulator (DESIGN §11).
 *
 * - `AWS_ENDPOINT_URL` already set: use that emulator (LocalStack, a moto you started, ...).
 * - else `moto_server` on PATH: start it on a free loopback port, stop it on teardown.
 * - else: print a notice; the tests skip themselves.
 *
 * The emulator is handed to test files with `provide`/`inject` rather than by setting `process.env` here:
 * vitest 4 copies the main process's env into every worker it starts, so an `AWS_ENDPOINT_URL` set here
 * would also redirect the SDK in the other projects of the same run (unit, integration, e2e).
 * Test files apply it to their own worker with `useEmulator()` from `./emulator.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestProject } from 'vitest/node';
import type { AwsEmulator } from './emulator.ts';

const SKIP_NOTICE = 'aws tier skipped: moto_server not on PATH and AWS_ENDPOINT_URL unset';

const STARTUP_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.AWS_ENDPOINT_URL;
  if (external) {
    project.provide('awsEmulator', {
      endpoint: external,
      region: process.env.AWS_REGION || 'us-east-1',
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'test',
    } satisfies AwsEmulator);
    return undefined;
  }

  if (!isOnPath('moto_server')) {
    console.warn(`\n${SKIP_NOTICE}\n`);
    project.provide('awsEmulator', null);
    return undefined;
  }

  const moto = await startMoto();
  project.provide('awsEmulator', {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    accessKeyId: 'test',
    secretAccessKey: 'test',
  } satisfies AwsEmulator);
  return moto.stop;
}

function isOnPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not allocate a loopback port');
  return address.port;
}

async function startMoto(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const port = await freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // moto logs every request to stderr; it must be drained or the server blocks once the pipe fills.
  // The tail is kept for the error message if startup fails.
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = () => stopProcess(child);

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`moto_server exited during startup:\n${stderrTail}`);
    try {
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      return { endpoint, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `moto_server did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS} ms:\n${stderrTail}`,
        );
      }
      await sleep(100);
    }
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
