/**
 * The work items of a check, as tasks a worker thread (or this thread) runs: each a pure function
 * of its input, so that which worker runs it changes nothing (docs/architecture.md, "Workers and shards"). check.ts
 * issues them and merges their results in a fixed order.
 *
 *   probe   make the implementation; what each property says of it (n/a, a static fault)
 *   exhaustive  the exhaustive phase of one property
 *   search  runs [from, from+count) of fast-check's sequence for one seed, up to the first failing one
 *   shrink  fast-check's shrinking of run `index` of that sequence, then our minimisation
 *
 * A worker gets only data: the implementation by the spec the user gave (a built-in name, or a
 * module path or exec: command as named on the command line); it makes its own instance and keeps
 * it for the tasks that follow.
 */
import fc from 'fast-check';
import { ImplementationError, InputError, NvcError } from '../../models/arch/errors.js';
import type { Implementation, SnapshotSupport } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import { FEATURES, VOCABULARIES, VOCABULARY, type Feature, type GuestMode, type TraceConfig, type Vocabulary } from '../../models/arch/vocabulary.js';
import { propertyByName, type PropertyName } from '../../properties/index.js';
import { createImplementation, type HostOptions, type Registry } from '../engine/registry.js';
import { Runner, runTrace, runTraceSync, type Outcome } from '../engine/runner.js';
import { toWireError, type TaskContext, type WireError } from '../engine/pool.js';
import type { Alphabet } from './alphabet.js';
import { cellOf } from './cells.js';
import { directedArb, directedExamples } from './directed.js';
import { exhaustive, type ExhaustiveResult } from './exhaustive.js';
import { traceArb, type GenOp } from './generate.js';
import { completed, failureKind, minimize, type FailureKind } from './shrink.js';
import { Coverage, type CoverageData } from './stats.js';

/** Everything needed to make the implementation under test: what the user named, as data. */
export interface ImplSpec {
  readonly impl: string;
  readonly layout: Layout;
  readonly hostEcvTraps: boolean;
  readonly host?: HostOptions;
  readonly vocabulary?: Vocabulary;
  readonly timeoutMs?: number;
}

/** What a task adds to the pool's context: the built-ins it may make and the implementations made so far. */
export interface CheckTaskContext {
  readonly registry: Registry;
  readonly impls: ImplCache;
}

/**
 * One instance per implementation spec, per worker (or per in-thread executor), closed with it.
 * At most CACHED_IMPLS are kept (layouts --explore makes hundreds of layouts): the least recently
 * used is closed when another is made. Tasks run one at a time per cache, so none is in use then.
 */
export class ImplCache {
  private readonly made = new Map<string, Promise<Implementation>>();

  constructor(private readonly registry: Registry) {}

  get(s: ImplSpec): Promise<Implementation> {
    const key = specKey(s);
    let p = this.made.get(key);
    if (p) {
      this.made.delete(key);
      this.made.set(key, p);
      return p;
    }
    p = createImplementation(s.impl, {
      layout: s.layout, hostEcvTraps: s.hostEcvTraps, ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
      ...(s.host ? { host: s.host } : {}), ...(s.vocabulary !== undefined ? { vocabulary: s.vocabulary } : {}),
    }, this.registry);
    // A factory that fails is asked again next time (as a fresh check would).
    p.catch(() => this.made.delete(key));
    this.made.set(key, p);
    while (this.made.size > CACHED_IMPLS) {
      const [oldest, q] = this.made.entries().next().value!;
      this.made.delete(oldest);
      void q.then((impl) => impl.close?.()).catch(() => undefined);
    }
    return p;
  }

  private readonly probed = new WeakMap<Implementation, Promise<SnapshotSupport>>();

  /**
   * Ask an implementation that can be asked whether it keeps states (probeSnapshots), once per
   * instance: every worker's instance is asked before its exhaustive phase, so that each explores
   * the same way.
   */
  snapshots(impl: Implementation): Promise<SnapshotSupport> | undefined {
    if (!impl.probeSnapshots) return undefined;
    let p = this.probed.get(impl);
    if (!p) {
      p = impl.probeSnapshots();
      this.probed.set(impl, p);
    }
    return p;
  }

  async closeAll(): Promise<void> {
    const all = [...this.made.values()];
    this.made.clear();
    for (const p of all) {
      try {
        await (await p).close?.();
      } catch {
        /* it failed to be made, or to close: nothing to release */
      }
    }
  }
}

/** Implementations an ImplCache keeps open. */
export const CACHED_IMPLS = 32;

const specKey = (s: ImplSpec): string => JSON.stringify([
  s.impl, s.layout.name, s.layout.source, [...s.layout.slots], s.hostEcvTraps,
  s.host ? [s.host.profile ?? null, s.host.cpu ?? null, s.host.counterOffset?.toString(16) ?? null] : null, s.vocabulary ?? null, s.timeoutMs ?? null,
]);

type Ctx = TaskContext & CheckTaskContext;

/** An Outcome as it crosses a thread: its failure as a WireError. */
export type WireOutcome = Omit<Outcome, 'failure'> & { failure?: WireError };

export const toWireOutcome = (o: Outcome): WireOutcome => {
  const { failure, ...rest } = o;
  return failure ? { ...rest, failure: toWireError(failure) } : rest;
};

export function fromWireOutcome(w: WireOutcome): Outcome {
  const { failure, ...rest } = w;
  if (!failure) return rest;
  const e = failure.cls === 'InputError' ? new InputError(failure.message) : failure.cls === 'ImplementationError' ? new ImplementationError(failure.message, failure.exitCode ?? 1) : new NvcError(failure.message, failure.exitCode ?? 2);
  return { ...rest, failure: e };
}

// ---------------------------------------------------------------------------------------------
// probe

export interface ProbeInput {
  readonly spec: ImplSpec;
  readonly properties: readonly PropertyName[];
  readonly guest?: GuestMode;
  readonly ecv?: boolean;
  /** Before an exhaustive phase: ask an implementation that can be asked whether it keeps states. */
  readonly snapshots: boolean;
}

export type ProbeOutput =
  | { readonly failed: string }
  | {
    readonly vocabulary: Vocabulary;
    /** The virtual-CPU features its host offers, within its vocabulary. */
    readonly offer: Feature[];
    readonly canSnapshot: boolean;
    /** How it answered probeSnapshots, when not plainly (the report's header shows it). */
    readonly note?: string;
    readonly props: { readonly na?: string; readonly staticFault?: string }[];
  };

async function probe(i: ProbeInput, ctx: Ctx): Promise<ProbeOutput> {
  let impl: Implementation;
  try {
    impl = await ctx.impls.get(i.spec);
  } catch (e) {
    // An implementation that fails while being made (its factory throws) fails every property.
    if (!(e instanceof ImplementationError)) throw e;
    return { failed: `the implementation failed before any trace: ${e.message}` };
  }
  const support = i.snapshots ? await ctx.impls.snapshots(impl) : undefined;
  const vocabulary = impl.declaration.vocabulary ?? VOCABULARY;
  const offer = (impl.declaration.host.vcpuFeatures ?? FEATURES).filter((f) => VOCABULARIES[vocabulary].features.includes(f));
  const dummy: TraceConfig = { guest: i.guest ?? 'vhe', features: i.ecv ? ['ecv'] : [], count: 0n, init: {} };
  const props = i.properties.map((name) => {
    const p = propertyByName(name);
    const rc = new Runner(impl, { property: p }).runContext(dummy);
    const na = p.inapplicable?.(rc);
    if (na) return { na };
    const staticFault = p.staticCheck?.(rc);
    return staticFault ? { staticFault } : {};
  });
  return { vocabulary, offer, canSnapshot: typeof impl.snapshot === 'function' && typeof impl.restore === 'function', props, ...(support?.note ? { note: support.note } : {}) };
}

// ---------------------------------------------------------------------------------------------
// exhaustive

export interface ExhaustiveInput {
  readonly spec: ImplSpec;
  readonly property: PropertyName;
  readonly depth: number;
  readonly guest?: GuestMode;
  readonly ecv?: boolean;
  readonly offer: readonly Feature[];
  readonly alphabet: Alphabet;
  /** Record coverage (--stats). */
  readonly stats: boolean;
  /** Stop at this time (Date.now()), as a budget. Default none. */
  readonly deadline?: number;
  /** Explore only this family of the alphabet (ExhaustiveOptions.family). Default every family. */
  readonly family?: number;
}

export interface ExhaustiveOutput {
  readonly result: Omit<ExhaustiveResult, 'counterexample' | 'sideFailure'> & { readonly counterexample?: WireOutcome; readonly sideFailure?: WireOutcome };
  /** The coverage cells its ops hit, in the order first hit. */
  readonly reached: string[];
  /** Its coverage (phase exhaustive), with --stats. */
  readonly coverage?: CoverageData;
}

/** The exhaustive phase of one property, or of one family of its alphabet: one task (it shares nothing with other properties' or families'). */
async function exhaustiveRun(i: ExhaustiveInput, ctx: Ctx): Promise<ExhaustiveOutput> {
  const impl = await ctx.impls.get(i.spec);
  await ctx.impls.snapshots(impl);
  const reached = new Set<string>();
  const coverage = i.stats ? new Coverage('none') : undefined;
  if (coverage) coverage.phase = 'exhaustive';
  let polls = 0;
  // Reading the clock every letter costs more than the letter: every 64th.
  const stop = (): boolean => ctx.cancelled() || (i.deadline !== undefined && (++polls & 63) === 0 && Date.now() > i.deadline);
  const r = await exhaustive(impl, propertyByName(i.property), {
    depth: i.depth, ...(i.guest ? { guest: i.guest } : {}), ...(i.ecv !== undefined ? { ecv: i.ecv } : {}),
    alphabet: i.alphabet, offer: i.offer, stop, ...(i.family !== undefined ? { family: i.family } : {}), depthLimit: () => ctx.signal(),
    observe: (c) => {
      const k = cellOf(c);
      if (k !== undefined) reached.add(k);
      coverage?.record(c);
    },
  });
  const { counterexample, sideFailure, ...rest } = r;
  return {
    result: { ...rest, ...(counterexample ? { counterexample: toWireOutcome(counterexample) } : {}), ...(sideFailure ? { sideFailure: toWireOutcome(sideFailure) } : {}) },
    reached: [...reached], ...(coverage ? { coverage: coverage.data() } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// search and shrink: one seed's sequence of fast-check runs

/** What decides the sequence of generated traces. */
export interface GenParams {
  readonly seed: number;
  readonly maxOps: number;
  readonly pins: { readonly guest?: GuestMode; readonly ecv?: boolean; readonly offer: readonly Feature[]; readonly vocabulary: Vocabulary; readonly exclude?: readonly string[] };
  /**
   * The main search: the cells the exhaustive phase did not reach (directed traces come first and
   * are mixed in). Undefined: a search for a shorter counterexample (focused traces only).
   */
  readonly unreached?: readonly string[];
}

type Generator = { arb: fc.Arbitrary<[TraceConfig, GenOp[]]>; examples: [[TraceConfig, GenOp[]]][] };

/** Generators made so far in this thread, by their parameters (a search of 3000 runs is 60 tasks with the same ones). */
const GENERATORS = new Map<string, Generator>();
const CACHED_GENERATORS = 64;

/** The generator of a sequence: made once per parameters and thread (it is a pure function of them, and arbitraries keep no state). */
function arbitrary(g: GenParams): Generator {
  const key = JSON.stringify(g);
  let hit = GENERATORS.get(key);
  if (!hit) {
    hit = makeArbitrary(g);
    GENERATORS.set(key, hit);
    if (GENERATORS.size > CACHED_GENERATORS) GENERATORS.delete(GENERATORS.keys().next().value!);
  }
  return hit;
}

function makeArbitrary(g: GenParams): Generator {
  const focused = traceArb({ maxOps: g.maxOps, ...g.pins });
  if (!g.unreached) return { arb: focused, examples: [] };
  const directed = directedArb(g.unreached, { ...g.pins, maxOps: g.maxOps });
  const arb = directed ? fc.oneof({ weight: 3, arbitrary: focused }, { weight: 1, arbitrary: directed }) : focused;
  return { arb, examples: directedExamples(g.unreached, g.pins).map((e): [[TraceConfig, GenOp[]]] => [e]) };
}

/** The number of directed traces that come first in the main search. */
export const directedCount = (g: GenParams): number => (g.unreached ? directedExamples(g.unreached, g.pins).length : 0);

export interface SearchInput {
  readonly spec: ImplSpec;
  readonly property: PropertyName;
  readonly gen: GenParams;
  readonly from: number;
  readonly count: number;
  /**
   * A search for a shorter counterexample of a violation: only violations count; an
   * implementation failure met on the way is kept (`side`). Default: the first failure of either kind.
   */
  readonly kind?: FailureKind;
  /** Record coverage (--stats). */
  readonly stats: boolean;
  readonly deadline?: number;
}

export interface SearchEvent {
  /** The run's index in the sequence (directed examples first). */
  readonly index: number;
  readonly kind: FailureKind | 'internal';
  /** The run's trace and outcome (a failure that does not recur is kept as observed). */
  readonly value?: [TraceConfig, GenOp[]];
  readonly outcome?: WireOutcome;
  readonly error?: WireError;
}

export interface SearchOutput {
  /** Runs executed, the failing one included. */
  readonly ran: number;
  readonly ops: number;
  readonly event?: SearchEvent;
  readonly coverage?: CoverageData;
  /** The first implementation failure met while looking for a violation only (`kind`). */
  readonly side?: WireOutcome;
  /** A deadline or a cancellation ended it before `count` runs. */
  readonly stopped: boolean;
}

/** The runner a search judges with, the implementation's answer mode, and the predicate plumbing. */
async function searchRun(i: SearchInput, ctx: Ctx): Promise<SearchOutput> {
  const impl = await ctx.impls.get(i.spec);
  const p = propertyByName(i.property);
  const coverage = i.stats && i.kind === undefined ? new Coverage('none') : undefined;
  const runner = new Runner(impl, { property: p, hosts: true, ...(coverage ? { observe: (c) => coverage.record(c) } : {}) });
  const { arb, examples } = arbitrary(i.gen);
  let index = i.from - 1;
  let ran = 0, ops = 0, stopped = false;
  let event: SearchEvent | undefined;
  let side: Outcome | undefined;
  let polls = 0;
  const before = (): boolean => {
    if (ctx.cancelled() || (i.deadline !== undefined && (++polls & 7) === 0 && Date.now() > i.deadline)) {
      stopped = true;
      return false;
    }
    index++;
    ran++;
    return true;
  };
  const judge = (value: [TraceConfig, GenOp[]], out: Outcome): boolean => {
    ops += out.ops.length;
    const k = failureKind(out);
    if (k === undefined) return true;
    if (i.kind !== undefined && k !== i.kind) {
      if (k === 'failure') side ??= out;
      return true;
    }
    event = { index, kind: k, value, outcome: toWireOutcome(out) };
    return false;
  };
  const internal = (e: unknown): boolean => {
    event = { index, kind: 'internal', error: toWireError(e) };
    return false;
  };
  const params = { seed: i.gen.seed, numRuns: i.count, path: String(i.from), examples, endOnFailure: true };
  let details: fc.RunDetails<[[TraceConfig, GenOp[]]]>;
  if (impl.declaration.sync) {
    details = fc.check(fc.property(arb, (v) => {
      if (!before()) return false;
      let out: Outcome;
      try {
        out = runTraceSync(runner, v[0], v[1]);
      } catch (e) {
        return internal(e);
      }
      return judge(v, out);
    }), params);
  } else {
    details = await fc.check(fc.asyncProperty(arb, async (v) => {
      if (!before()) return false;
      let out: Outcome;
      try {
        out = await runTrace(runner, v[0], v[1]);
      } catch (e) {
        return internal(e);
      }
      return judge(v, out);
    }), params);
  }
  if (details.failed && !event && !stopped) {
    // fast-check caught an exception that is not a counterexample: the checker's own failure.
    const e = (details as { errorInstance?: unknown }).errorInstance;
    event = { index, kind: 'internal', error: toWireError(e instanceof Error ? e : new Error(`fast-check failed: ${String(e)}`)) };
  }
  return {
    ran, ops, stopped, ...(event ? { event } : {}), ...(coverage ? { coverage: coverage.data() } : {}),
    ...(side ? { side: toWireOutcome(side) } : {}),
  };
}

export interface ShrinkInput {
  readonly spec: ImplSpec;
  readonly property: PropertyName;
  readonly gen: GenParams;
  /** The failing run (a SearchEvent of kind violation or failure). */
  readonly event: SearchEvent;
  readonly kind?: FailureKind;
}

export interface ShrinkOutput {
  readonly numShrinks: number;
  /** Ops stepped, the rerun of the failing run left out (the search counted it). */
  readonly ops: number;
  readonly outcome: WireOutcome;
  readonly reproducible: boolean;
  readonly sideFailure?: WireOutcome;
  /** The first implementation failure met while fast-check shrank a violation. */
  readonly side?: WireOutcome;
  readonly internal?: WireError;
}

/**
 * fast-check's shrinking of the failing run (replayed by its index in the sequence: `path`), with
 * the same judging as check's search: after the first failure only failures of its kind count, and
 * an implementation failure is not shrunk by fast-check. Then minimize() (our shrinking).
 */
async function shrinkRun(i: ShrinkInput, ctx: Ctx): Promise<ShrinkOutput> {
  const impl = await ctx.impls.get(i.spec);
  const quiet = new Runner(impl, { property: propertyByName(i.property), hosts: true });
  const { arb, examples } = arbitrary(i.gen);
  let kind: FailureKind | undefined = i.kind;
  let stop = false;
  let first = true;
  let ops = 0;
  let side: Outcome | undefined;
  let lastFailing: Outcome | undefined;
  let internal: WireError | undefined;
  const judged = (out: Outcome): boolean => {
    if (first) first = false;
    else ops += out.ops.length;
    const k = failureKind(out);
    if (k === undefined) return true;
    if (kind === undefined) {
      kind = k;
      if (k === 'failure') stop = true;
    } else if (k !== kind) {
      if (k === 'failure') side ??= out;
      return true;
    }
    lastFailing = out;
    return false;
  };
  const onError = (e: unknown): boolean => {
    internal ??= toWireError(e);
    stop = true;
    return true;
  };
  const params = { seed: i.gen.seed, numRuns: 1, path: String(i.event.index), examples };
  let details: fc.RunDetails<[[TraceConfig, GenOp[]]]>;
  if (impl.declaration.sync) {
    details = fc.check(fc.property(arb, ([c, g]) => {
      if (stop) return true;
      try {
        return judged(runTraceSync(quiet, c, g));
      } catch (e) {
        return onError(e);
      }
    }), params);
  } else {
    details = await fc.check(fc.asyncProperty(arb, async ([c, g]) => {
      if (stop) return true;
      try {
        return judged(await runTrace(quiet, c, g));
      } catch (e) {
        return onError(e);
      }
    }), params);
  }
  const base = { numShrinks: details.numShrinks, ...(side ? { side: toWireOutcome(side) } : {}) };
  if (internal) return { ...base, ops, outcome: i.event.outcome!, reproducible: false, internal };
  if (details.failed && details.counterexample === null) {
    const e = (details as { errorInstance?: unknown }).errorInstance;
    return { ...base, ops, outcome: i.event.outcome!, reproducible: false, internal: toWireError(e instanceof Error ? e : new Error(`fast-check failed: ${String(e)}`)) };
  }
  // The run failed in the search; if it does not fail again here (an implementation whose failures
  // do not recur), minimise from the search's trace and outcome, as found.
  const [config, gops] = details.failed && details.counterexample && lastFailing ? details.counterexample[0] : i.event.value!;
  const observed = details.failed && lastFailing ? lastFailing : fromWireOutcome(i.event.outcome!);
  const rerun = async (c: TraceConfig, g: readonly GenOp[]): Promise<Outcome> => runTrace(quiet, c, g);
  const m = await minimize(quiet, rerun, config, gops, observed, (n) => {
    ops += n;
  });
  return {
    ...base, ops, outcome: toWireOutcome(m.outcome), reproducible: m.reproducible,
    ...(m.sideFailure ? { sideFailure: toWireOutcome(m.sideFailure) } : {}),
  };
}

/** An outcome with its reference side filled in, as reports show one (shrink.ts). */
export const completedOutcome = (w: WireOutcome): Outcome => completed(fromWireOutcome(w));

export const CHECK_TASKS = {
  probe,
  exhaustive: exhaustiveRun,
  search: searchRun,
  shrink: shrinkRun,
};

export type CheckTasks = typeof CHECK_TASKS;
