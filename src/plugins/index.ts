/**
 * External implementations: module plug-ins (a path to a .js/.mjs/.ts module) and processes
 * (`exec:COMMAND ARGS`). The engine's registry calls loadExternal() for a spec that is not a
 * built-in name.
 */
import type { Implementation } from '../../models/arch/implementation.js';
import type { ExternalOptions } from './common.js';
import { loadExecImplementation } from './exec.js';
import { loadModulePlugin } from './module.js';

export { DEFAULT_TIMEOUT_MS, TIMEOUT_ENV, type ExternalBaseOptions, type ExternalOptions } from './common.js';
export { splitCommand } from './argv.js';
export type { PluginOptions } from './module.js';

/** Create an external implementation from its spec: `exec:COMMAND ARGS`, or else a module path. */
export function loadExternal(spec: string, opts: ExternalOptions): Promise<Implementation> {
  return spec.startsWith('exec:') ? loadExecImplementation(spec, opts) : loadModulePlugin(spec, opts);
}
