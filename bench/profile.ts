/**
 * The sizes every workload runs at. `full` is the default suite, sized to finish in about half an hour on
 * a 2-core machine; `quick` is a smoke run of a few minutes. Command-line flags override single values,
 * and the whole profile is recorded with the results.
 */
export interface Profile {
  name: 'full' | 'quick';
  reps: number;
  w1: {
    /** Jobs preloaded for claim batches of 10 and more. */
    jobs: number;
    /** Jobs preloaded for claim batch 1 (the slowest cells; same count for every system). */
    jobsBatch1: number;
    workers: number[];
    batches: number[];
  };
  w2: { workers: number; batch: number; loads: number[]; seconds: number; warmupSeconds: number };
  w3: { samples: number };
  w4: { load: number; seconds: number; sampleSeconds: number };
  w5: { seconds: number; workers: number; keys: number[] };
  w6: { jobs: number; leaseSeconds: number; holdMs: number; survivors: number };
  controlPlane: {
    dagJobs: number;
    restSeconds: number;
    restConnections: number;
    wsSubscribers: number;
    wsEvents: number;
    wsRate: number;
  };
}

const FULL: Profile = {
  name: 'full',
  reps: 3,
  w1: { jobs: 50_000, jobsBatch1: 5_000, workers: [2, 8, 32], batches: [1, 10, 100] },
  w2: { workers: 8, batch: 10, loads: [0.1, 0.5, 0.8], seconds: 10, warmupSeconds: 2 },
  w3: { samples: 1_000 },
  w4: { load: 0.5, seconds: 900, sampleSeconds: 15 },
  w5: { seconds: 10, workers: 4, keys: [1, 1_000] },
  w6: { jobs: 2_000, leaseSeconds: 2, holdMs: 200, survivors: 2 },
  controlPlane: {
    dagJobs: 10_000,
    restSeconds: 10,
    restConnections: 16,
    wsSubscribers: 1_000,
    wsEvents: 50,
    wsRate: 10,
  },
};

const QUICK: Profile = {
  name: 'quick',
  reps: 1,
  w1: { jobs: 1_000, jobsBatch1: 250, workers: [2, 8], batches: [1, 10, 100] },
  w2: { workers: 8, batch: 10, loads: [0.1, 0.5, 0.8], seconds: 4, warmupSeconds: 1 },
  w3: { samples: 200 },
  w4: { load: 0.5, seconds: 60, sampleSeconds: 5 },
  w5: { seconds: 4, workers: 4, keys: [1, 1_000] },
  w6: { jobs: 1_000, leaseSeconds: 2, holdMs: 200, survivors: 2 },
  controlPlane: {
    dagJobs: 2_000,
    restSeconds: 3,
    restConnections: 16,
    wsSubscribers: 100,
    wsEvents: 20,
    wsRate: 10,
  },
};

export function profileFor(flags: {
  quick: boolean;
  reps?: string | undefined;
  jobs?: string | undefined;
  jobsBatch1?: string | undefined;
  workers?: string | undefined;
  batches?: string | undefined;
  duration?: string | undefined;
}): Profile {
  const profile: Profile = structuredClone(flags.quick ? QUICK : FULL);
  if (flags.reps) profile.reps = positiveInteger('reps', flags.reps);
  if (flags.jobs) profile.w1.jobs = positiveInteger('jobs', flags.jobs);
  if (flags.jobsBatch1) profile.w1.jobsBatch1 = positiveInteger('jobs-batch1', flags.jobsBatch1);
  if (flags.workers) profile.w1.workers = flags.workers.split(',').map((n) => positiveInteger('workers', n));
  if (flags.batches) profile.w1.batches = flags.batches.split(',').map((n) => positiveInteger('batches', n));
  // --duration sets the W4 soak length in seconds (the 15-minute default is for --long runs).
  if (flags.duration) profile.w4.seconds = positiveInteger('duration', flags.duration);
  return profile;
}

function positiveInteger(option: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${option} must be a positive integer, got '${text}'`);
  return value;
}
