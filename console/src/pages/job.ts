import type { Page } from '../app.ts';
import { perform } from '../app.ts';
import { badge, clear, h, link, section, table, text, time } from '../dom.ts';

/** A job: its fields, every transition of its history, and why it is where it is (explain). */
export const jobPage: Page = (ctx) => {
  const id = ctx.params.id!;
  const detail = h('div', {}, 'Loading…');
  const history = h('div', {}, 'Loading…');
  const explain = h('div', {}, 'Loading…');
  clear(
    ctx.root,
    h('h2', {}, `Job ${id}`),
    detail,
    h('h3', {}, 'History'),
    history,
    h('h3', {}, 'Explain'),
    explain,
  );

  const load = () => {
    void section(detail, async () => {
      const job = await ctx.api.getJob(id);
      const cancel = h('button', { id: 'cancel-job' }, 'Cancel');
      cancel.addEventListener('click', () => perform(cancel, () => ctx.api.cancelJob(id, ctx.note()), load));
      const retry = h('button', { id: 'retry-job' }, 'Retry');
      retry.addEventListener('click', () => perform(retry, () => ctx.api.retryJob(id, ctx.note()), load));
      const rows: [string, unknown][] = [
        ['status', badge(job.status)],
        ['key / type', `${job.key} / ${job.type}`],
        ['run', link(`#/runs/${job.runId}`, job.runId)],
        ['attempt', `${job.attempt} of ${job.maxAttempts}`],
        ['priority', job.priority],
        ['lease', job.lease ? `${job.lease.owner ?? '?'} until ${time(job.lease.leaseUntil)}` : null],
        [
          'last error',
          job.lastError
            ? `${job.lastError.errorCode} (${job.lastError.errorClass}) ${job.lastError.message ?? ''}`
            : null,
        ],
        ['progress', job.progress],
        ['result', job.result],
        ['replay of', job.replayOf ? link(`#/jobs/${job.replayOf}`, job.replayOf) : null],
        ['payload digest', job.payloadDigest],
        ['created / finished', `${time(job.createdAt)} / ${time(job.finishedAt)}`],
      ];
      return [
        h(
          'dl',
          {},
          ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v instanceof Node ? v : text(v))]),
        ),
        h('div', { class: 'actions' }, cancel, retry),
      ];
    });
    void section(history, async () => {
      const page = await ctx.api.jobHistory(id, { page_size: 500 });
      return table(page.items, [
        ['at', (e) => time(e.at)],
        ['attempt', (e) => e.attempt],
        ['from', (e) => text(e.from)],
        ['to', (e) => badge(e.to)],
        ['transition', (e) => e.transition],
        ['actor', (e) => e.actor],
        ['reason', (e) => text(e.reason)],
      ]);
    });
    void section(explain, async () => h('pre', {}, JSON.stringify(await ctx.api.explainJob(id), null, 2)));
  };
  load();
  return undefined;
};
