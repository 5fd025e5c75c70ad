import type { Dag } from '../../../cli/src/api/types.ts';
import { debounce, type Page, perform } from '../app.ts';
import { badge, clear, errorBlock, h, progress, time } from '../dom.ts';
import { LiveStream } from '../live.ts';

const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 168;
const NODE_H = 40;
const GAP_X = 56;
const GAP_Y = 14;

/** One run: its DAG laid out by depth, states coloured, the critical path drawn thick, updated live. */
export const runPage: Page = (ctx) => {
  const id = ctx.params.id!;
  const state = h('span', { class: 'live-state', id: 'live-state' }, 'connecting');
  const summary = h('div', { class: 'summary' }, 'Loading…');
  const graph = h('div', { class: 'dag' });
  const cancel = h('button', { id: 'cancel-run' }, 'Cancel run');
  cancel.addEventListener('click', () =>
    perform(
      cancel,
      () => ctx.api.cancelRun(id, ctx.note()),
      () => reload(),
    ),
  );
  clear(ctx.root, h('h2', {}, `Run ${id} `, state), summary, h('div', { class: 'actions' }, cancel), graph);

  const reload = debounce(100, async () => {
    try {
      const dag = await ctx.api.runDag(id);
      drawSummary(dag);
      clear(graph, drawDag(dag));
    } catch (error) {
      clear(summary, errorBlock(error));
    }
  });

  const drawSummary = (dag: Dag) => {
    const { run } = dag;
    const done = dag.jobs.filter((j) =>
      ['succeeded', 'failed', 'canceled', 'dead_lettered'].includes(j.status),
    ).length;
    clear(
      summary,
      h(
        'p',
        {},
        badge(run.status),
        ` ${run.kind} · created ${time(run.createdAt)} · finished ${time(run.finishedAt)}`,
      ),
      progress(done, dag.jobs.length),
      h(
        'p',
        {},
        'Critical path: ',
        h('span', { class: 'critical', id: 'critical-path' }, dag.criticalPath.join(' → ') || '–'),
      ),
    );
    summary.dataset.status = run.status;
  };

  const live = new LiveStream(
    ctx.session,
    { runId: id },
    () => reload(),
    (s) => {
      state.textContent = s;
      state.dataset.state = s;
    },
  );
  reload();
  // A quiet stream (a broadcaster hint lost) still refreshes now and then.
  const timer = setInterval(reload, 5_000);
  return () => {
    live.close();
    clearInterval(timer);
  };
};

function drawDag(dag: Dag): SVGSVGElement {
  const columns = new Map<number, typeof dag.jobs>();
  for (const job of dag.jobs) columns.set(job.depth, [...(columns.get(job.depth) ?? []), job]);
  const place = new Map<string, { x: number; y: number }>();
  let height = 0;
  for (const [depth, jobs] of [...columns].sort(([a], [b]) => a - b)) {
    jobs.forEach((job, row) => {
      const y = row * (NODE_H + GAP_Y) + 8;
      place.set(job.key, { x: depth * (NODE_W + GAP_X) + 8, y });
      height = Math.max(height, y + NODE_H + 8);
    });
  }
  const width = (Math.max(0, ...columns.keys()) + 1) * (NODE_W + GAP_X) + 16;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('id', 'dag');
  const critical = new Set(dag.criticalPath.slice(1).map((key, i) => `${dag.criticalPath[i]}>${key}`));
  for (const edge of dag.edges) {
    const from = place.get(edge.parent);
    const to = place.get(edge.child);
    if (!from || !to) continue;
    const path = document.createElementNS(SVG, 'path');
    const x1 = from.x + NODE_W;
    const y1 = from.y + NODE_H / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_H / 2;
    path.setAttribute('d', `M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`);
    path.setAttribute('class', critical.has(`${edge.parent}>${edge.child}`) ? 'edge critical' : 'edge');
    svg.append(path);
  }
  for (const job of dag.jobs) {
    const at = place.get(job.key)!;
    const link = document.createElementNS(SVG, 'a');
    link.setAttribute('href', `#/jobs/${job.id}`);
    const g = document.createElementNS(SVG, 'g');
    g.setAttribute('class', `node s-${job.status}${job.onCriticalPath ? ' on-critical' : ''}`);
    g.setAttribute('data-key', job.key);
    g.setAttribute('data-status', job.status);
    const rect = document.createElementNS(SVG, 'rect');
    for (const [k, v] of Object.entries({ x: at.x, y: at.y, width: NODE_W, height: NODE_H, rx: 6 }))
      rect.setAttribute(k, String(v));
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', String(at.x + 8));
    label.setAttribute('y', String(at.y + 16));
    label.textContent = job.key;
    const status = document.createElementNS(SVG, 'text');
    status.setAttribute('x', String(at.x + 8));
    status.setAttribute('y', String(at.y + 32));
    status.setAttribute('class', 'sub');
    status.textContent = `${job.status}${job.attempt > 1 ? ` · attempt ${job.attempt}` : ''}`;
    g.append(rect, label, status);
    link.append(g);
    svg.append(link);
  }
  return svg;
}
