/**
 * VNCR layouts: which timer registers have a slot in the VNCR page, and at which byte offset.
 * A slot is keyed by the EL0 name of the EL1 timer register (or CNTVOFF_EL2 / CNTPOFF_EL2); the
 * register table says which names it serves under which HCR_EL2.NV1.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VNCR_PAGE_BYTES = 4096;

export interface Layout {
  readonly name: string;
  readonly description: string;
  /** Slot key -> byte offset in the VNCR page. */
  readonly slots: ReadonlyMap<string, number>;
  /** Where the layout came from (catalogue file or user file), for messages. */
  readonly source: string;
}

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

export function catalogueNames(): string[] {
  return readdirSync(catalogueDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort((a, b) => (a === 'architected' ? -1 : b === 'architected' ? 1 : a.localeCompare(b)));
}
