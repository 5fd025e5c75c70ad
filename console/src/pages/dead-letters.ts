import type { DeadLetter } from '../../../cli/src/api/types.ts';
import { type Page, perform } from '../app.ts';
import { badge, clear, h, link, section, table, text, time } from '../dom.ts';

/** Dead letters: counts, the list by status, replay one (a new job with replayOf), a dry run by filter. */
export const deadLettersPage: Page = (ctx) => {
  const stats = h('div', {});
  const list = h('div', {}, 'Loading…');
  const dryRun = h('div', {});
  const status = h(
    'select',
    { id: 'dl-status', onchange: () => load() },
    ...['open', 'replayed', 'discarded', ''].map((s) => h('option', { value: s }, s || 'any')),
  );
  const jobType = h('input', { id: 'dl-job-type', placeholder: 'job type' });
  const errorCode = h('input', { id: 'dl-error-code', placeholder: 'error code' });
  const preview = h('button', { id: 'dl-dry-run' }, 'Dry run: replay matching');
  preview.addEventListener('click', () =>
    perform(
      preview,
      async () => {
        const filter = {
          ...(jobType.value ? { jobType: jobType.value } : {}),
          ...(errorCode.value ? { errorCode: errorCode.value } : {}),
        };
        const result = await ctx.api.replayDeadLetters({ filter, dryRun: true }, ctx.note());
        clear(dryRun, h('pre', {}, JSON.stringify(result, null, 2)));
      },
      () => {},
    ),
  );
  clear(
    ctx.root,
    h('h2', {}, 'Dead letters'),
    stats,
    h('div', { class: 'filters' }, 'status ', status, jobType, errorCode, preview),
    dryRun,
    list,
  );

  const replayButton = (d: DeadLetter) => {
    if (d.status !== 'open') return d.replayedJobId ? link(`#/jobs/${d.replayedJobId}`, 'replayed job') : '';
    const button = h('button', { class: 'replay', 'data-id': d.id }, 'Replay');
    button.addEventListener('click', () =>
      perform(button, () => ctx.api.replayDeadLetter(d.id, ctx.note()), load),
    );
    return h('span', {}, button);
  };

  function load() {
    void section(stats, async () => {
      const s = await ctx.api.deadLetterStats();
      return h(
        'p',
        { id: 'dl-stats' },
        Object.entries(s.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(' · '),
        s.oldestOpenAt ? ` · oldest open ${time(s.oldestOpenAt)}` : '',
      );
    });
    void section(list, async () => {
      const page = await ctx.api.listDeadLetters({
        status: status.value || undefined,
        job_type: jobType.value || undefined,
        error_code: errorCode.value || undefined,
        page_size: 200,
      });
      return table(
        page.items,
        [
          ['job', (d) => link(`#/jobs/${d.jobId}`, d.jobId.slice(0, 8))],
          ['type', (d) => d.jobType],
          ['error', (d) => d.errorCode],
          ['message', (d) => text(d.message)],
          ['attempts', (d) => d.attempts],
          ['status', (d) => badge(d.status)],
          ['last failure', (d) => time(d.lastFailureAt)],
          ['', replayButton],
        ],
        (d) => ({ 'data-dead-letter': d.id }),
      );
    });
  }
  load();
  return undefined;
};
