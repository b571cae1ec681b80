/**
 * nvconform as a library: `import { check, replay, run, layouts, properties, models } from 'nvconform'`
 * (docs/api.md). One options object per function, every default documented where the option is
 * declared; results are plain data (./types.ts). Bad options throw an InputError (an Error whose
 * `name` is 'InputError') with a one-line message, as the command line prints them.
 *
 * Nothing here imports src/cli: the command line and the library are two front ends of the
 * same layers below.
 */
import { InputError } from '../../models/arch/errors.js';
import type { Implementation } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import type { GuestMode as ArchGuestMode, Trace } from '../../models/arch/vocabulary.js';
import { catalogueNames } from '../../models/layouts/catalogue.js';
import { LAYOUT_FORMAT, parseLayoutText } from '../../models/layouts/file.js';
import { loadCatalogue, loadLayout } from '../../models/layouts/load.js';
import { isPropertyName, PROPERTIES, PROPERTY_NAMES, type PropertyName } from '../../properties/index.js';
import { check as runCheck, DEFAULT_CHECK_OPTIONS, type CheckOptions as EngineCheckOptions } from '../check/check.js';
import { hostFromToken, layoutFromToken, replayTrace } from '../check/replay.js';
import { executeTrace } from '../engine/execute.js';
import { BUILTINS, createImplementation, instanceEntry, withBuiltins, type HostOptions, type Registry } from '../engine/registry.js';
import { HOST_FEATURE_NAMES, type HostFeature } from '../../models/arch/implementation.js';
import { isHostProfile } from '../../models/nv2/host/policy.js';
import { REGISTER_BY_NAME } from '../../models/arch/registers.js';
import { judgeLayout, trapCost, type LayoutVerdict } from '../layouts/evaluate.js';
import { renderCheck } from '../report/check.js';
import { renderReplay, replayJson } from '../report/replay.js';
import { parseTraceText, parseTraceValue } from '../trace/parse.js';
import { decodeToken, isToken } from '../trace/token.js';
import { readFileSync } from 'node:fs';
import { checkReport, hostData, layoutData, layoutReport, stepReports, traceDocument } from './convert.js';
import type { CheckReport, GuestMode, HostData, LayoutData, LayoutsReport, ObservationsReport, PropertyInfo, ReplayReport, RunReport, TraceDocument } from './types.js';

export type * from './types.js';
export type { Declaration, HostDeclaration, HwAction, Implementation, SlotChange, StepDetail } from '../../models/arch/implementation.js';
export type { Layout } from '../../models/arch/layout.js';
export type { El, Expectation, FaultKind, Feature, Observation, Op, TraceConfig } from '../../models/arch/vocabulary.js';
export { ImplementationError, InputError, NvcError } from '../../models/arch/errors.js';

/** An implementation: a spec (`nv2`, `nv`, a module path, `exec:COMMAND`) or an object implementing Implementation. */
export type ImplSpec = string | Implementation;
/** A VNCR layout: a catalogue name (`architected`, `tval-in-vncr`, ...), a layout file path (.json, .yaml), the slots as data, or a Layout from `models.layout`. */
export type LayoutSpec = string | LayoutData | Layout;

/** The options every function that makes an implementation takes. */
export interface ImplementationOptions {
  /** The implementation under test. Default `'nv2'`, the built-in NV2 model. */
  readonly impl?: ImplSpec;
  /** The VNCR layout. Default `'architected'`; for an Implementation object, the layout it declares (a layout given must be that one). */
  readonly layout?: LayoutSpec;
  /** The physical CPU has FEAT_ECV and the host uses its traps. Default false. */
  readonly hostEcvTraps?: boolean;
  /** The built-in models' host: profile (`exact`, `kvm`), the physical CPU's features, the VM's counter offset. Default: the exact host on the most capable CPU, offset 0. */
  readonly host?: HostData;
  /** External implementations (module, `exec:`): per-op answer timeout in ms. Default $NVCONFORM_EXEC_TIMEOUT_MS, else 5000. */
  readonly timeoutMs?: number;
}

export interface CheckOptions extends ImplementationOptions {
  /** Properties to check, in order. Default: all of them (`properties`). */
  readonly properties?: readonly PropertyName[];
  /** One property: the same as `properties: [property]`. Default none. */
  readonly property?: PropertyName;
  /** Pin the guest hypervisor's mode. Default: both, chosen per trace. */
  readonly guest?: GuestMode;
  /** Pin FEAT_ECV of the virtual CPU. Default: with and without, chosen per trace. */
  readonly ecv?: boolean;
  /** Generated traces per property. Default 300. */
  readonly runs?: number;
  /** fast-check seed: the same seed and options give the same result. Default 42. */
  readonly seed?: number;
  /** Longest generated trace. Default 40. */
  readonly maxOps?: number;
  /** The exhaustive phase's depth (every trace of at most this many ops first); 0 skips it. Default 2 (1 for an implementation without snapshot/restore). */
  readonly depth?: number;
  /** Registers no generated or enumerated trace touches, to look past a divergence already known. Default none. */
  readonly exclude?: readonly string[];
  /** An external implementation's trace vocabulary (1 or 2). Default: 1, or what a module plug-in declares. */
  readonly vocabulary?: 1 | 2;
  /** Timing figures in `text` (ms, traces/s). Default true; false makes `text` the same for a seed. */
  readonly timing?: boolean;
}

/** `impl`, `layout` and `hostEcvTraps` default to the token's (its implementation only if built in), then to check's defaults. */
export interface ReplayOptions extends ImplementationOptions {
  /**
   * What to replay: a replay token (`nvc1:...`), a trace file's path, or a trace document. A
   * token's implementation is used only if it is built in (`nv2`, `nv`); a token is data and
   * never makes nvconform run a program or load a module: name any other with `impl`.
   */
  readonly trace: string | TraceDocument;
  /** Properties to judge. Default: the token's property, else all. */
  readonly properties?: readonly PropertyName[];
  /** One property: the same as `properties: [property]`. Default none. */
  readonly property?: PropertyName;
  /** Timing figures in `text`. Default true; false makes `text` the same for a trace. */
  readonly timing?: boolean;
}

export interface RunOptions extends Omit<ImplementationOptions, 'impl'> {
  /** The trace: a replay token, a trace file's path, or a trace document. */
  readonly trace: string | TraceDocument;
  /** What executes it: `'reference'` (the architecture; the default), or an implementation (spec or object). */
  readonly model?: ImplSpec;
}

export interface LayoutsOptions {
  /** Layouts to judge: catalogue names, files or data. Default: none besides the catalogue. */
  readonly layouts?: readonly LayoutSpec[];
  /** Judge every catalogue layout too, first. Default true. */
  readonly catalogue?: boolean;
  /** Guest modes to judge each layout in. Default both, `['vhe', 'nvhe']`. */
  readonly guests?: readonly GuestMode[];
  /** The physical CPU has FEAT_ECV and the host uses its traps. Default false. */
  readonly hostEcvTraps?: boolean;
  /** The built-in host: as ImplementationOptions.host. Default: the exact host on the most capable CPU. */
  readonly host?: HostData;
  /** Pin FEAT_ECV of the virtual CPU. Default: judged with and without. */
  readonly ecv?: boolean;
  /** Generated traces per contract and guest mode. Default 300. */
  readonly runs?: number;
  /** fast-check seed. Default 42. */
  readonly seed?: number;
  /** Longest generated trace. Default 40. */
  readonly maxOps?: number;
  /** The exhaustive phase's depth. Default 2. */
  readonly depth?: number;
}

// ---- checking the options ----

const where = (fn: string, key: string): string => `${fn}: options.${key}`;

function positive(fn: string, key: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`${where(fn, key)}: expected a positive integer, got ${String(v)}`);
  return v;
}

function seedOf(fn: string, v: number | undefined): number {
  if (v === undefined) return DEFAULT_CHECK_OPTIONS.seed;
  if (!Number.isSafeInteger(v)) throw new InputError(`${where(fn, 'seed')}: expected an integer, got ${String(v)}`);
  return v | 0;
}

function depthOf(fn: string, v: number | undefined): { depth?: number } {
  if (v === undefined) return {};
  if (!Number.isSafeInteger(v) || v < 0 || v > 32) throw new InputError(`${where(fn, 'depth')}: expected a whole number from 0 to 32, got ${String(v)}`);
  return { depth: v };
}

function guestOf(fn: string, v: unknown): { guest?: ArchGuestMode } {
  if (v === undefined) return {};
  if (v !== 'vhe' && v !== 'nvhe') throw new InputError(`${where(fn, 'guest')}: expected 'vhe' or 'nvhe', got ${JSON.stringify(v)}`);
  return { guest: v };
}

function propertiesOf(fn: string, o: { properties?: readonly PropertyName[]; property?: PropertyName }, dflt: readonly PropertyName[]): readonly PropertyName[] {
  if (o.property !== undefined && o.properties !== undefined) throw new InputError(`${fn}: options.property and options.properties: give one`);
  const ps: unknown = o.property !== undefined ? [o.property] : o.properties;
  if (ps === undefined) return dflt;
  if (!Array.isArray(ps) || ps.length === 0) throw new InputError(`${where(fn, 'properties')}: expected a non-empty list of property names`);
  const out: PropertyName[] = [];
  for (const p of ps as unknown[]) {
    if (typeof p !== 'string' || !isPropertyName(p)) throw new InputError(`${fn}: unknown property ${JSON.stringify(p)} (known: ${PROPERTY_NAMES.join(', ')})`);
    out.push(p);
  }
  return out;
}

function isImplementation(x: unknown): x is Implementation {
  const o = x as Partial<Implementation> | null;
  return typeof o === 'object' && o !== null && typeof o.reset === 'function' && typeof o.step === 'function';
}

/** The same slots (the layouts' names may differ). */
const sameSlots = (a: Layout, b: Layout): boolean =>
  a.slots.size === b.slots.size && [...a.slots].every(([k, v]) => b.slots.get(k) === v);

/** A layout from a spec. A string is a catalogue name or a file the caller named; data is checked like a layout file. */
export function toLayout(spec: LayoutSpec, what = 'layout'): Layout {
  if (typeof spec === 'string') return loadLayout(spec);
  if (typeof spec !== 'object' || spec === null) throw new InputError(`${what}: expected a catalogue name, a file path or { name, slots }`);
  if (spec.slots instanceof Map) return spec as Layout;
  const d = spec as LayoutData & { allowArchitectedOffsets?: boolean };
  if (typeof d.slots !== 'object' || d.slots === null || Array.isArray(d.slots)) throw new InputError(`${what}: slots: expected an object { REGISTER: offset }`);
  const doc = {
    format: LAYOUT_FORMAT, name: d.name, ...(d.description !== undefined ? { description: d.description } : {}),
    ...(d.allowArchitectedOffsets !== undefined ? { allowArchitectedOffsets: d.allowArchitectedOffsets } : {}),
    slots: Object.entries(d.slots).map(([reg, offset]) => ({ reg, offset })),
  };
  try {
    return { ...parseLayoutText(JSON.stringify(doc), what), source: 'data' };
  } catch (e) {
    // The document is ours, one line: its line number would say nothing.
    if (e instanceof InputError) throw new InputError(e.message.replace(`${what}:1: `, `${what}: `));
    throw e;
  }
}

interface MadeImpl {
  /** How it is named in reports and tokens. */
  readonly spec: string;
  readonly registry: Registry;
  readonly layout: Layout;
  readonly instance?: Implementation;
}

/** The implementation and layout of the options: a spec runs through the registry as on the command line, an object through an entry of its own. */
function implOf(fn: string, impl: ImplSpec | undefined, layout: LayoutSpec | undefined, fallbackLayout?: () => Layout | undefined): MadeImpl {
  if (impl === undefined || typeof impl === 'string') {
    const spec = impl ?? DEFAULT_CHECK_OPTIONS.impl;
    if (spec.trim() === '') throw new InputError(`${where(fn, 'impl')}: empty implementation spec`);
    return { spec, registry: BUILTINS, layout: layout !== undefined ? toLayout(layout, where(fn, 'layout')) : fallbackLayout?.() ?? loadLayout('architected') };
  }
  if (!isImplementation(impl)) throw new InputError(`${where(fn, 'impl')}: expected a spec string or an object with reset() and step() (the Implementation interface)`);
  const declared = impl.declaration?.layout;
  if (!declared || !(declared.slots instanceof Map)) throw new InputError(`${where(fn, 'impl')}: ${impl.name ?? 'the implementation'}: declaration.layout is not a Layout (make one with models.layout(...))`);
  const given = layout !== undefined ? toLayout(layout, where(fn, 'layout')) : undefined;
  if (given && !sameSlots(given, declared)) {
    throw new InputError(`${fn}: options.layout '${given.name}' is not the layout ${impl.name} declares ('${declared.name}'); the properties judge it by its declaration`);
  }
  const entry = instanceEntry(impl);
  return { spec: entry[0], registry: withBuiltins([entry]), layout: given ?? declared, instance: impl };
}

const timeoutOf = (fn: string, v: number | undefined): { timeoutMs?: number } => (v === undefined ? {} : { timeoutMs: positive(fn, 'timeoutMs', v, 0) });

/** The host options as the engine takes them, checked. */
function hostOf(fn: string, h: HostData | undefined): { host?: HostOptions } {
  if (h === undefined) return {};
  if (typeof h !== 'object' || h === null) throw new InputError(`${where(fn, 'host')}: expected { profile?, cpu?, counterOffset? }`);
  for (const k of Object.keys(h)) if (!['profile', 'cpu', 'counterOffset'].includes(k)) throw new InputError(`${where(fn, 'host')}: unknown field '${k}' (profile, cpu, counterOffset)`);
  if (h.profile !== undefined && !isHostProfile(h.profile)) throw new InputError(`${where(fn, 'host')}.profile: expected 'exact' or 'kvm', got ${JSON.stringify(h.profile)}`);
  const cpu: unknown = h.cpu;
  const features: HostFeature[] = [];
  if (cpu !== undefined) {
    if (!Array.isArray(cpu)) throw new InputError(`${where(fn, 'host')}.cpu: expected a list of ${HOST_FEATURE_NAMES.join(', ')}`);
    for (const f of cpu as unknown[]) {
      if (typeof f !== 'string' || !HOST_FEATURE_NAMES.includes(f as HostFeature)) throw new InputError(`${where(fn, 'host')}.cpu: unknown feature ${JSON.stringify(f)} (${HOST_FEATURE_NAMES.join(', ')})`);
      features.push(f as HostFeature);
    }
  }
  if (h.counterOffset !== undefined && (typeof h.counterOffset !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(h.counterOffset))) {
    throw new InputError(`${where(fn, 'host')}.counterOffset: expected "0x" and 1 to 16 hex digits, got ${JSON.stringify(h.counterOffset)}`);
  }
  return {
    host: {
      ...(h.profile !== undefined ? { profile: h.profile } : {}), ...(cpu !== undefined ? { cpu: features } : {}),
      ...(h.counterOffset !== undefined ? { counterOffset: BigInt(h.counterOffset) } : {}),
    },
  };
}

/** Options that make a built-in implementation, refused for an object (it was made already). */
function notForObject(fn: string, m: MadeImpl, o: { hostEcvTraps?: boolean; host?: HostData; timeoutMs?: number }): void {
  if (!m.instance) return;
  for (const k of ['hostEcvTraps', 'host', 'timeoutMs'] as const) {
    if (o[k] !== undefined) throw new InputError(`${fn}: options.${k} does not apply to an Implementation object (it was made already; its declaration says what it is)`);
  }
}

function excludeOf(fn: string, x: readonly string[] | undefined): { exclude?: readonly string[] } {
  if (x === undefined) return {};
  const list: unknown = x;
  if (!Array.isArray(list)) throw new InputError(`${where(fn, 'exclude')}: expected a list of register names`);
  const regs: string[] = [];
  for (const r of list as unknown[]) {
    if (typeof r !== 'string' || !REGISTER_BY_NAME.has(r)) throw new InputError(`${where(fn, 'exclude')}: unknown register ${JSON.stringify(r)}`);
    regs.push(r);
  }
  return { exclude: regs };
}

// ---- the functions ----

/**
 * Generate guest-hypervisor behaviour, run the reference and the implementation side by side,
 * and shrink every failure to a minimal trace with a replay token (`nvconform check` with one
 * configuration). Resolves with the report whatever the verdict; rejects on bad options.
 */
export async function check(options: CheckOptions = {}): Promise<CheckReport> {
  const fn = 'check';
  const m = implOf(fn, options.impl, options.layout);
  notForObject(fn, m, options);
  if (options.vocabulary !== undefined && options.vocabulary !== 1 && options.vocabulary !== 2) throw new InputError(`${where(fn, 'vocabulary')}: expected 1 or 2`);
  const o: EngineCheckOptions = {
    impl: m.spec, registry: m.registry, layout: m.layout, hostEcvTraps: options.hostEcvTraps ?? false, ...hostOf(fn, options.host),
    ...excludeOf(fn, options.exclude), ...(options.vocabulary !== undefined ? { vocabulary: options.vocabulary } : {}),
    runs: positive(fn, 'runs', options.runs, DEFAULT_CHECK_OPTIONS.runs), seed: seedOf(fn, options.seed),
    maxOps: positive(fn, 'maxOps', options.maxOps, DEFAULT_CHECK_OPTIONS.maxOps),
    properties: propertiesOf(fn, options, PROPERTY_NAMES), stats: false,
    ...guestOf(fn, options.guest), ...(options.ecv !== undefined ? { ecv: !!options.ecv } : {}),
    ...depthOf(fn, options.depth), ...timeoutOf(fn, options.timeoutMs),
  };
  const r = await runCheck(o);
  return checkReport(r, renderCheck(r, { timing: options.timing !== false }));
}

/** A trace from a token, a file path or a document, with a token's options. */
function traceOf(fn: string, t: unknown): { trace: Trace; extra: Record<string, unknown> } {
  if (typeof t === 'string') {
    if (isToken(t)) {
      const d = decodeToken(t);
      return { trace: d, extra: (d.extra ?? {}) as Record<string, unknown> };
    }
    let text: string;
    try {
      text = readFileSync(t, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(`${t}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? 'error'})`);
    }
    return { trace: parseTraceText(text, t), extra: {} };
  }
  if (typeof t === 'object' && t !== null) {
    try {
      return { trace: parseTraceValue(t), extra: {} };
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${where(fn, 'trace')}: ${e.message}`);
      throw e;
    }
  }
  throw new InputError(`${where(fn, 'trace')}: expected a replay token, a trace file path or a trace document`);
}

/**
 * Re-run a counterexample (`nvconform replay`): each property judged on exactly that trace.
 * Resolves with the report whatever the verdict.
 */
export async function replay(options: ReplayOptions): Promise<ReplayReport> {
  const fn = 'replay';
  const { trace, extra: x } = traceOf(fn, options?.trace);
  let impl: ImplSpec | undefined = options.impl;
  if (impl === undefined && x.impl !== undefined) {
    if (typeof x.impl !== 'string') throw new InputError('replay token: corrupt (impl is not a string)');
    if (!BUILTINS.has(x.impl)) {
      throw new InputError(`replay: this token was made with the implementation ${JSON.stringify(x.impl)}; a token never names what to run: pass it yourself, replay({ trace, impl: ${JSON.stringify(x.impl)} }) or the object`);
    }
    impl = x.impl;
  }
  const m = implOf(fn, impl, options.layout, () => layoutFromToken(x.layout));
  notForObject(fn, m, options);
  const hostEcvTraps = m.instance ? m.instance.declaration.host.ecvTraps : options.hostEcvTraps ?? (x.hostEcvTraps === true);
  const host = m.instance ? {} : options.host !== undefined ? hostOf(fn, options.host) : (() => {
    const h = hostFromToken(x.host);
    return h ? { host: h } : {};
  })();
  const tokenProp = typeof x.property === 'string' && isPropertyName(x.property) ? [x.property] : undefined;
  const properties = propertiesOf(fn, options, tokenProp ?? PROPERTY_NAMES);
  const r = await replayTrace(trace, { impl: m.spec, registry: m.registry, layout: m.layout, hostEcvTraps, properties, ...host, ...timeoutOf(fn, options.timeoutMs) });
  const timing = { timing: options.timing !== false };
  const obs = replayJson(r, timing).observations as ObservationsReport | undefined;
  return { ...checkReport(r.check, renderReplay(trace, r, timing)), observations: obs ?? null };
}

/**
 * Execute one trace on the reference or an implementation (`nvconform run`), recording every op:
 * the observations, what the hardware did, the host's timer map. Rejects on an invalid trace
 * and when the implementation fails (naming the op).
 */
export async function run(options: RunOptions): Promise<RunReport> {
  const fn = 'run';
  const { trace, extra: x } = traceOf(fn, options?.trace);
  const model = options.model ?? 'reference';
  if (model === 'reference') {
    for (const k of ['layout', 'hostEcvTraps', 'host', 'timeoutMs'] as const) {
      if (options[k] !== undefined) throw new InputError(`run: options.${k} applies to an implementation, not to the reference (the architecture has no VNCR page and no host)`);
    }
    const e = await executeTrace(trace, undefined);
    return { model, layout: null, trace: traceDocument({ ...trace, observations: e.expected }), steps: stepReports(e) };
  }
  const m = implOf(fn, model, options.layout, () => layoutFromToken(x.layout));
  notForObject(fn, m, options);
  const hostEcvTraps = options.hostEcvTraps ?? (x.hostEcvTraps === true);
  const host = options.host !== undefined ? hostOf(fn, options.host) : (() => {
    const h = hostFromToken(x.host);
    return h ? { host: h } : {};
  })();
  const implementation = await createImplementation(m.spec, { layout: m.layout, hostEcvTraps, ...host, ...timeoutOf(fn, options.timeoutMs) }, m.registry);
  try {
    const e = await executeTrace(trace, implementation);
    return { model: m.spec, layout: m.layout.name, trace: traceDocument({ ...trace, observations: e.observed ?? [] }), steps: stepReports(e) };
  } finally {
    await implementation.close?.();
  }
}

/**
 * Judge VNCR layouts on the built-in NV2 host (`nvconform layouts`): each under the
 * architectural and the deferred contract in each guest mode, with the shortest counterexample
 * and the trap cost on the workloads, next to the FEAT_NV-only baseline.
 */
export async function layouts(options: LayoutsOptions = {}): Promise<LayoutsReport> {
  const fn = 'layouts';
  const list = [...(options.catalogue === false ? [] : loadCatalogue()), ...(options.layouts ?? []).map((l, i) => toLayout(l, `${where(fn, 'layouts')}[${i}]`))];
  if (list.length === 0) throw new InputError(`${fn}: no layout to judge (options.catalogue is false and options.layouts is empty)`);
  const guests = options.guests ?? ['vhe', 'nvhe'];
  for (const g of guests) guestOf(fn, g);
  const o = {
    hostEcvTraps: options.hostEcvTraps ?? false, ...hostOf(fn, options.host), runs: positive(fn, 'runs', options.runs, DEFAULT_CHECK_OPTIONS.runs), seed: seedOf(fn, options.seed),
    maxOps: positive(fn, 'maxOps', options.maxOps, DEFAULT_CHECK_OPTIONS.maxOps), ...(options.ecv !== undefined ? { ecv: !!options.ecv } : {}), ...depthOf(fn, options.depth),
  };
  const verdicts: LayoutVerdict[] = [];
  for (const l of list) for (const g of guests) verdicts.push(await judgeLayout(l, g, o));
  const none: Layout = { name: 'nv', description: '', slots: new Map(), source: 'nv' };
  return {
    layouts: verdicts.map((v) => layoutReport(v, o.seed, o.hostEcvTraps)),
    baseline: Object.fromEntries(guests.map((g) => [g, { ...trapCost(none, g, { hostEcvTraps: o.hostEcvTraps, nv2: false, ...(o.host ? { host: o.host } : {}) }) }])),
    options: { hostEcvTraps: o.hostEcvTraps, host: o.host ? hostData(o.host) : null, runs: o.runs, seed: o.seed, maxOps: o.maxOps, ecv: o.ecv ?? null },
  };
}

/** The property catalogue: each property's name and what it judges. */
export const properties: readonly PropertyInfo[] = PROPERTY_NAMES.map((name) => ({ name, summary: PROPERTIES[name].summary }));

/** Options of the built-in models. */
export interface ModelOptions {
  /** The VNCR layout. Default `'architected'`. */
  readonly layout?: LayoutSpec;
  /** The physical CPU has FEAT_ECV and the host uses its traps. Default false. */
  readonly hostEcvTraps?: boolean;
  /** The host: as ImplementationOptions.host. Default: the exact host on the most capable CPU. */
  readonly host?: HostData;
}

function builtin(name: string, o: ModelOptions): Implementation {
  return BUILTINS.get(name)!({ layout: toLayout(o.layout ?? 'architected', `models.${name}: options.layout`), hostEcvTraps: o.hostEcvTraps ?? false, ...hostOf(`models.${name}`, o.host) });
}

/** The built-in models, as Implementation objects to check, wrap or compare against, and the layouts they take. */
export const models = {
  /** What `run` may execute by name: the reference and the built-in implementations. */
  names: ['reference', ...BUILTINS.keys()] as readonly string[],
  /** The NV2 implementation model: FEAT_NV2 hardware, a VNCR page and a KVM-style host. */
  nv2: (options: ModelOptions = {}): Implementation => builtin('nv2', options),
  /** The same host with FEAT_NV only: no page, every EL2 access traps. */
  nv: (options: ModelOptions = {}): Implementation => builtin('nv', options),
  /** The catalogue's layout names, `architected` first. */
  layoutNames: (): string[] => catalogueNames(),
  /** A layout, checked, for an Implementation's declaration (`declaration.layout`). */
  layout: (spec: LayoutSpec): Layout => toLayout(spec),
  /** A layout as plain data. */
  layoutData: (spec: LayoutSpec): LayoutData => layoutData(toLayout(spec)),
};
