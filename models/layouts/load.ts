/**
 * Loading a layout by catalogue name (models/layouts/NAME.json) or by file path (.json, .yaml,
 * .yml; any other readable file is read as YAML, of which JSON is a subset). The file format and
 * its checks are in models/layout-file.ts. Every failure is an InputError with a one-line message.
 *
 * A bare name (no '/', no '.') means a catalogue layout; to load a local file whose name has no
 * extension, write it as a path (./name).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../arch/errors.js';
import type { Layout } from '../arch/layout.js';
import { catalogueDir, catalogueNames } from './catalogue.js';
import { parseLayoutText } from './file.js';

const cache = new Map<string, Layout>();

const isBareName = (spec: string): boolean => /^[A-Za-z0-9_-]+$/.test(spec);

function readText(path: string, shown: string): string {
  try {
    if (statSync(path).isDirectory()) throw new InputError(`${shown}: cannot read layout: it is a directory`);
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : (err.code ?? err.message);
    throw new InputError(`${shown}: cannot read layout: ${String(why).split('\n')[0]}`);
  }
}

function catalogueList(): string {
  try {
    return catalogueNames().join(', ');
  } catch {
    return '(catalogue unreadable)';
  }
}

/** Load a layout by catalogue name or file path. Results are cached by `spec`. */
export function loadLayout(spec: string): Layout {
  const hit = cache.get(spec);
  if (hit) return hit;
  if (spec.trim() === '') throw new InputError(`--layout: empty layout name; catalogue: ${catalogueList()} (or give a .json/.yaml file)`);
  let layout: Layout;
  if (isBareName(spec)) {
    const path = join(catalogueDir(), `${spec}.json`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new InputError(
        `--layout: no layout named '${spec}' in the catalogue (${catalogueList()}); to load a file give its path (e.g. ./${spec}.yaml)`,
      );
    }
    layout = parseLayoutText(text, `models/layouts/${spec}.json`);
    if (layout.name !== spec) {
      throw new InputError(`models/layouts/${spec}.json: name: "${layout.name}" differs from the catalogue file name "${spec}"`);
    }
  } else {
    layout = parseLayoutText(readText(spec, spec), spec);
  }
  cache.set(spec, layout);
  return layout;
}

/** Every catalogue layout, the architected one first. */
export function loadCatalogue(): Layout[] {
  return catalogueNames().map((name) => loadLayout(name));
}

/** Forget cached layouts (for tests that rewrite a file). */
export function clearLayoutCache(): void {
  cache.clear();
}

/** How a layout is named on a command line: its catalogue name, or the file it was read from. */
export function layoutSpec(l: Layout): string {
  return /^models\/layouts\/[^/]+\.json$/.test(l.source) && l.source === `models/layouts/${l.name}.json` ? l.name : l.source;
}
