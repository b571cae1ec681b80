/**
 * `check`: for each selected property, generate traces, run them side by side, and when one
 * fails, shrink it (fast-check, then a greedy pass over the concrete ops) and report the
 * minimal trace with its replay token.
 */
import fc from 'fast-check';
import { ImplementationError } from '../../models/arch/errors.js';
import type { Implementation } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import { FEATURES, VOCABULARIES, VOCABULARY, type GuestMode, type TraceConfig, type Vocabulary } from '../../models/arch/vocabulary.js';
import { REGISTERS } from '../../models/arch/registers.js';
import { catalogueNames } from '../../models/layouts/catalogue.js';
import { loadLayout } from '../../models/layouts/load.js';
import { propertyByName, PROPERTY_NAMES, type Property, type PropertyName } from '../../properties/index.js';
import { BUILTINS, createImplementation, type HostOptions, type Registry } from '../engine/registry.js';
import { Runner, runTrace, runTraceSync, type Outcome } from '../engine/runner.js';
import { encodeToken } from '../trace/token.js';
import { traceArb, type GenOp } from './generate.js';
import { ALPHABET, restrictAlphabet, type Alphabet } from './alphabet.js';
import { cellOf, reachableCells } from './cells.js';
import { directedArb, directedExamples } from './directed.js';
import { exhaustive, type ExhaustiveResult } from './exhaustive.js';
import { completed, failureKind, minimize, type FailureKind } from './shrink.js';
import { Coverage, type FoundBy } from './stats.js';

export interface CheckOptions {
  /** Implementation: `nv2` (default), `nv`, a plug-in module path, or `exec:COMMAND`. */
  readonly impl: string;
  /** VNCR layout: catalogue name or file, or a loaded layout. Default `architected`. */
  readonly layout: string | Layout;
  /** The exact host uses FEAT_ECV's traps (the physical CPU must have ECV). Default false. */
  readonly hostEcvTraps: boolean;
  /** The built-in models' host: profile, physical CPU, counter offset. Default: the exact host on the most capable CPU. */
  readonly host?: HostOptions;
  /** An external implementation's trace vocabulary (1 or 2). Default: 1, or what a module plug-in declares. */
  readonly vocabulary?: Vocabulary;
  /** Pin the guest mode. Default: both, chosen per trace. */
  readonly guest?: GuestMode;
  /** Pin FEAT_ECV of the virtual CPU. Default: both, chosen per trace. */
  readonly ecv?: boolean;
  /** Generated traces per property. Default 300. */
  readonly runs: number;
  /** fast-check seed. Default 42: the same seed and options give the same output. */
  readonly seed: number;
  /** Longest generated trace. Default 40. */
  readonly maxOps: number;
  /** Properties to check. Default: all of them. */
  readonly properties: readonly PropertyName[];
  /** Collect coverage. Default false. */
  readonly stats: boolean;
  /** External implementations: per-op answer timeout in ms. Default $NVCONFORM_EXEC_TIMEOUT_MS, else 5000. */
  readonly timeoutMs?: number;
  /** After shrinking, rounds of search for a strictly shorter counterexample. Default 3. */
  readonly shorterRounds?: number;
  /** The built-in implementations `impl` may name. Default: BUILTINS (`nv2`, `nv`). */
  readonly registry?: Registry;
  /**
   * The exhaustive phase explores every trace of at most this many ops over the alphabet before the
   * random phase; 0 skips it. Default DEFAULT_DEPTH for an implementation with snapshots, else
   * DEFAULT_REPLAY_DEPTH (it is explored by replaying prefixes).
   */
  readonly depth?: number;
  /** The exhaustive phase's alphabet. Default ALPHABET (one op per letter). */
  readonly alphabet?: Alphabet;
  /**
   * Registers no generated or enumerated trace touches, to look past a divergence already known
   * (the exhaustive claim names them). Default none.
   */
  readonly exclude?: readonly string[];
}

/** The exhaustive phase's depth by default (CheckOptions.depth). */
export const DEFAULT_DEPTH = 2;
/** ...for an implementation without snapshot/restore, explored by replaying prefixes. */
export const DEFAULT_REPLAY_DEPTH = 1;

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  impl: 'nv2', layout: 'architected', hostEcvTraps: false, runs: 300, seed: 42, maxOps: 40,
  properties: PROPERTY_NAMES, stats: false,
};

export interface PropertyResult {
  readonly property: PropertyName;
  readonly verdict: 'pass' | 'fail' | 'n/a';
  /** Traces generated before the verdict (fast-check's numRuns), the directed ones included. */
  readonly runs: number;
  /** ...of which aimed at a coverage cell the exhaustive phase did not reach (run first). */
  readonly directed?: number;
  readonly shrinks: number;
  /** Ops stepped on both sides, shrinking included. */
  readonly opsExecuted: number;
  readonly ms: number;
  readonly counterexample?: Outcome;
  readonly explanation?: string;
  readonly token?: string;
  /** The exhaustive phase: its scope and what it covered (absent when skipped). */
  readonly exhaustive?: ExhaustiveSummary;
  /** Which phase found the counterexample. */
  readonly phase?: FoundBy;
  /** False when the counterexample did not fail again on a rerun: it is shown as first observed. */
  readonly reproducible?: boolean;
  /** An implementation failure met while shrinking a property's counterexample: reported beside it. */
  readonly sideFailure?: { readonly explanation: string; readonly token: string; readonly outcome: Outcome };
}

/** What the exhaustive phase covered: every trace of at most `completedDepth` ops over `alphabet`. */
export type ExhaustiveSummary = Omit<ExhaustiveResult, 'counterexample' | 'ms'>;

export interface CheckResult {
  readonly verdict: 'pass' | 'fail';
  readonly results: PropertyResult[];
  readonly options: CheckOptions;
  readonly layout: Layout;
  readonly coverage?: Coverage;
  readonly ms: number;
  /** One-line remarks for the report's header: how an implementation that was asked for save/restore answered, when not plainly. */
  readonly notes?: readonly string[];
}

export interface ReplayInfo {
  readonly impl: string;
  readonly layout: string | { readonly name: string; readonly slots: [string, number][] };
  readonly hostEcvTraps: boolean;
  /** The host when it is not the default: profile, CPU features, counter offset (hex). */
  readonly host?: { readonly profile?: string; readonly cpu?: readonly string[]; readonly counterOffset?: string };
  readonly property?: PropertyName;
}

export function replayInfo(o: Pick<CheckOptions, 'impl' | 'hostEcvTraps' | 'host'>, layout: Layout, property?: PropertyName): ReplayInfo {
  const catalogued = catalogueNames().includes(layout.name) && /(^|[\\/])models[\\/]layouts[\\/][^\\/]+\.json$/.test(layout.source);
  const h = o.host;
  const host = h && (h.profile || h.cpu || h.counterOffset)
    ? { ...(h.profile ? { profile: h.profile } : {}), ...(h.cpu ? { cpu: [...h.cpu] } : {}), ...(h.counterOffset ? { counterOffset: `0x${h.counterOffset.toString(16)}` } : {}) }
    : undefined;
  return {
    impl: o.impl,
    layout: catalogued ? layout.name : { name: layout.name, slots: [...layout.slots] },
    hostEcvTraps: o.hostEcvTraps,
    ...(host ? { host } : {}),
    ...(property ? { property } : {}),
  };
}

/** Rounds of search for a shorter counterexample after shrinking (CheckOptions.shorterRounds). */
export const DEFAULT_SHORTER_ROUNDS = 3;

export async function check(options: CheckOptions): Promise<CheckResult> {
  const t0 = performance.now();
  const layout = typeof options.layout === 'string' ? loadLayout(options.layout) : options.layout;
  const coverage = options.stats ? new Coverage({ ...(options.guest ? { guest: options.guest } : {}), ...(options.ecv !== undefined ? { ecv: options.ecv } : {}) }) : undefined;
  let impl: Implementation;
  try {
    impl = await createImplementation(options.impl, {
      layout, hostEcvTraps: options.hostEcvTraps, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.host ? { host: options.host } : {}), ...(options.vocabulary !== undefined ? { vocabulary: options.vocabulary } : {}),
    }, options.registry ?? BUILTINS);
  } catch (e) {
    // An implementation that fails while being made (its factory throws) fails every property.
    if (!(e instanceof ImplementationError)) throw e;
    const explanation = `the implementation failed before any trace: ${e.message}`;
    const results = options.properties.map((property): PropertyResult => ({ property, verdict: 'fail', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation }));
    return { verdict: 'fail', results, options, layout, ms: performance.now() - t0 };
  }
  const results: PropertyResult[] = [];
  const notes: string[] = [];
  try {
    // Before an exhaustive phase, an implementation that can be asked says whether it keeps states (else: replayed prefixes, a lower default depth).
    if (options.depth !== 0 && impl.probeSnapshots) {
      const support = await impl.probeSnapshots();
      if (support.note) notes.push(support.note);
    }
    for (const name of options.properties) {
      results.push(await checkProperty(propertyByName(name), options, layout, impl, coverage));
    }
  } finally {
    await impl.close?.();
  }
  return {
    verdict: results.some((r) => r.verdict === 'fail') ? 'fail' : 'pass',
    results, options, layout, ms: performance.now() - t0, ...(coverage ? { coverage } : {}), ...(notes.length ? { notes } : {}),
  };
}

async function checkProperty(p: Property, o: CheckOptions, layout: Layout, impl: Implementation, coverage?: Coverage): Promise<PropertyResult> {
  const t0 = performance.now();
  // hosts: the host's placement is kept with the counterexample's records (the HTML timeline shows
  // it); records are made only for the run that is reported.
  const runner = new Runner(impl, { property: p, hosts: true, ...(coverage ? { observe: (c) => coverage.record(c) } : {}) });
  // Shrinking and the search for shorter traces re-run failures: keep them out of --stats.
  const quiet = coverage ? new Runner(impl, { property: p, hosts: true }) : runner;
  /** An implementation failure met beside the counterexample, with its own replay token. */
  const reported = (f: Outcome): NonNullable<PropertyResult['sideFailure']> =>
    ({ explanation: f.violation!.explanation, token: encodeToken({ config: f.config, ops: f.ops }, replayInfo(o, layout, p.name)), outcome: f });
  // What the implementation can be asked: its trace vocabulary, the features its host offers, less what the user set aside.
  const vocabulary = impl.declaration.vocabulary ?? VOCABULARY;
  const offer = (impl.declaration.host.vcpuFeatures ?? FEATURES).filter((f) => VOCABULARIES[vocabulary].features.includes(f));
  const exclude = o.exclude ?? [];
  const newer = REGISTERS.filter((r) => (r.since ?? 1) > vocabulary).map((r) => r.name);
  const dummy = runner.runContext({ guest: o.guest ?? 'vhe', features: o.ecv ? ['ecv'] : [], count: 0n, init: {} });
  const na = p.inapplicable?.(dummy);
  if (na) return { property: p.name, verdict: 'n/a', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation: na };
  const staticFault = p.staticCheck?.(dummy);
  const sync = impl.declaration.sync;

  // Phase 1: every trace of at most `depth` ops over the alphabet.
  const canSnapshot = typeof impl.snapshot === 'function' && typeof impl.restore === 'function';
  const depth = o.depth ?? (canSnapshot ? DEFAULT_DEPTH : DEFAULT_REPLAY_DEPTH);
  let exh: ExhaustiveSummary | undefined;
  // The cells the exhaustive phase reaches; the random phase aims traces at the others.
  const reached = new Set<string>();
  if (depth > 0) {
    if (coverage) coverage.phase = 'exhaustive';
    const r = await exhaustive(impl, p, {
      depth, ...(o.guest ? { guest: o.guest } : {}), ...(o.ecv !== undefined ? { ecv: o.ecv } : {}),
      alphabet: restrictAlphabet(o.alphabet ?? ALPHABET, { exclude, vocabulary }),
      offer,
      observe: (c) => {
        const k = cellOf(c);
        if (k !== undefined) reached.add(k);
        coverage?.record(c);
      },
    });
    if (coverage) coverage.phase = 'random';
    const { counterexample: ce, ms: _ms, reproducible, sideFailure: sf, ...summary } = r;
    exh = summary;
    if (ce) {
      // The shortest trace of the search: a property violation or an implementation failure, as found.
      const token = encodeToken({ config: ce.config, ops: ce.ops }, replayInfo(o, layout, p.name));
      const explanation = (staticFault ? `${staticFault}; ` : '') + ce.violation!.explanation;
      return {
        property: p.name, verdict: 'fail', runs: 0, shrinks: 0, opsExecuted: r.transitions + ce.ops.length, ms: performance.now() - t0,
        counterexample: ce, explanation, token, exhaustive: exh, phase: 'exhaustive', ...(reproducible === false ? { reproducible: false } : {}),
        ...(sf ? { sideFailure: reported(sf) } : {}),
      };
    }
  }
  const withExh = exh ? { exhaustive: exh } : {};

  let opsExecuted = exh?.transitions ?? 0;
  // The first failing run decides what is being looked for: a property violation, or an
  // implementation failure (then fast-check does not shrink it: a failure of an implementation
  // need not recur, and shrinking is ours). After it, only failures of the same kind count; an
  // implementation failure met while shrinking a violation is kept for the report.
  let kind: FailureKind | undefined;
  let stop = false;
  let side: Outcome | undefined;
  /** The outcome of the last run fast-check counted as failing: its counterexample, as observed. */
  let lastFailing: Outcome | undefined;
  const internal: { error?: unknown; seen: boolean } = { seen: false };
  let current = runner;
  const judged = (out: Outcome): boolean => {
    opsExecuted += out.ops.length;
    const k = failureKind(out);
    if (k === undefined) return true;
    if (kind === undefined) {
      kind = k;
      current = quiet;
      if (k === 'failure') stop = true;
    } else if (k !== kind) {
      if (k === 'failure') side ??= out;
      return true;
    }
    lastFailing = out;
    return false;
  };
  // The checker's own errors are not counterexamples: fast-check must not shrink them.
  const internalError = (e: unknown): boolean => {
    if (!internal.seen) Object.assign(internal, { error: e, seen: true });
    stop = true;
    return true;
  };
  const predicate = async ([config, gops]: [TraceConfig, GenOp[]]): Promise<boolean> => {
    if (stop) return true;
    let out: Outcome;
    try {
      out = await runTrace(current, config, gops);
    } catch (e) {
      return internalError(e);
    }
    return judged(out);
  };
  const syncPredicate = ([config, gops]: [TraceConfig, GenOp[]]): boolean => {
    if (stop) return true;
    let out: Outcome;
    try {
      out = runTraceSync(current, config, gops);
    } catch (e) {
      return internalError(e);
    }
    return judged(out);
  };
  const pins = {
    ...(o.guest ? { guest: o.guest } : {}), ...(o.ecv !== undefined ? { ecv: o.ecv } : {}), offer, vocabulary,
    ...(exclude.length || newer.length ? { exclude: [...exclude, ...newer] } : {}),
  };
  const focused = traceArb({ maxOps: o.maxOps, ...pins });
  const unreached = reachableCells(pins).filter((k) => !reached.has(k));
  const directed = directedArb(unreached, { ...pins, maxOps: o.maxOps });
  const arb = directed ? fc.oneof({ weight: 3, arbitrary: focused }, { weight: 1, arbitrary: directed }) : focused;
  // One trace aimed at each cell the exhaustive phase did not reach comes first, on top of the random runs.
  const examples = directedExamples(unreached, pins).map((e): [[TraceConfig, GenOp[]]] => [e]);
  const params = { seed: o.seed, numRuns: o.runs + examples.length, examples };
  const details = sync
    ? fc.check(fc.property(arb, syncPredicate), params)
    : await fc.check(fc.asyncProperty(arb, predicate), params);
  if (internal.seen) throw internal.error;
  if (details.failed && details.counterexample === null) {
    // fast-check caught an exception that is not a counterexample: the checker's own failure.
    const e = (details as { errorInstance?: unknown }).errorInstance;
    throw e instanceof Error ? e : new Error(`fast-check failed: ${String(e)}`);
  }

  const base = { property: p.name, runs: details.numRuns, shrinks: details.numShrinks, directed: Math.min(examples.length, details.numRuns) };
  if (!details.failed || !details.counterexample || !lastFailing) {
    const ms = performance.now() - t0;
    if (staticFault) return { ...base, verdict: 'fail', opsExecuted, ms, explanation: staticFault, ...withExh };
    return { ...base, verdict: 'pass', opsExecuted, ms, ...withExh };
  }
  const [config, gops] = details.counterexample[0];
  const rerun = async (c: TraceConfig, g: readonly GenOp[]): Promise<Outcome> => runTrace(quiet, c, g);
  const count = (n: number): void => {
    opsExecuted += n;
  };
  let minimal = await minimize(quiet, rerun, config, gops, lastFailing, count);
  // fast-check stops at a local minimum. Look for a strictly shorter counterexample: traces
  // capped one op below the best, on a few derived seeds (deterministic for a given seed).
  // Not for an implementation failure: a broken implementation is reported as found.
  for (let round = 1; round <= (o.shorterRounds ?? DEFAULT_SHORTER_ROUNDS) && minimal.outcome.ops.length > 1 && kind === 'violation' && minimal.reproducible; round++) {
    const cap = minimal.outcome.ops.length - 1;
    const shorter = traceArb({ maxOps: cap, ...pins });
    lastFailing = undefined;
    const again = sync
      ? fc.check(fc.property(shorter, syncPredicate), { seed: o.seed + round * 7919, numRuns: Math.max(o.runs, 3000) })
      : await fc.check(fc.asyncProperty(shorter, predicate), { seed: o.seed + round * 7919, numRuns: Math.max(o.runs, 3000) });
    if (internal.seen) throw internal.error;
    if (!again.failed || !again.counterexample || !lastFailing) continue;
    const [c2, g2] = again.counterexample[0];
    const m2 = await minimize(quiet, rerun, c2, g2, lastFailing, count);
    if (m2.reproducible && m2.outcome.ops.length < minimal.outcome.ops.length) minimal = { ...m2, ...(minimal.sideFailure && !m2.sideFailure ? { sideFailure: minimal.sideFailure } : {}) };
  }
  const sideFailure = minimal.sideFailure ?? (side ? completed(side) : undefined);
  const ce = minimal.outcome;
  const token = encodeToken({ config: ce.config, ops: ce.ops }, replayInfo(o, layout, p.name));
  const explanation = (staticFault ? `${staticFault}; ` : '') + ce.violation!.explanation;
  const phase: FoundBy = details.numRuns <= examples.length ? 'directed' : 'random';
  return {
    ...base, verdict: 'fail', opsExecuted, ms: performance.now() - t0, counterexample: ce, explanation, token, ...withExh, phase,
    ...(minimal.reproducible ? {} : { reproducible: false }),
    ...(sideFailure ? { sideFailure: reported(sideFailure) } : {}),
  };
}
