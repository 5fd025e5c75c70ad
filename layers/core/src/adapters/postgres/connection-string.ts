import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../../config.ts';

/**
 * DATABASE_URL when given (local runtime, tests); on AWS the RDS-generated secret's credentials joined
 * with the RDS Proxy endpoint, over TLS.
 */
export async function resolveConnectionString(config: Config): Promise<string> {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  if (!config.DATABASE_SECRET_ARN || !config.DATABASE_PROXY_ENDPOINT) {
    throw new Error('configuration: set DATABASE_URL, or DATABASE_SECRET_ARN and DATABASE_PROXY_ENDPOINT');
  }
  const secrets = new SecretsManagerClient({});
  const { SecretString } = await secrets.send(
    new GetSecretValueCommand({ SecretId: config.DATABASE_SECRET_ARN }),
  );
  const secret = JSON.parse(SecretString ?? '{}') as { username?: string; password?: string; port?: number };
  if (!secret.username || !secret.password) throw new Error('database secret lacks username/password');
  const url = new URL(`postgres://${config.DATABASE_PROXY_ENDPOINT}`);
  url.username = encodeURIComponent(secret.username);
  url.password = encodeURIComponent(secret.password);
  url.port = String(secret.port ?? 5432);
  url.pathname = `/${config.DATABASE_NAME}`;
  url.searchParams.set('sslmode', 'require');
  return url.toString();
}
