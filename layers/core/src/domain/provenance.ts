/**
 * Run provenance (DESIGN §2, §10): one in-toto Statement v1 per run, whose subjects are the run's
 * artifacts and whose predicate links them to the inputs (job payload digests), the jobs, every attempt,
 * the workers that held the leases and the artifact each attempt registered. Pure: built from the same
 * records the export bundle carries, ordered by key and id, so the statement is deterministic.
 */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PROVENANCE_PREDICATE_TYPE = 'urn:jobengine:provenance:run:v1';

export interface ExportRun {
  id: string;
  kind: string;
  status: string;
  projectId: string | null;
  sourceId: string | null;
  dagDigest: string;
  priority: number;
  correlationId: string;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ExportJob {
  id: string;
  runId: string;
  key: string;
  type: string;
  status: string;
  priority: number;
  attempt: number;
  maxAttempts: number;
  payloadDigest: string;
  sourceId: string | null;
  projectId: string | null;
  replayOf: string | null;
  correlationId: string;
  reason: string | null;
  lastError: Record<string, unknown> | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ExportHistory {
  id: number;
  jobId: string;
  runId: string;
  attempt: number;
  fromStatus: string | null;
  toStatus: string;
  transition: string;
  reason: string | null;
  leaseId: string | null;
  actor: string;
  details: Record<string, unknown> | null;
  at: string;
}

export interface ExportArtifact {
  id: string;
  digest: string;
  runId: string;
  jobId: string;
  attempt: number;
  uri: string;
  sizeBytes: number;
  mediaType: string;
  kind: string;
  createdAt: string;
}

export interface ProvenanceAttempt {
  attempt: number;
  leaseId: string | null;
  /** The authenticated subject that leased the job (the worker's token subject). */
  worker: string | null;
  leasedAt: string | null;
  /** The status the attempt ended in (`queued` = retried), or null while it runs. */
  outcome: string | null;
  endedAt: string | null;
  artifacts: string[];
}

export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof PROVENANCE_PREDICATE_TYPE;
  predicate: {
    tenant: string;
    run: ExportRun;
    inputs: { jobKey: string; jobId: string; payloadDigest: string }[];
    jobs: {
      id: string;
      key: string;
      type: string;
      status: string;
      replayOf: string | null;
      attempts: ProvenanceAttempt[];
    }[];
    workers: string[];
    artifacts: Omit<ExportArtifact, 'runId' | 'createdAt'>[];
  };
}

const hex = (digest: string) => digest.slice('sha256:'.length);
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Transitions after which an attempt is over. */
const ENDING_STATES = new Set(['succeeded', 'failed', 'canceled', 'dead_lettered', 'queued']);

export function runProvenance(
  tenant: string,
  run: ExportRun,
  jobs: readonly ExportJob[],
  history: readonly ExportHistory[],
  artifacts: readonly ExportArtifact[],
): ProvenanceStatement {
  const runJobs = jobs.filter((job) => job.runId === run.id).sort((a, b) => byString(a.key, b.key));
  const runArtifacts = artifacts.filter((a) => a.runId === run.id).sort((a, b) => byString(a.id, b.id));
  const historyOf = groupBy(
    history.filter((h) => h.runId === run.id && h.attempt >= 1),
    (h) => h.jobId,
  );
  const workers = new Set<string>();
  const jobViews = runJobs.map((job) => {
    const attempts = new Map<number, ProvenanceAttempt>();
    const rows = (historyOf.get(job.id) ?? []).sort((a, b) => a.id - b.id);
    for (const row of rows) {
      let attempt = attempts.get(row.attempt);
      if (!attempt) {
        attempt = {
          attempt: row.attempt,
          leaseId: null,
          worker: null,
          leasedAt: null,
          outcome: null,
          endedAt: null,
          artifacts: [],
        };
        attempts.set(row.attempt, attempt);
      }
      if (row.transition === 'lease') {
        attempt.leaseId = row.leaseId;
        attempt.worker = row.actor;
        attempt.leasedAt = row.at;
        workers.add(row.actor);
      } else if (row.fromStatus !== null && ENDING_STATES.has(row.toStatus) && attempt.outcome === null) {
        if (row.fromStatus === 'leased' || row.fromStatus === 'running') {
          attempt.outcome = row.toStatus;
          attempt.endedAt = row.at;
        }
      }
    }
    for (const artifact of runArtifacts) {
      if (artifact.jobId === job.id) attempts.get(artifact.attempt)?.artifacts.push(artifact.digest);
    }
    return {
      id: job.id,
      key: job.key,
      type: job.type,
      status: job.status,
      replayOf: job.replayOf,
      attempts: [...attempts.values()].sort((a, b) => a.attempt - b.attempt),
    };
  });
  const subjects = new Map<string, { name: string; digest: { sha256: string } }>();
  for (const artifact of runArtifacts) {
    subjects.set(`${artifact.digest} ${artifact.uri}`, {
      name: artifact.uri,
      digest: { sha256: hex(artifact.digest) },
    });
  }
  const subject =
    subjects.size > 0
      ? [...subjects.entries()].sort(([a], [b]) => byString(a, b)).map(([, s]) => s)
      : // A statement needs a subject: a run without outputs attests its DAG.
        [{ name: `jobengine:run/${run.id}/dag`, digest: { sha256: hex(run.dagDigest) } }];
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: PROVENANCE_PREDICATE_TYPE,
    predicate: {
      tenant,
      run,
      inputs: runJobs.map((job) => ({ jobKey: job.key, jobId: job.id, payloadDigest: job.payloadDigest })),
      jobs: jobViews,
      workers: [...workers].sort(byString),
      artifacts: runArtifacts.map(({ runId: _run, createdAt: _at, ...artifact }) => artifact),
    },
  };
}

/** One statement per run, in run order; the records are grouped by run once (a window holds thousands). */
export function runsProvenance(
  tenant: string,
  runs: readonly ExportRun[],
  jobs: readonly ExportJob[],
  history: readonly ExportHistory[],
  artifacts: readonly ExportArtifact[],
): ProvenanceStatement[] {
  const jobsOf = groupBy(jobs, (job) => job.runId);
  const historyOf = groupBy(history, (row) => row.runId);
  const artifactsOf = groupBy(artifacts, (artifact) => artifact.runId);
  return runs.map((run) =>
    runProvenance(
      tenant,
      run,
      jobsOf.get(run.id) ?? [],
      historyOf.get(run.id) ?? [],
      artifactsOf.get(run.id) ?? [],
    ),
  );
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
