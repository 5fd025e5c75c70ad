import { collect } from '../../../cli/src/api/client.ts';
import type { Run } from '../../../cli/src/api/types.ts';
import { debounce, type Page } from '../app.ts';
import { badge, clear, errorBlock, h, link, progress, table, time } from '../dom.ts';
import { LiveStream } from '../live.ts';

const SHOWN = 50;

/**
 * Live runs: the newest runs of the tenant, kept current by a WebSocket subscription to run and job
 * events; a run an event names is re-read (coalesced), a run not shown yet is added on top.
 */
export const runsPage: Page = (ctx) => {
  const state = h('span', { class: 'live-state', id: 'live-state' }, 'connecting');
  const body = h('div', {}, 'Loading…');
  clear(ctx.root, h('h2', {}, 'Runs ', state), body);
  const runs = new Map<string, Run>();
  const dirty = new Set<string>();

  const draw = () => {
    const newest = [...runs.values()].sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, SHOWN);
    clear(
      body,
      table(
        newest,
        [
          ['run', (r) => link(`#/runs/${r.id}`, r.id.slice(0, 8))],
          ['status', (r) => badge(r.status)],
          [
            'progress',
            (r) =>
              progress(
                r.jobs.succeeded + r.jobs.failed + r.jobs.canceled,
                r.jobs.total,
                `${r.jobs.succeeded}/${r.jobs.total} succeeded`,
              ),
          ],
          ['failed', (r) => r.jobs.failed],
          ['kind', (r) => r.kind],
          [
            'labels',
            (r) =>
              Object.entries(r.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(' '),
          ],
          ['created', (r) => time(r.createdAt)],
        ],
        (r) => ({ 'data-run': r.id, 'data-status': r.status }),
      ),
    );
  };

  const reread = debounce(150, async () => {
    const ids = [...dirty];
    dirty.clear();
    await Promise.all(
      ids.map(async (id) => {
        try {
          runs.set(id, await ctx.api.getRun(id));
        } catch {
          // a run of another project or already pruned: leave it as it was
        }
      }),
    );
    draw();
  });

  const live = new LiveStream(
    ctx.session,
    {
      eventTypes: [
        'run.running',
        'run.succeeded',
        'run.failed',
        'run.canceled',
        'job.succeeded',
        'job.failed',
        'job.dead_lettered',
        'job.canceled',
        'job.running',
      ],
    },
    (item) => {
      const runId = item.subjectKind === 'run' ? item.subjectId : (item.data.runId as string | undefined);
      if (!runId) return;
      dirty.add(runId);
      reread();
    },
    (s) => {
      state.textContent = s;
      state.dataset.state = s;
    },
  );

  collect(ctx.api.listRuns, { page_size: 500 }, 5_000)
    .then((all) => {
      for (const run of all.slice(-SHOWN)) runs.set(run.id, run);
      draw();
    })
    .catch((error) => clear(body, errorBlock(error)));

  return () => live.close();
};
