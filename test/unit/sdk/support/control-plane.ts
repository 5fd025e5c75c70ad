import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Completion, Lease } from '../../../../sdk/worker/src/index.ts';

/**
 * A scriptable stand-in for the control plane's worker bridge: a real HTTP server on 127.0.0.1, so the SDK
 * is tested over real sockets with the real global fetch.
 */

export interface Call {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are asserted on freely in tests.
  body: any;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** `hang`: never answer; `reset`: drop the connection without a response. */
export type Script = (call: Call) => Reply | 'hang' | 'reset' | Promise<Reply | 'hang' | 'reset'>;

export interface ControlPlane {
  url: string;
  calls: Call[];
  script: Script;
  close(): Promise<void>;
}

export async function startControlPlane(script: Script): Promise<ControlPlane> {
  const calls: Call[] = [];
  const plane = { url: '', calls, script } as ControlPlane;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const call: Call = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      };
      calls.push(call);
      const reply = await plane.script(call);
      if (reply === 'hang') return;
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  plane.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  plane.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
  };
  return plane;
}

export function errorReply(
  status: number,
  code: string,
  headers: Record<string, string> = {},
  details?: unknown,
): Reply {
  return {
    status,
    headers,
    body: {
      error: { code, message: `${code} (test)`, trace_id: 'trace-test', ...(details ? { details } : {}) },
    },
  };
}

export function makeLease(type: string, overrides: Partial<Lease> = {}): Lease {
  const jobId = randomUUID();
  return {
    jobId,
    leaseId: randomUUID(),
    leaseUntil: new Date(Date.now() + 60_000).toISOString(),
    attempt: 1,
    maxAttempts: 3,
    idempotencyKey: `orch-job-${jobId}-1`,
    type,
    key: `key-${jobId.slice(0, 8)}`,
    runId: randomUUID(),
    priority: 0,
    payload: {},
    payloadDigest: `sha256:${'0'.repeat(64)}`,
    retry: { willRetry: true, backoffMs: 1000 },
    provenance: { tenant: 'acme', project: null, correlationId: `corr-${jobId.slice(0, 8)}` },
    ...overrides,
  };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Like the server's schema: a malformed artifact digest makes the whole request invalid. */
function invalid(completions: Completion[]): Reply | undefined {
  const bad = completions.findIndex((c) => c.artifacts?.some((a) => !DIGEST.test(a.digest)));
  if (bad < 0) return undefined;
  return errorReply(400, 'VALIDATION_FAILED', {}, [
    { path: `completions.${bad}.artifacts`, message: 'bad digest' },
  ]);
}

const HEARTBEAT = /^\/api\/v1\/worker\/leases\/([^/]+):heartbeat$/;
const PROGRESS = /^\/api\/v1\/worker\/jobs\/([^/]+):progress$/;
const COMPLETE_ONE = /^\/api\/v1\/worker\/jobs\/([^/]+):complete$/;

/**
 * The worker bridge's behaviour, in memory: hands out queued leases, extends them, and accepts completions
 * unless the lease was marked lost. Tests mark leases lost and read what the worker sent.
 */
export class FakeBridge {
  readonly queue: Lease[];
  /** leaseIds the server no longer honours. */
  readonly lost = new Set<string>();
  readonly leaseCalls: { max: number; types: string[]; leaseSeconds: number }[] = [];
  readonly heartbeats: { leaseId: string; leaseSeconds?: number }[] = [];
  readonly progress: { jobId: string; body: Call['body'] }[] = [];
  readonly completionCalls: Completion[][] = [];
  readonly completeOneCalls: Completion[] = [];
  /** Replaces the answer to POST /worker/completions when set. */
  onCompletions: ((completions: Completion[]) => Reply | undefined) | undefined;

  constructor(leases: Lease[]) {
    this.queue = [...leases];
  }

  /** Every completion the worker sent (accepted or not). */
  completions(): Completion[] {
    return [...this.completionCalls.flat(), ...this.completeOneCalls];
  }

  readonly route: Script = (call) => {
    if (call.path === '/api/v1/worker/leases') {
      this.leaseCalls.push(call.body);
      return { body: { leases: this.queue.splice(0, call.body.max) } };
    }
    const heartbeat = HEARTBEAT.exec(call.path);
    if (heartbeat) {
      const leaseId = heartbeat[1]!;
      this.heartbeats.push({ leaseId, leaseSeconds: call.body.leaseSeconds });
      if (this.lost.has(leaseId)) return errorReply(409, 'LEASE_LOST');
      return { body: { leaseId, jobId: 'unknown', leaseUntil: new Date().toISOString() } };
    }
    const progress = PROGRESS.exec(call.path);
    if (progress) {
      this.progress.push({ jobId: progress[1]!, body: call.body });
      if (this.lost.has(call.body.leaseId)) return errorReply(409, 'LEASE_LOST');
      return { body: { jobId: progress[1], status: 'running' } };
    }
    if (call.path === '/api/v1/worker/completions') {
      const completions: Completion[] = call.body.completions;
      this.completionCalls.push(completions);
      const override = this.onCompletions?.(completions) ?? invalid(completions);
      if (override) return override;
      const results = completions.map((c) =>
        this.lost.has(c.leaseId)
          ? { jobId: c.jobId, accepted: false, error: { code: 'LEASE_LOST', message: 'lease lost' } }
          : { jobId: c.jobId, accepted: true, status: c.outcome },
      );
      if (results.every((r) => !r.accepted)) return errorReply(409, 'LEASE_LOST');
      return { body: { results } };
    }
    const completeOne = COMPLETE_ONE.exec(call.path);
    if (completeOne) {
      const completion: Completion = { jobId: completeOne[1]!, ...call.body };
      this.completeOneCalls.push(completion);
      const rejected = invalid([completion]);
      if (rejected) return rejected;
      if (this.lost.has(completion.leaseId)) return errorReply(409, 'LEASE_LOST');
      return { body: { jobId: completeOne[1], accepted: true, status: call.body.outcome } };
    }
    return errorReply(404, 'NOT_FOUND');
  };
}

/** Timers, sockets and servers alive now (unref'd timers excluded), from the runtime's own count. */
export function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) {
    if (name === 'Timeout' || name.startsWith('TCP')) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Kinds of handle of which more are alive now than in `before`. */
export function leakedSince(before: Record<string, number>): string[] {
  return Object.entries(activeHandles())
    .filter(([name, count]) => count > (before[name] ?? 0))
    .map(([name]) => name);
}
