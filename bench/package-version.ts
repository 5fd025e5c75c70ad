import { readFileSync } from 'node:fs';

/**
 * The installed version of a dependency, read from its `package.json` on disk: some packages (e.g.
 * graphile-worker) do not export `./package.json`, so it cannot be imported.
 */
export function packageVersion(name: string): string {
  const manifest = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
