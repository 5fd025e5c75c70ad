import type { Page as ApiPage, Resource } from '../../../cli/src/api/types.ts';
import { type Page, perform } from '../app.ts';
import { clear, genericColumns, h, section, table } from '../dom.ts';

/**
 * Flow control: quotas (pause/resume), their usage, buckets, circuits, throttles (lift) and incidents.
 * Each block loads on its own, so a server without one of these APIs shows "not available" there only.
 */
export const flowControlPage: Page = (ctx) => {
  const blocks = {
    summary: h('div', {}),
    quotas: h('div', {}),
    buckets: h('div', {}),
    circuits: h('div', {}),
    throttles: h('div', {}),
    incidents: h('div', {}),
  };
  clear(
    ctx.root,
    h('h2', {}, 'Flow control'),
    h('h3', {}, 'Quotas'),
    blocks.summary,
    blocks.quotas,
    h('h3', {}, 'Buckets'),
    blocks.buckets,
    h('h3', {}, 'Circuits'),
    blocks.circuits,
    h('h3', {}, 'Throttles'),
    blocks.throttles,
    h('h3', {}, 'Incidents'),
    blocks.incidents,
  );

  const listing = (rows: ApiPage<Resource>, action?: (row: Resource) => HTMLElement | string) => {
    const columns = genericColumns(rows.items);
    if (action) columns.push(['', (row) => action(row as Resource)]);
    return table(rows.items as Record<string, unknown>[], columns as never);
  };
  const button = (label: string, run: () => Promise<unknown>) => {
    const b = h('button', {}, label);
    b.addEventListener('click', () => perform(b, run, load));
    return h('span', {}, b);
  };
  const isPaused = (row: Resource) => row.paused === true || row.status === 'paused';

  function load() {
    void section(blocks.summary, async () =>
      h('pre', {}, JSON.stringify(await ctx.api.quotaSummary(), null, 2)),
    );
    void section(blocks.quotas, async () =>
      listing(await ctx.api.listQuotas({ page_size: 500 }), (q) =>
        isPaused(q)
          ? button('Resume', () => ctx.api.resumeQuota(q.id, ctx.note()))
          : button('Pause', () => ctx.api.pauseQuota(q.id, ctx.note())),
      ),
    );
    void section(blocks.buckets, async () => listing(await ctx.api.listBuckets({ page_size: 500 })));
    void section(blocks.circuits, async () => listing(await ctx.api.listCircuits({ page_size: 500 })));
    void section(blocks.throttles, async () =>
      listing(await ctx.api.listThrottles({ page_size: 500 }), (t) =>
        button('Lift', () => ctx.api.liftThrottle(t.id, ctx.note())),
      ),
    );
    void section(blocks.incidents, async () => listing(await ctx.api.listIncidents({ page_size: 100 })));
  }
  load();
  return undefined;
};
