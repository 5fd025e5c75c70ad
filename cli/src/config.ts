import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './exit-codes.ts';

/**
 * Where the CLI finds the control plane and its credentials. Each setting comes from the first of: the
 * command-line flag, the environment, the config file (`~/.config/jobengine/config.json`, or under
 * `$XDG_CONFIG_HOME`, or the file `$JOBENGINE_CONFIG` names), the default.
 */
export const SETTINGS = {
  endpoint: { env: ['JOBENGINE_ENDPOINT', 'JOBENGINE_URL'], fallback: 'http://127.0.0.1:3000' },
  token: { env: ['JOBENGINE_TOKEN'], fallback: undefined },
  // The tenant `npm run demo` works in, so the CLI shows the demo's runs without more setup.
  tenant: { env: ['JOBENGINE_TENANT'], fallback: 'demo' },
  project: { env: ['JOBENGINE_PROJECT'], fallback: undefined },
} as const;
export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export type ConfigFile = Partial<Record<SettingName, string>>;

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JOBENGINE_CONFIG) return env.JOBENGINE_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'jobengine', 'config.json');
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as ConfigFile;
  } catch (error) {
    throw new UsageError(`the config file ${path} is not a JSON object (${(error as Error).message})`);
  }
}

/** Writes the file atomically, readable by its owner only (it may hold a token). */
export async function writeConfigFile(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

export interface ResolvedSetting {
  value: string | undefined;
  from: 'flag' | 'env' | 'file' | 'default';
  /** the variable, for `from: 'env'` */
  variable?: string;
}

export function resolveSetting(
  name: SettingName,
  flag: string | undefined,
  file: ConfigFile,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedSetting {
  if (flag) return { value: flag, from: 'flag' };
  for (const variable of SETTINGS[name].env) {
    if (env[variable]) return { value: env[variable], from: 'env', variable };
  }
  if (file[name]) return { value: file[name], from: 'file' };
  return { value: SETTINGS[name].fallback, from: 'default' };
}

export function isSettingName(name: string): name is SettingName {
  return (SETTING_NAMES as string[]).includes(name);
}
