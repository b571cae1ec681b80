/**
 * Naming implementations: `nv2`, `nv` (built in), a module plug-in path, or `exec:COMMAND`.
 * Built-ins are registered here; plug-ins and processes by src/plugins.
 */
import { InputError } from '../errors.js';
import type { Implementation } from './model.js';
import type { Layout } from '../../models/layout.js';

/** Options every implementation takes (the CLI's `--layout` and `--host-ecv-traps`). */
export interface ImplOptions {
  /** VNCR layout: a catalogue name, a layout file, or a loaded layout. Default `architected`. */
  readonly layout: string | Layout;
  /** The physical CPU has FEAT_ECV and the host uses its traps to make VNCR-held timers exact. Default false. */
  readonly hostEcvTraps: boolean;
  /** External implementations: per-op answer timeout in ms. Default $NVCONFORM_EXEC_TIMEOUT_MS, else 5000. */
  readonly timeoutMs?: number;
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

/** External implementations see the layout by name (or file path). */
export interface ExternalImplOptions {
  readonly layout: string;
  readonly hostEcvTraps: boolean;
  readonly timeoutMs?: number;
}
type ExternalLoader = (spec: string, opts: ExternalImplOptions) => Promise<Implementation>;
let external: ExternalLoader | undefined;
/** Installed by the plug-in module so the engine does not import it eagerly. */
export function setExternalLoader(l: ExternalLoader): void {
  external = l;
}

export async function createImplementation(spec: string, opts: ImplOptions): Promise<Implementation> {
  const b = builtins.get(spec);
  if (b) return b(opts);
  if (external && (spec.startsWith('exec:') || /[./\\]/.test(spec))) return external(spec, { layout: typeof opts.layout === 'string' ? opts.layout : opts.layout.source, hostEcvTraps: opts.hostEcvTraps, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
  throw new InputError(`--impl: unknown implementation '${spec}' (built in: ${builtinNames().join(', ')}; or a module path, or exec:COMMAND)`);
}
