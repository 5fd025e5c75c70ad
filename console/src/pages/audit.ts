import type { Page } from '../app.ts';
import { clear, genericColumns, h, section, table } from '../dom.ts';

/** Audit search: the query parameters of GET /api/v1/audit as key=value pairs, results as a table. */
export const auditPage: Page = (ctx) => {
  const query = h('input', {
    id: 'audit-query',
    size: 60,
    placeholder: 'key=value key=value (e.g. action=source.pause)',
  });
  const results = h('div', {});
  const search = () =>
    section(results, async () => {
      const params = Object.fromEntries(
        query.value
          .split(/\s+/)
          .filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
      const page = await ctx.api.listAudit({ ...params, page_size: 200 });
      return [
        table(page.items, genericColumns(page.items) as never),
        h('pre', { class: 'raw' }, JSON.stringify(page.items.slice(0, 20), null, 2)),
      ];
    });
  const form = h(
    'form',
    {
      onsubmit: (event: Event) => {
        event.preventDefault();
        void search();
      },
    },
    query,
    h('button', { type: 'submit' }, 'Search'),
  );
  clear(ctx.root, h('h2', {}, 'Audit'), form, results);
  void search();
  return undefined;
};
