import type { Source } from '../../../cli/src/api/types.ts';
import { type Page, perform } from '../app.ts';
import { badge, clear, h, section, table } from '../dom.ts';

/** Sources: their state and circuit, pause and resume (the reason from the header is recorded). */
export const sourcesPage: Page = (ctx) => {
  const list = h('div', {}, 'Loading…');
  clear(ctx.root, h('h2', {}, 'Sources'), list);
  const toggle = (s: Source) => {
    const button = h(
      'button',
      { class: s.paused ? 'resume' : 'pause', 'data-id': s.id },
      s.paused ? 'Resume' : 'Pause',
    );
    button.addEventListener('click', () =>
      perform(
        button,
        () => (s.paused ? ctx.api.resumeSource(s.id, ctx.note()) : ctx.api.pauseSource(s.id, ctx.note())),
        load,
      ),
    );
    return h('span', {}, button);
  };
  function load() {
    void section(list, async () => {
      const page = await ctx.api.listSources({ page_size: 500 });
      return table(
        page.items,
        [
          ['name', (s) => s.name],
          ['type', (s) => s.type],
          ['upstream', (s) => s.upstreamHost],
          ['enabled', (s) => (s.enabled ? 'yes' : 'no')],
          ['state', (s) => badge(s.paused ? 'paused' : 'active')],
          ['pause reason', (s) => s.pauseReason ?? ''],
          ['circuit', (s) => badge(s.circuit.state)],
          ['', toggle],
        ],
        (s) => ({ 'data-source': s.id, 'data-paused': String(s.paused) }),
      );
    });
  }
  load();
  return undefined;
};
