import { JobEngineApi } from '../../../cli/src/api/client.ts';
import { errorBlock, h } from '../dom.ts';
import { type Deployment, type Session, tokenClaims } from '../session.ts';

/** Token entry: checks the token against the API (one read) before keeping it for the tab. */
export function signInPage(deployment: Deployment, signedIn: (session: Session) => void) {
  const token = h('textarea', {
    id: 'token',
    rows: 5,
    cols: 70,
    placeholder: 'eyJ… (npm start prints a development token)',
    required: true,
  });
  const tenant = h('input', { id: 'tenant-input', value: 'demo', required: true });
  const apiUrl = h('input', {
    id: 'api-url',
    value: deployment.apiUrl,
    placeholder: 'same origin',
    size: 40,
  });
  const wsUrl = h('input', { id: 'ws-url', value: deployment.wsUrl, size: 40 });
  const message = h('div', {});
  const submit = h('button', { type: 'submit', id: 'sign-in' }, 'Sign in');
  token.addEventListener('input', () => {
    const claims = tokenClaims(token.value.trim());
    if (
      Array.isArray(claims?.tenants) &&
      claims.tenants.length > 0 &&
      !claims.tenants.includes(tenant.value)
    ) {
      tenant.value = claims.tenants[0]!;
    }
  });
  const form = h(
    'form',
    {
      class: 'sign-in',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const session: Session = {
          token: token.value.trim(),
          tenant: tenant.value.trim(),
          apiUrl: apiUrl.value.trim().replace(/\/+$/, ''),
          wsUrl: wsUrl.value.trim(),
        };
        message.replaceChildren();
        submit.disabled = true;
        try {
          await new JobEngineApi({
            endpoint: session.apiUrl,
            token: session.token,
            tenant: session.tenant,
          }).listRuns({
            page_size: 1,
          });
          signedIn(session);
        } catch (error) {
          message.append(errorBlock(error));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h1', {}, 'JobEngine Console'),
    h('label', {}, 'Token', token),
    h('label', {}, 'Tenant', tenant),
    h(
      'details',
      {},
      h('summary', {}, 'Endpoints'),
      h('label', {}, 'API URL', apiUrl),
      h('label', {}, 'WebSocket URL', wsUrl),
    ),
    submit,
    message,
    h('p', { class: 'hint' }, 'The token is kept for this tab only (sessionStorage).'),
  );
  return form;
}
