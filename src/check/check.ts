/**
 * `check`: for each selected property, generate traces, run them side by side, and when one
 * fails, shrink it (fast-check, then a greedy pass over the concrete ops) and report the
 * minimal trace with its replay token.
 */
import fc from 'fast-check';
import { NvcError } from '../errors.js';
import { catalogueNames, type Layout } from '../../models/layout.js';
import { loadLayout } from '../../models/layout-load.js';
import { propertyByName, PROPERTY_NAMES, type Property, type PropertyName } from '../../properties/index.js';
import type { Implementation } from '../engine/model.js';
import { builtinNames, createImplementation } from '../engine/registry.js';
import { encodeToken } from '../trace/token.js';
import type { GuestMode, Op, TraceConfig } from '../trace/types.js';
import { traceArb, type GenOp } from './generate.js';
import { asGenOps, runAsync, runSync, SideBySide, type Outcome } from './side-by-side.js';
import { Coverage } from './stats.js';

export interface CheckOptions {
  /** Implementation: `nv2` (default), `nv`, a plug-in module path, or `exec:COMMAND`. */
  readonly impl: string;
  /** VNCR layout: catalogue name or file, or a loaded layout. Default `architected`. */
  readonly layout: string | Layout;
  /** The physical CPU has FEAT_ECV and the host uses its traps. Default false. */
  readonly hostEcvTraps: boolean;
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
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  impl: 'nv2', layout: 'architected', hostEcvTraps: false, runs: 300, seed: 42, maxOps: 40,
  properties: PROPERTY_NAMES, stats: false,
};

export interface PropertyResult {
  readonly property: PropertyName;
  readonly verdict: 'pass' | 'fail' | 'n/a';
  /** Traces generated before the verdict (fast-check's numRuns). */
  readonly runs: number;
  readonly shrinks: number;
  /** Ops stepped on both sides, shrinking included. */
  readonly opsExecuted: number;
  readonly ms: number;
  readonly counterexample?: Outcome;
  readonly explanation?: string;
  readonly token?: string;
}

export interface CheckResult {
  readonly verdict: 'pass' | 'fail';
  readonly results: PropertyResult[];
  readonly options: CheckOptions;
  readonly layout: Layout;
  readonly coverage?: Coverage;
  readonly ms: number;
}

export interface ReplayInfo {
  readonly impl: string;
  readonly layout: string | { readonly name: string; readonly slots: [string, number][] };
  readonly hostEcvTraps: boolean;
  readonly property?: PropertyName;
}

export function replayInfo(o: Pick<CheckOptions, 'impl' | 'hostEcvTraps'>, layout: Layout, property?: PropertyName): ReplayInfo {
  const catalogued = catalogueNames().includes(layout.name) && /(^|[\\/])models[\\/]layouts[\\/][^\\/]+\.json$/.test(layout.source);
  return {
    impl: o.impl,
    layout: catalogued ? layout.name : { name: layout.name, slots: [...layout.slots] },
    hostEcvTraps: o.hostEcvTraps,
    ...(property ? { property } : {}),
  };
}

/** Rounds of search for a shorter counterexample after shrinking (CheckOptions.shorterRounds). */
export const DEFAULT_SHORTER_ROUNDS = 3;

const isSyncImpl = (spec: string): boolean => builtinNames().includes(spec);

/** One implementation instance, driven either synchronously or not. */
export class Driver {
  private broken: NvcError | undefined;
  constructor(readonly impl: Implementation, readonly sync: boolean) {}

  static async create(spec: string, layout: Layout, hostEcvTraps: boolean, timeoutMs?: number): Promise<Driver> {
    const impl = await createImplementation(spec, { layout, hostEcvTraps, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    return new Driver(impl, isSyncImpl(spec));
  }

  /** Run; an implementation failure (crash, protocol error) becomes a violation at the op it happened on. */
  async run(sbs: SideBySide, config: TraceConfig, ops: readonly GenOp[]): Promise<Outcome> {
    try {
      return this.sync ? runSync(sbs, this.impl, config, ops) : await runAsync(sbs, this.impl, config, ops);
    } catch (e) {
      return this.failed(sbs, e);
    }
  }

  /** The same for a synchronous implementation, without a promise per trace. */
  runSync(sbs: SideBySide, config: TraceConfig, ops: readonly GenOp[]): Outcome {
    try {
      return runSync(sbs, this.impl, config, ops);
    } catch (e) {
      return this.failed(sbs, e);
    }
  }

  private failed(sbs: SideBySide, e: unknown): Outcome {
    if (!(e instanceof NvcError)) throw e;
    this.broken ??= e;
    const o = sbs.outcome;
    o.violation = { index: sbs.crashedAt ?? o.ops.length, explanation: `the implementation failed: ${e.message}` };
    return o;
  }

  get failure(): NvcError | undefined {
    return this.broken;
  }
}

export async function check(options: CheckOptions): Promise<CheckResult> {
  const t0 = performance.now();
  const layout = typeof options.layout === 'string' ? loadLayout(options.layout) : options.layout;
  const coverage = options.stats ? new Coverage() : undefined;
  const driver = await Driver.create(options.impl, layout, options.hostEcvTraps, options.timeoutMs);
  const results: PropertyResult[] = [];
  try {
    for (const name of options.properties) {
      results.push(await checkProperty(propertyByName(name), options, layout, driver, coverage));
    }
  } finally {
    await driver.impl.close?.();
  }
  return {
    verdict: results.some((r) => r.verdict === 'fail') ? 'fail' : 'pass',
    results, options, layout, ms: performance.now() - t0, ...(coverage ? { coverage } : {}),
  };
}

export function sideBySide(p: Property, o: Pick<CheckOptions, 'impl' | 'hostEcvTraps'>, layout: Layout, driver: Driver, coverage?: Coverage): SideBySide {
  return new SideBySide({
    property: p, layout, hostEcvTraps: o.hostEcvTraps, nv2: o.impl !== 'nv', hasDetail: typeof driver.impl.detail === 'function', coverage,
  });
}

async function checkProperty(p: Property, o: CheckOptions, layout: Layout, driver: Driver, coverage?: Coverage): Promise<PropertyResult> {
  const t0 = performance.now();
  const sbs = sideBySide(p, o, layout, driver, coverage);
  // Shrinking and the search for shorter traces re-run failures: keep them out of --stats.
  const quiet = coverage ? sideBySide(p, o, layout, driver) : sbs;
  const dummy = sbs.runContext({ guest: o.guest ?? 'vhe', features: o.ecv ? ['ecv'] : [], count: 0n, init: {} });
  const na = p.inapplicable?.(dummy);
  if (na) return { property: p.name, verdict: 'n/a', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation: na };
  const staticFault = p.staticCheck?.(dummy);

  let opsExecuted = 0;
  let stop = false;
  // The first failure ends the search; what follows (fast-check's shrinking, the greedy pass,
  // the search for shorter traces) re-runs failures and is kept out of --stats.
  let current = sbs;
  const judged = (out: Outcome): boolean => {
    opsExecuted += out.ops.length;
    if (driver.failure) stop = true; // a broken implementation is reported as found, not shrunk against
    if (out.violation) current = quiet;
    return out.violation === undefined;
  };
  const predicate = async ([config, gops]: [TraceConfig, GenOp[]]): Promise<boolean> =>
    stop || judged(await driver.run(current, config, gops));
  const syncPredicate = ([config, gops]: [TraceConfig, GenOp[]]): boolean =>
    stop || judged(driver.runSync(current, config, gops));
  const arb = traceArb({ maxOps: o.maxOps, ...(o.guest ? { guest: o.guest } : {}), ...(o.ecv !== undefined ? { ecv: o.ecv } : {}) });
  const params = { seed: o.seed, numRuns: o.runs };
  const details = driver.sync
    ? fc.check(fc.property(arb, syncPredicate), params)
    : await fc.check(fc.asyncProperty(arb, predicate), params);
  if (details.failed && details.counterexample === null) throw (details as { errorInstance?: unknown }).errorInstance ?? new Error('fast-check failed');

  const base = { property: p.name, runs: details.numRuns, shrinks: details.numShrinks };
  if (!details.failed || !details.counterexample) {
    const ms = performance.now() - t0;
    if (staticFault) return { ...base, verdict: 'fail', opsExecuted, ms, explanation: staticFault };
    return { ...base, verdict: 'pass', opsExecuted, ms };
  }
  const [config, gops] = details.counterexample[0];
  let minimal = await minimize(quiet, driver, config, gops, (n) => (opsExecuted += n));
  // fast-check stops at a local minimum. Look for a strictly shorter counterexample: traces
  // capped one op below the best, on a few derived seeds (deterministic for a given seed).
  for (let round = 1; round <= (o.shorterRounds ?? DEFAULT_SHORTER_ROUNDS) && minimal.ops.length > 1 && !driver.failure; round++) {
    const cap = minimal.ops.length - 1;
    const shorter = traceArb({ maxOps: cap, ...(o.guest ? { guest: o.guest } : {}), ...(o.ecv !== undefined ? { ecv: o.ecv } : {}) });
    const again = driver.sync
      ? fc.check(fc.property(shorter, syncPredicate), { seed: o.seed + round * 7919, numRuns: Math.max(o.runs, 3000) })
      : await fc.check(fc.asyncProperty(shorter, predicate), { seed: o.seed + round * 7919, numRuns: Math.max(o.runs, 3000) });
    if (!again.failed || !again.counterexample) continue;
    const [c2, g2] = again.counterexample[0];
    const m2 = await minimize(quiet, driver, c2, g2, (n) => (opsExecuted += n));
    if (m2.ops.length < minimal.ops.length) minimal = m2;
  }
  const token = encodeToken({ config: minimal.config, ops: minimal.ops }, replayInfo(o, layout, p.name));
  const explanation = (staticFault ? `${staticFault}; ` : '') + minimal.violation!.explanation;
  return { ...base, verdict: 'fail', opsExecuted, ms: performance.now() - t0, counterexample: minimal, explanation, token };
}

/**
 * Shrink further than fast-check can on abstract ops: drop any single concrete op whose removal
 * keeps the property failing, until none can go. Ends with a recorded run for the report.
 */
export async function minimize(
  sbs: SideBySide, driver: Driver, config0: TraceConfig, gops: readonly GenOp[], count: (n: number) => void,
): Promise<Outcome> {
  let config = config0;
  const rerun = async (ops: readonly GenOp[]): Promise<Outcome> => {
    const o = await driver.run(sbs, config, ops);
    count(o.ops.length);
    return { ...o, ops: [...o.ops] };
  };
  let best = await rerun(gops);
  if (!best.violation) throw new NvcError('internal error: the counterexample did not fail again (non-deterministic implementation?)', 1);
  let ops: Op[] = best.ops;
  // Simpler configs, each built from the config as simplified so far: no initial registers,
  // then count 0 (features stay: they may be pinned). Tried before and after dropping ops.
  const key = (c: TraceConfig): string => JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  const simplifyConfig = async (): Promise<void> => {
    for (const simpler of [(c: TraceConfig) => ({ ...c, init: {} }), (c: TraceConfig) => ({ ...c, count: 0n })]) {
      const cand = simpler(config);
      if (key(cand) === key(config)) continue;
      const o = await driver.run(sbs, cand, asGenOps(ops));
      count(o.ops.length);
      if (o.violation && o.ops.length <= ops.length) {
        config = cand;
        best = { ...o, ops: [...o.ops] };
        ops = best.ops;
      }
    }
  };
  await simplifyConfig();
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < ops.length; i++) {
      const cand = [...ops.slice(0, i), ...ops.slice(i + 1)];
      const o = await rerun(asGenOps(cand));
      if (o.violation && o.ops.length < ops.length) {
        ops = o.ops;
        best = o;
        changed = true;
        i--;
      }
    }
  }
  await simplifyConfig();
  sbs.record = true;
  try {
    return await rerun(asGenOps(ops));
  } finally {
    sbs.record = false;
  }
}
