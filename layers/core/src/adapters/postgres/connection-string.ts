import type { Config } from '../../config.ts';
import { readSecretString } from '../aws/secrets.ts';

export interface DatabaseLogin {
  username: string;
  connectionString: string;
}

/**
 * On AWS: the RDS-generated secret's credentials joined with the RDS Proxy endpoint, over TLS (the
 * functions and the migration custom resource both log in this way).
 */
export async function readDatabaseLogin(config: Config): Promise<DatabaseLogin> {
  if (!config.DATABASE_SECRET_ARN || !config.DATABASE_PROXY_ENDPOINT) {
    throw new Error('configuration: set DATABASE_URL, or DATABASE_SECRET_ARN and DATABASE_PROXY_ENDPOINT');
  }
  const secret = JSON.parse(await readSecretString(config.DATABASE_SECRET_ARN)) as {
    username?: string;
    password?: string;
    port?: number;
  };
  if (!secret.username || !secret.password) throw new Error('database secret lacks username/password');
  const url = new URL(`postgres://${config.DATABASE_PROXY_ENDPOINT}`);
  url.username = encodeURIComponent(secret.username);
  url.password = encodeURIComponent(secret.password);
  url.port = String(secret.port ?? 5432);
  url.pathname = `/${config.DATABASE_NAME}`;
  url.searchParams.set('sslmode', 'require');
  return { username: secret.username, connectionString: url.toString() };
}

/** DATABASE_URL when given (local runtime, tests); otherwise the AWS login above. */
export async function resolveConnectionString(config: Config): Promise<string> {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  return (await readDatabaseLogin(config)).connectionString;
}
