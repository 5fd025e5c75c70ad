import { JobEngineApi } from '../../cli/src/api/client.ts';

/**
 * The operator's session: endpoint, token and tenant. The token stays in sessionStorage (gone with the
 * tab), never in a URL of the REST API. Deployed Console builds may ship `config.json` next to
 * index.html with `{apiUrl, wsUrl}`; locally the Console and the API share an origin.
 */
export interface Session {
  token: string;
  tenant: string;
  apiUrl: string;
  wsUrl: string;
}

export interface Deployment {
  apiUrl: string;
  wsUrl: string;
}

const KEY = 'jobengine.console.session';

export async function loadDeployment(): Promise<Deployment> {
  const local = {
    apiUrl: '',
    wsUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  };
  try {
    const response = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
    if (!response.ok) return local;
    const config = (await response.json()) as Partial<Deployment>;
    return { apiUrl: config.apiUrl ?? local.apiUrl, wsUrl: config.wsUrl ?? local.wsUrl };
  } catch {
    return local;
  }
}

export function savedSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return undefined;
  try {
    const session = JSON.parse(raw) as Session;
    const claims = tokenClaims(session.token);
    if (claims?.exp && claims.exp * 1000 < Date.now()) return undefined;
    return session;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export interface TokenClaims {
  sub?: string;
  exp?: number;
  scope?: string;
  tenants?: string[] | '*';
}

/** The token's claims, read without verifying (the server verifies); undefined when it is not a JWT. */
export function tokenClaims(token: string): TokenClaims | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    return JSON.parse(json) as TokenClaims;
  } catch {
    return undefined;
  }
}

export function apiFor(session: Session): JobEngineApi {
  return new JobEngineApi({ endpoint: session.apiUrl, token: session.token, tenant: session.tenant });
}
