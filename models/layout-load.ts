/**
 * Loading a layout by catalogue name or file path. (Minimal loader; full validation lives in
 * models/layout-file.ts once written.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { catalogueDir, catalogueNames, type Layout } from './layout.js';
import { parseLayoutText } from './layout-file.js';

const cache = new Map<string, Layout>();

export function loadLayout(spec: string): Layout {
  const hit = cache.get(spec);
  if (hit) return hit;
  let path: string;
  if (/^[a-z0-9-]+$/.test(spec) && !existsSync(spec)) {
    path = join(catalogueDir(), `${spec}.json`);
    if (!existsSync(path)) throw new InputError(`--layout: no layout named '${spec}' (catalogue: ${catalogueNames().join(', ')}; or give a file)`);
  } else path = spec;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${spec}: cannot read layout (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const layout = parseLayoutText(text, path);
  cache.set(spec, layout);
  return layout;
}
