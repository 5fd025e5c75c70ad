import { ApiError } from '../../cli/src/api/client.ts';

/** A few DOM helpers: the Console is plain TypeScript, no framework, so the bundle stays small. */

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function clear(element: Element, ...children: (Child | Child[])[]): void {
  element.replaceChildren();
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export function text(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export type Column<T> = [header: string, cell: (row: T) => Child | Child[]];

export function table<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  rowAttributes?: (row: T) => Attributes,
) {
  if (rows.length === 0) return h('p', { class: 'empty' }, 'Nothing here.');
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...columns.map(([header]) => h('th', {}, header)))),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h('tr', rowAttributes?.(row) ?? {}, ...columns.map(([, cell]) => h('td', {}, cell(row)))),
      ),
    ),
  );
}

/** Columns for resources of unknown shape: their scalar fields, id first. */
export function genericColumns(
  rows: readonly Record<string, unknown>[],
  max = 8,
): Column<Record<string, unknown>>[] {
  const names: string[] = [];
  for (const row of rows)
    for (const [name, value] of Object.entries(row))
      if (!names.includes(name) && (value === null || typeof value !== 'object')) names.push(name);
  names.sort((a, b) => (a === 'id' ? -1 : b === 'id' ? 1 : 0));
  return names.slice(0, max).map((name) => [name, (row) => text(row[name])]);
}

export function progress(done: number, total: number, label?: string) {
  const percent = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
  // CSSOM, not a style attribute: the Content-Security-Policy allows no inline styles.
  const bar = h('div', { class: 'bar' });
  bar.style.width = `${percent}%`;
  return h(
    'div',
    {
      class: 'progress',
      role: 'progressbar',
      'aria-valuenow': percent,
      'aria-valuemin': 0,
      'aria-valuemax': 100,
    },
    bar,
    h('span', {}, label ?? `${done}/${total} · ${percent}%`),
  );
}

export function badge(status: string) {
  return h('span', { class: `badge s-${status}`, 'data-status': status }, status);
}

/** An error as a message block; a route the server lacks reads "not available on this server". */
export function errorBlock(error: unknown) {
  if (error instanceof ApiError && error.code === 'NOT_AVAILABLE') {
    return h(
      'div',
      { class: 'notice', 'data-test': 'not-available' },
      `Not available on this server (${error.route}).`,
    );
  }
  if (error instanceof ApiError) {
    return h(
      'div',
      { class: 'error', role: 'alert' },
      `${error.status ?? 'no answer'} ${error.code}: ${error.message}`,
      error.traceId ? h('small', {}, ` trace ${error.traceId}`) : null,
    );
  }
  return h('div', { class: 'error', role: 'alert' }, String((error as Error)?.message ?? error));
}

/** Fills `target` with what `load` renders, or with the error. */
export async function section(target: HTMLElement, load: () => Promise<Child | Child[]>): Promise<void> {
  try {
    clear(target, await load());
  } catch (error) {
    clear(target, errorBlock(error));
  }
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 19);
}

export function link(href: string, label: string) {
  return h('a', { href }, label);
}
