/**
 * The layout catalogue: models/layouts/NAME.json, found from the package root at run time.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder with package.json), found from this module's location. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('nvconform: cannot find the package root');
    dir = up;
  }
  return dir;
}

export const catalogueDir = (): string => join(packageRoot(), 'models', 'layouts');

/** The catalogue's layout names, the architected one first. */
export function catalogueNames(): string[] {
  return readdirSync(catalogueDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort((a, b) => (a === 'architected' ? -1 : b === 'architected' ? 1 : a.localeCompare(b)));
}
