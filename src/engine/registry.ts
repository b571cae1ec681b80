/**
 * Naming implementations: a built-in name (`nv2`, `nv`), a module plug-in path, or `exec:COMMAND`.
 * The built-ins are an explicit table; a caller (a test with its mutants) may pass its own.
 * Nothing is registered by importing a module.
 */
import { ImplementationError, InputError, NvcError } from '../../models/arch/errors.js';
import type { Implementation } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import { loadLayout } from '../../models/layouts/load.js';
import type { HostFeature } from '../../models/arch/implementation.js';
import type { Vocabulary } from '../../models/arch/vocabulary.js';
import { Nv2Model, type Nv2Options } from '../../models/nv2/model.js';
import type { HostProfile } from '../../models/nv2/host/policy.js';
import { loadExternal } from '../plugins/index.js';

/** The host the built-in models run (the CLI's `--host`, `--host-cpu`, `--host-counter-offset`). */
export interface HostOptions {
  /** The host's policy: `exact` (nvconform's idealised host) or `kvm` (mainline KVM's). Default `exact`. */
  readonly profile?: HostProfile;
  /** The physical CPU's features. Default HOST_FEATURES (ecv, ecv-poff, wfxt, vhe, nv2p1). */
  readonly cpu?: readonly HostFeature[];
  /** The VM's counter offset, in counts (KVM_ARM_SET_COUNTER_OFFSET). Default 0. */
  readonly counterOffset?: bigint;
}

/** Options every implementation takes (the CLI's `--layout`, `--host-ecv-traps`, `--timeout`). */
export interface ImplOptions {
  /** VNCR layout: a catalogue name, a layout file, or a loaded layout. Default `architected`. */
  readonly layout: string | Layout;
  /** The physical CPU has FEAT_ECV and the host uses its traps to make VNCR-held timers exact. Default false. */
  readonly hostEcvTraps: boolean;
  /** External implementations: per-op answer timeout in ms. Default $NVCONFORM_EXEC_TIMEOUT_MS, else 5000. */
  readonly timeoutMs?: number;
  /** The built-in models' host. Default: the exact host on the most capable CPU, no counter offset. */
  readonly host?: HostOptions;
  /** External implementations: the trace vocabulary they understand. Default: 1, or what a module plug-in declares. */
  readonly vocabulary?: Vocabulary;
}

export const DEFAULT_IMPL_OPTIONS: ImplOptions = { layout: 'architected', hostEcvTraps: false };

/** Makes a built-in implementation from the options, with the layout loaded. */
export type BuiltinFactory = (opts: { readonly layout: Layout; readonly hostEcvTraps: boolean; readonly host?: HostOptions }) => Implementation;

/** The Nv2Model options a host gives. */
export const hostModelOptions = (h: HostOptions | undefined): Pick<Nv2Options, 'host' | 'hostCpu' | 'counterOffset'> => ({
  ...(h?.profile ? { host: h.profile } : {}), ...(h?.cpu ? { hostCpu: h.cpu } : {}), ...(h?.counterOffset !== undefined ? { counterOffset: h.counterOffset } : {}),
});

/** Built-in implementations by name. */
export type Registry = ReadonlyMap<string, BuiltinFactory>;

export const BUILTINS: Registry = new Map<string, BuiltinFactory>([
  ['nv2', (o) => new Nv2Model({ layout: o.layout, hostEcvTraps: o.hostEcvTraps, ...hostModelOptions(o.host) })],
  ['nv', (o) => new Nv2Model({ layout: o.layout, nv2: false, hostEcvTraps: o.hostEcvTraps, ...hostModelOptions(o.host) })],
]);

/** A registry with more built-ins (a test's mutants). */
export const withBuiltins = (extra: Iterable<readonly [string, BuiltinFactory]>, base: Registry = BUILTINS): Registry =>
  new Map([...base, ...extra]);

const layoutOf = (l: string | Layout): Layout => (typeof l === 'string' ? loadLayout(l) : l);

/** Is `spec` an external implementation (a process or a module path) rather than a built-in name? */
export const isExternalSpec = (spec: string): boolean => spec.startsWith('exec:') || /[./\\]/.test(spec);

export async function createImplementation(spec: string, opts: ImplOptions, registry: Registry = BUILTINS): Promise<Implementation> {
  const b = registry.get(spec);
  if (b) return b({ layout: layoutOf(opts.layout), hostEcvTraps: opts.hostEcvTraps, ...(opts.host ? { host: opts.host } : {}) });
  if (isExternalSpec(spec)) {
    return loadExternal(spec, {
      layout: layoutOf(opts.layout), hostEcvTraps: opts.hostEcvTraps, builtins: [...registry.keys()], ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.vocabulary !== undefined ? { vocabulary: opts.vocabulary } : {}),
    });
  }
  throw new InputError(`--impl: unknown implementation '${spec}' (built in: ${[...registry.keys()].join(', ')}; or a module path, or exec:COMMAND)`);
}

/** The registry name of an implementation instance handed in by a library caller (`instance:NAME`). */
export const instanceName = (impl: Implementation): string => `instance:${impl.name}`;

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as { then?: unknown } | null)?.then === 'function';
const firstLine = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0]!;

/**
 * What is wrong with the JavaScript types of an observation an instance returned, if anything:
 * what the runner's shape check (observationProblem in runner.ts) takes for granted, since a
 * module plug-in's answers are converted from JSON and an instance's are not.
 */
function observationTypeProblem(o: unknown): string | undefined {
  if (typeof o !== 'object' || o === null) return 'not an observation object';
  const x = o as Record<string, unknown>;
  if (typeof x.irq !== 'number') return 'irq is not a number (a mask over the four timers)';
  if (x.value !== undefined && typeof x.value !== 'bigint') return 'value is not a bigint';
  if (x.elapsed !== undefined && typeof x.elapsed !== 'bigint') return 'elapsed is not a bigint';
  if (x.fault !== undefined && typeof x.fault !== 'string') return 'fault is not a string';
  return undefined;
}

/**
 * An implementation instance as a registry entry, so that it runs wherever a name does (check,
 * replay, suites) without a second code path. The entry hands out a view of the instance
 * without `close` (the caller made it, owns it and may use it again) in which an exception
 * from `reset` or `step`, or an observation of the wrong JavaScript types, is an
 * ImplementationError: a failure of the implementation under test, reported at its op like a
 * module plug-in's.
 */
export function instanceEntry(impl: Implementation): readonly [string, BuiltinFactory] {
  const label = instanceName(impl);
  const fail = (what: string, e: unknown): never => {
    if (e instanceof NvcError) throw e;
    throw new ImplementationError(`${label}: ${what} threw: ${firstLine(e)}`);
  };
  const guard = <T>(what: string, f: () => T | Promise<T>, check?: (v: T) => string | undefined): T | Promise<T> => {
    const ok = (v: T): T => {
      const problem = check?.(v);
      if (problem) throw new ImplementationError(`${label}: ${what} returned ${problem}`);
      return v;
    };
    let v: T | Promise<T>;
    try {
      v = f();
    } catch (e) {
      return fail(what, e);
    }
    return isPromise(v) ? v.then(ok, (e: unknown) => fail(what, e)) : ok(v);
  };
  const view: Implementation = {
    name: impl.name,
    declaration: impl.declaration,
    reset: (c) => guard('reset()', () => impl.reset(c)),
    step: (op) => guard(`step(${op.op})`, () => impl.step(op), observationTypeProblem),
    ...(impl.detail ? { detail: () => impl.detail!() } : {}),
    ...(impl.describeHost ? { describeHost: () => impl.describeHost!() } : {}),
    ...(impl.snapshot && impl.restore ? { snapshot: () => impl.snapshot!(), restore: (s: unknown) => impl.restore!(s) } : {}),
    ...(impl.key ? { key: () => impl.key!() } : {}),
    ...(impl.keyInto ? { keyInto: (buf: BigUint64Array, at: number) => impl.keyInto!(buf, at) } : {}),
  };
  return [label, () => view];
}
