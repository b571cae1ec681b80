/**
 * External implementations: module plug-ins (a path to a .js/.mjs/.ts module) and processes
 * (`exec:COMMAND ARGS`). Importing this module installs the loader into the engine's registry.
 */
import { setExternalLoader } from '../engine/registry.js';
import type { Implementation } from '../engine/model.js';
import type { ExternalOptions } from './common.js';
import { loadExecImplementation } from './exec.js';
import { loadModulePlugin } from './module.js';

export { DEFAULT_TIMEOUT_MS, TIMEOUT_ENV, type ExternalBaseOptions, type ExternalOptions } from './common.js';
export { splitCommand } from './argv.js';
export type { PluginOptions } from './module.js';

/**
 * Create an external implementation from its spec: `exec:COMMAND ARGS`, or else a module path.
 * The engine calls this through createImplementation() with the base options; call it directly
 * to pass ExternalOptions such as `timeoutMs`.
 */
export function loadExternal(spec: string, opts: ExternalOptions): Promise<Implementation> {
  return spec.startsWith('exec:') ? loadExecImplementation(spec, opts) : loadModulePlugin(spec, opts);
}

setExternalLoader(loadExternal);
