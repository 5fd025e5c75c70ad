import { backfillProgress } from '../../../cli/src/api/progress.ts';
import type { Resource } from '../../../cli/src/api/types.ts';
import { every, type Page, perform } from '../app.ts';
import { badge, clear, h, progress, section, table, text, time } from '../dom.ts';

/** Live backfills whose progress the page reads one by one (the list answer carries no `progress`). */
const LIVE = new Set(['planned', 'running', 'paused']);
const MAX_DETAILED = 20;

/** Backfills with their progress (refreshed every 2 s) and pause / resume / cancel. */
export const backfillsPage: Page = (ctx) => {
  const list = h('div', {}, 'Loading…');
  clear(ctx.root, h('h2', {}, 'Backfills'), list);
  const actions = (b: Resource) =>
    h(
      'span',
      {},
      ...(['pause', 'resume', 'cancel'] as const).map((verb) => {
        const button = h('button', {}, verb);
        button.addEventListener('click', () =>
          perform(button, () => ctx.api.backfillAction(b.id, verb, ctx.note()), load),
        );
        return button;
      }),
    );
  const load = () =>
    section(list, async () => {
      const page = await ctx.api.listBackfills({ page_size: 200 });
      // GET /backfills omits `progress` (single reads only): read the live ones, newest first, bounded.
      const live = page.items.filter((b) => LIVE.has(String(b.status))).slice(-MAX_DETAILED);
      const detailed = new Map(
        (await Promise.all(live.map((b) => ctx.api.getBackfill(b.id).catch(() => b)))).map((b) => [b.id, b]),
      );
      const items = page.items.map((b) => detailed.get(b.id) ?? b);
      return table(items, [
        ['id', (b) => b.id.slice(0, 8)],
        ['status', (b) => badge(String(b.status ?? 'unknown'))],
        [
          'progress',
          (b) => {
            const p = backfillProgress(b);
            return p ? progress(p.done, p.total) : '–';
          },
        ],
        ['source', (b) => text(b.sourceId)],
        ['created', (b) => time(b.createdAt as string | undefined)],
        ['', actions],
      ]);
    });
  return every(2_000, load);
};
