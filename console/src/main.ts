import type { Page, PageContext } from './app.ts';
import { clear, h } from './dom.ts';
import { auditPage } from './pages/audit.ts';
import { backfillsPage } from './pages/backfills.ts';
import { deadLettersPage } from './pages/dead-letters.ts';
import { flowControlPage } from './pages/flow-control.ts';
import { jobPage } from './pages/job.ts';
import { runPage } from './pages/run.ts';
import { runsPage } from './pages/runs.ts';
import { signInPage } from './pages/sign-in.ts';
import { sourcesPage } from './pages/sources.ts';
import { apiFor, loadDeployment, type Session, savedSession, saveSession, tokenClaims } from './session.ts';

/** Hash routes: the Console is static files, so any path under /console/ serves index.html. */
const ROUTES: [pattern: RegExp, page: Page][] = [
  [/^\/runs$/, runsPage],
  [/^\/runs\/(?<id>[^/]+)$/, runPage],
  [/^\/jobs\/(?<id>[^/]+)$/, jobPage],
  [/^\/deadletters$/, deadLettersPage],
  [/^\/sources$/, sourcesPage],
  [/^\/flow$/, flowControlPage],
  [/^\/backfills$/, backfillsPage],
  [/^\/audit$/, auditPage],
];
const NAV: [path: string, label: string][] = [
  ['/runs', 'Runs'],
  ['/deadletters', 'Dead letters'],
  ['/sources', 'Sources'],
  ['/flow', 'Flow control'],
  ['/backfills', 'Backfills'],
  ['/audit', 'Audit'],
];

const app = document.getElementById('app')!;
const deployment = await loadDeployment();
let session = savedSession();
let leave: (() => void) | undefined;
const reason = h('input', {
  id: 'operator-reason',
  placeholder: 'reason (recorded with changes)',
  maxlength: 256,
});
const ticket = h('input', { id: 'operator-ticket', placeholder: 'ticket', maxlength: 128, size: 10 });

function render(): void {
  leave?.();
  leave = undefined;
  if (!session) {
    clear(
      app,
      h(
        'main',
        {},
        signInPage(deployment, (signedIn: Session) => {
          session = signedIn;
          saveSession(session);
          if (!location.hash || location.hash === '#/') location.hash = '#/runs';
          render();
        }),
      ),
    );
    return;
  }
  const current = session;
  const path = location.hash.replace(/^#/, '') || '/runs';
  const match = ROUTES.map(([pattern, page]) => ({ page, m: pattern.exec(path) })).find((r) => r.m);
  const root = h('main', {});
  clear(app, header(current, path), root);
  if (!match) {
    root.append(h('p', {}, 'No such page. ', h('a', { href: '#/runs' }, 'Runs')));
    return;
  }
  const ctx: PageContext = {
    api: apiFor(current),
    session: current,
    root,
    params: { ...match.m!.groups },
    note: () => ({ reason: reason.value.trim() || undefined, ticket: ticket.value.trim() || undefined }),
    refresh: render,
  };
  leave = match.page(ctx);
}

function header(current: Session, path: string) {
  const claims = tokenClaims(current.token);
  const tenants = Array.isArray(claims?.tenants) ? claims.tenants : undefined;
  const switchTenant = (tenant: string) => {
    if (!tenant || tenant === current.tenant) return;
    session = { ...current, tenant };
    saveSession(session);
    render();
  };
  const tenantControl = tenants
    ? h(
        'select',
        {
          id: 'tenant',
          'aria-label': 'tenant',
          onchange: (e: Event) => switchTenant((e.target as HTMLSelectElement).value),
        },
        ...tenants.map((t) => h('option', { value: t, selected: t === current.tenant }, t)),
      )
    : h('input', {
        id: 'tenant',
        'aria-label': 'tenant',
        value: current.tenant,
        size: 12,
        onchange: (e: Event) => switchTenant((e.target as HTMLInputElement).value.trim()),
      });
  return h(
    'header',
    {},
    h('strong', { class: 'brand' }, 'JobEngine'),
    h(
      'nav',
      {},
      ...NAV.map(([href, label]) =>
        h('a', { href: `#${href}`, class: path.startsWith(href) ? 'active' : null }, label),
      ),
    ),
    h('span', { class: 'spacer' }),
    h('label', {}, 'tenant ', tenantControl),
    reason,
    ticket,
    h('span', { class: 'who', title: claims?.scope ?? '' }, claims?.sub ?? ''),
    h(
      'button',
      {
        id: 'sign-out',
        onclick: () => {
          session = undefined;
          saveSession(undefined);
          render();
        },
      },
      'Sign out',
    ),
  );
}

window.addEventListener('hashchange', render);
render();
