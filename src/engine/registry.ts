/**
 * Naming implementations: `nv2`, `nv` (built in), a module plug-in path, or `exec:COMMAND`.
 * Built-ins are registered here; plug-ins and processes by src/plugins.
 */
import { InputError } from '../errors.js';
import type { Implementation } from './model.js';

/** Options every implementation takes (the CLI's `--layout` and `--host-ecv-traps`). */
export interface ImplOptions {
  /** VNCR layout: a catalogue name or a layout file. Default `architected`. */
  readonly layout: string;
  /** The physical CPU has FEAT_ECV and the host uses its traps to make VNCR-held timers exact. Default false. */
  readonly hostEcvTraps: boolean;
}

export const DEFAULT_IMPL_OPTIONS: ImplOptions = { layout: 'architected', hostEcvTraps: false };

export type ImplFactory = (opts: ImplOptions) => Implementation | Promise<Implementation>;

const builtins = new Map<string, ImplFactory>();

export function registerBuiltin(name: string, factory: ImplFactory): void {
  builtins.set(name, factory);
}

export function builtinNames(): string[] {
  return [...builtins.keys()];
}

type ExternalLoader = (spec: string, opts: ImplOptions) => Promise<Implementation>;
let external: ExternalLoader | undefined;
/** Installed by the plug-in module so the engine does not import it eagerly. */
export function setExternalLoader(l: ExternalLoader): void {
  external = l;
}

export async function createImplementation(spec: string, opts: ImplOptions): Promise<Implementation> {
  const b = builtins.get(spec);
  if (b) return b(opts);
  if (external && (spec.startsWith('exec:') || /[./\\]/.test(spec))) return external(spec, opts);
  throw new InputError(`--impl: unknown implementation '${spec}' (built in: ${builtinNames().join(', ')}; or a module path, or exec:COMMAND)`);
}
