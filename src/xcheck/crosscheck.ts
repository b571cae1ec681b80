/**
 * `nvconform xcheck qemu`: the check's generated traces run at real EL2/EL1 in QEMU, each compared
 * op by op with the reference on the trace rebuilt with the counts that really passed; every
 * disagreement explained by a known QEMU behaviour or shrunk and reported.
 *
 * Generation is the check's (`traceArb` with its options). What QEMU cannot run is transformed,
 * and counted: a tick, preempt, wfi limit or wfit wait longer than 2^40 counts is cut to 2^40 (so that every
 * trace fits in its 2^46-count slot of the physical count), and config.count is replaced by the
 * trace's slot (the physical count cannot be preset; trace k of a run starts at (k + 1) * 2^46).
 * Values relative to the count ("CVAL = now + 2") are resolved against QEMU's counts in passes:
 * pass 1 runs the traces resolved at the slot's count, each later pass re-resolves them at the
 * counts QEMU ran each op at, until the values no longer change (a fixed point: the values are
 * what they would be at the counts they run at). Resolution follows the model of QEMU's known
 * behaviours, so that eret and exit are valid where QEMU's vCPU really is.
 */
import fc from 'fast-check';
import { cpus } from 'node:os';
import { MASK64 } from '../../models/arch/bits.js';
import type { Feature, GuestMode, Op, Trace, TraceConfig } from '../../models/arch/vocabulary.js';
import { traceArb, type GenOp } from '../check/generate.js';
import { resolveOp } from '../engine/abstract-ops.js';
import { checkLineSources, judgeTrace, type LineSourceCheck, type TraceVerdict } from './classify.js';
import { DEFAULT_MAX_TICK, unsupportedReason } from './format.js';
import { runTracesInQemu, SPACING, type QemuRunOptions, type QemuTraceResult } from './qemu.js';
import { ALL_BEHAVIOURS, QemuTimerModel } from './qemu-model.js';

export interface CrossCheckOptions {
  /** Generated traces. Default 1000. */
  readonly runs: number;
  /** fast-check seed. Default 42 (the check's): the same seed and options give the same output. */
  readonly seed: number;
  /** Longest generated trace. Default 40 (the check's). */
  readonly maxOps: number;
  /** Pin the guest mode. Default: both, per trace. */
  readonly guest?: GuestMode;
  /** Pin FEAT_ECV of the virtual CPU. Default: both, per trace. */
  readonly ecv?: boolean;
  /** How QEMU is run (its binary, image, batch size, processes). Default: findQemu's, batchFor(traces) per process, one process per CPU. */
  readonly run?: Pick<QemuRunOptions, 'qemu' | 'image' | 'batchSize' | 'parallel' | 'timeoutMs'>;
  /** What runs a batch of traces: default runTracesInQemu (tests pass a simulated QEMU). */
  readonly runner?: TraceRunner;
  /** Most resolution passes per trace. Default 6. */
  readonly maxPasses?: number;
  /** Shrink unexplained disagreements (in QEMU): the first this many failing traces (the others are listed). Default 3; 0: none. */
  readonly shrink?: number;
  /** Also shrink the first trace of each class of explained disagreement. Default false. */
  readonly shrinkKnown?: boolean;
}

export type TraceRunner = (traces: readonly Trace[], options: QemuRunOptions) => Promise<QemuTraceResult[]>;

export const DEFAULT_XCHECK_OPTIONS: CrossCheckOptions = { runs: 1000, seed: 42, maxOps: 40 };
export const DEFAULT_MAX_PASSES = 6;
/** Unexplained disagreements shrunk by default (CrossCheckOptions.shrink). */
export const DEFAULT_SHRINK = 3;
/** Traces per run call: the slots of 2^46 counts must stay below 2^62. */
const MAX_SLOTS = 65535;

/**
 * Traces per QEMU process by default: as few, large batches as there are CPUs (a process costs
 * ~0.1 s to start; once started it runs thousands of traces per second), at most 5000.
 */
export const batchFor = (n: number): number => Math.min(5000, Math.max(1, Math.ceil(n / Math.max(1, cpus().length))));

/** A generated trace before resolution: its config and abstract ops. */
export interface Item {
  readonly config: TraceConfig;
  readonly gen: readonly GenOp[];
}

/** What was changed in one trace so that QEMU can run it. */
export interface Transform {
  /** tick/preempt ops cut to DEFAULT_MAX_TICK. */
  readonly longTicks: number;
  /** wfi limits, and wfit deadlines further ahead, cut to DEFAULT_MAX_TICK. */
  readonly longWaits: number;
}

interface Resolved {
  readonly trace: Trace;
  /** The abstract ops that produced trace.ops (the others were not valid where they fell). */
  readonly kept: readonly GenOp[];
  readonly transform: Transform;
}

/**
 * Resolve abstract ops to concrete ones on the model of QEMU, starting at the trace's slot; with
 * `counts` (QEMU's count of each op in the previous pass), the model's count is set to it before
 * each op is resolved. Ticks and wfi limits are cut to what QEMU can run.
 */
export function resolveForQemu(config: TraceConfig, gen: readonly GenOp[], counts?: readonly bigint[]): Resolved {
  const model = new QemuTimerModel(config, ALL_BEHAVIOURS);
  const ops: Op[] = [];
  const kept: GenOp[] = [];
  let longTicks = 0, longWaits = 0;
  for (const g of gen) {
    const c = counts?.[ops.length];
    if (c !== undefined) model.setCount(c);
    const r = resolveOp(g, model.ref);
    if (!r) continue;
    let op: Op = r;
    if ((r.op === 'tick' || r.op === 'preempt') && r.by > DEFAULT_MAX_TICK) {
      op = { op: r.op, by: DEFAULT_MAX_TICK };
      longTicks++;
    } else if (r.op === 'wfi' && r.limit > DEFAULT_MAX_TICK) {
      op = { op: 'wfi', limit: DEFAULT_MAX_TICK };
      longWaits++;
    } else if (r.op === 'wfit' && model.ref.countsUntilVirtual(r.deadline) > DEFAULT_MAX_TICK) {
      // The deadline 2^40 counts of CNTVCT_EL0 ahead (no wrap: it is more than 2^40 below the old deadline).
      op = { op: 'wfit', deadline: r.deadline - (model.ref.countsUntilVirtual(r.deadline) - DEFAULT_MAX_TICK) };
      longWaits++;
    }
    try {
      model.step(op);
    } catch {
      break;
    }
    ops.push(op);
    kept.push(g);
  }
  return { trace: { config, ops }, kept, transform: { longTicks, longWaits } };
}

const sameOps = (a: readonly Op[], b: readonly Op[]): boolean =>
  a.length === b.length && a.every((o, i) => JSON.stringify(o, big) === JSON.stringify(b[i], big));
const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString(16) : v);

export interface RunOutcome {
  readonly trace: Trace;
  readonly kept: readonly GenOp[];
  readonly transform: Transform;
  readonly result: QemuTraceResult;
  /** Passes this trace took. */
  readonly passes: number;
  /** Its values stopped changing (else it ran maxPasses times; the comparison is still exact). */
  readonly stable: boolean;
}

export interface RunStats {
  /** QEMU runs of a trace (every pass of every trace). */
  traceRuns: number;
  /** Ops in those runs. */
  opsRun: number;
  /** runTracesInQemu calls. */
  calls: number;
}

/** Run items in QEMU, each in its slot (by its index in `items`), in passes until the values are stable. */
type RunCtx = Pick<CrossCheckOptions, 'run' | 'maxPasses' | 'runner'> & { readonly stats: RunStats };

export async function runResolved(items: readonly Item[], o: RunCtx): Promise<RunOutcome[]> {
  const out: RunOutcome[] = [];
  for (let base = 0; base < items.length; base += MAX_SLOTS) out.push(...(await runChunk(items.slice(base, base + MAX_SLOTS), o)));
  return out;
}

async function runChunk(items: readonly Item[], o: RunCtx): Promise<RunOutcome[]> {
  const slot = (k: number): bigint => BigInt(k + 1) * SPACING;
  const configs = items.map((it, k) => ({ ...it.config, count: slot(k) }));
  const cur = items.map((it, k) => resolveForQemu(configs[k]!, it.gen));
  const results: (QemuTraceResult | undefined)[] = new Array<QemuTraceResult | undefined>(items.length);
  const passes = new Array<number>(items.length).fill(0);
  const stable = new Array<boolean>(items.length).fill(false);
  let moving = items.map((_, k) => k);
  const maxPasses = o.maxPasses ?? DEFAULT_MAX_PASSES;
  for (let pass = 1; moving.length && pass <= maxPasses; pass++) {
    const traces = moving.map((k) => cur[k]!.trace);
    const rs = await (o.runner ?? runTracesInQemu)(traces, { batchSize: batchFor(traces.length), ...o.run, startAt: (t) => t.config.count });
    o.stats.calls++;
    o.stats.traceRuns += traces.length;
    o.stats.opsRun += traces.reduce((s, t) => s + t.ops.length, 0);
    const still: number[] = [];
    moving.forEach((k, j) => {
      results[k] = rs[j]!;
      passes[k] = pass;
      const again = resolveForQemu(configs[k]!, items[k]!.gen, rs[j]!.ops.map((q) => q.countAtAccess));
      if (sameOps(again.trace.ops, cur[k]!.trace.ops)) stable[k] = true;
      else if (pass < maxPasses) {
        cur[k] = again;
        still.push(k);
      }
    });
    moving = still;
  }
  return items.map((_, k) => ({ ...cur[k]!, result: results[k]!, passes: passes[k]!, stable: stable[k]! }));
}

/** One generated trace, run and judged. */
export interface TraceOutcome extends RunOutcome {
  readonly index: number;
  readonly verdict: TraceVerdict;
  readonly lines: LineSourceCheck;
}

export interface Shrunk {
  /** The trace's index in the run. */
  readonly index: number;
  readonly outcome: RunOutcome;
  readonly verdict: TraceVerdict;
  /** Candidate traces run in QEMU while shrinking. */
  readonly candidates: number;
  readonly fromOps: number;
}

export interface CrossCheckResult {
  readonly options: CrossCheckOptions;
  readonly traces: readonly TraceOutcome[];
  /** Generated traces QEMU cannot run even after transforming (unsupportedReason), with the reason. */
  readonly skipped: readonly { readonly index: number; readonly why: string }[];
  /** Generated traces whose config.count was within 2^40 of 2^64 (a count wrap QEMU cannot run). */
  readonly nearWrap: number;
  readonly unexplained: readonly Shrunk[];
  /** One shrunk example per class of explained disagreement (with shrinkKnown). */
  readonly examples: readonly (Shrunk & { readonly class: string })[];
  readonly stats: RunStats;
  readonly ms: number;
}

/**
 * The virtual-CPU features a trace may have in QEMU: `-cpu max` has FEAT_ECV with CNTPOFF_EL2
 * (ECV = 2), FEAT_VHE and FEAT_WFxT, and none can be taken away, so a config never names them
 * absent.
 */
export const QEMU_OFFER: readonly Feature[] = ['ecv', 'ecv-poff', 'wfxt', 'vhe'];
/** Registers no cross-check trace touches: the harness owns the real HCR_EL2 (format.ts). */
export const QEMU_EXCLUDE: readonly string[] = ['HCR_EL2'];

/**
 * Keep a generated trace within what QEMU's CPU is: a config that names no absent feature (QEMU's
 * CPU has them all; the vocabulary-2 `absent` is dropped, so a "FEAT_ECV without CNTPOFF" CPU
 * becomes one with it, a "no FEAT_VHE" one becomes VHE-capable), and WFIT only in a trace whose
 * vCPU has FEAT_WFxT (QEMU's always has it, so the reference's UNDEFINED WFIT cannot be run).
 */
export function withinQemu([config, gen]: [TraceConfig, GenOp[]]): Item {
  const { absent: _absent, ...rest } = config;
  return { config: rest, gen: rest.features.includes('wfxt') ? gen : gen.filter((g) => g.k !== 'wfit') };
}

/**
 * The traces of a cross-check: the check's generator with its options (the current vocabulary),
 * offered QEMU's features and without HCR_EL2, then kept within what QEMU runs (withinQemu).
 */
export function generate(o: Pick<CrossCheckOptions, 'runs' | 'seed' | 'maxOps' | 'guest' | 'ecv'>): Item[] {
  const arb = traceArb({ maxOps: o.maxOps, offer: QEMU_OFFER, exclude: QEMU_EXCLUDE, ...(o.guest ? { guest: o.guest } : {}), ...(o.ecv !== undefined ? { ecv: o.ecv } : {}) });
  return fc.sample(arb, { seed: o.seed, numRuns: o.runs }).map(withinQemu);
}

export async function crossCheck(o: CrossCheckOptions): Promise<CrossCheckResult> {
  const t0 = performance.now();
  const stats: RunStats = { traceRuns: 0, opsRun: 0, calls: 0 };
  const all = generate(o);
  const nearWrap = all.filter((it) => it.config.count > MASK64 - DEFAULT_MAX_TICK).length;
  const skipped: { index: number; why: string }[] = [];
  const items: { index: number; item: Item }[] = [];
  all.forEach((item, index) => {
    const why = unsupportedReason(resolveForQemu(item.config, item.gen).trace);
    if (why) skipped.push({ index, why });
    else items.push({ index, item });
  });
  const runs = await runResolved(items.map((x) => x.item), { ...ctxOf(o), stats });
  const traces: TraceOutcome[] = runs.map((r, k) => {
    const verdict = judgeTrace(r.trace, r.result);
    return { ...r, index: items[k]!.index, verdict, lines: checkLineSources(r.trace, r.result, verdict) };
  });
  const failing = traces.filter((t) => t.verdict.status === 'unexplained' || t.lines.unexplained.length);
  const unexplained: Shrunk[] = [];
  const isFail = (v: TraceVerdict, r: RunOutcome): boolean => v.status === 'unexplained' || checkLineSources(r.trace, r.result, v).unexplained.length > 0;
  for (const t of failing.slice(0, o.shrink ?? DEFAULT_SHRINK)) unexplained.push(await shrink(t, isFail, o, stats));
  const examples: (Shrunk & { class: string })[] = [];
  if (o.shrinkKnown) {
    const seen = new Set<string>();
    for (const t of traces) {
      const cls = t.verdict.class;
      if (t.verdict.status !== 'explained' || !cls || seen.has(cls)) continue;
      seen.add(cls);
      examples.push({ ...(await shrink(t, (v) => v.status === 'explained' && v.class === cls, o, stats)), class: cls });
    }
  }
  return { options: o, traces, skipped, nearWrap, unexplained, examples, stats, ms: performance.now() - t0 };
}

const ctxOf = (o: Pick<CrossCheckOptions, 'run' | 'maxPasses' | 'runner'>): Omit<RunCtx, 'stats'> =>
  ({ ...(o.run ? { run: o.run } : {}), ...(o.maxPasses ? { maxPasses: o.maxPasses } : {}), ...(o.runner ? { runner: o.runner } : {}) });

/**
 * Shrink a failing trace in QEMU, like a counterexample: drop chunks of its abstract ops (halves,
 * quarters, ... single ops), then its initial registers, keeping a candidate when it still fails.
 * Every candidate of a round runs in one QEMU call (each in its own slot, in passes).
 */
export async function shrink(
  t: TraceOutcome, fails: (v: TraceVerdict, r: RunOutcome) => boolean, o: Pick<CrossCheckOptions, 'run' | 'maxPasses' | 'runner'>, stats: RunStats,
): Promise<Shrunk> {
  let best: { item: Item; outcome: RunOutcome; verdict: TraceVerdict } = { item: { config: t.trace.config, gen: t.kept }, outcome: t, verdict: t.verdict };
  let candidates = 0;
  const tryAll = async (cands: Item[]): Promise<boolean> => {
    if (!cands.length) return false;
    candidates += cands.length;
    const rs = await runResolved(cands, { ...ctxOf(o), stats });
    for (let j = 0; j < rs.length; j++) {
      const v = judgeTrace(rs[j]!.trace, rs[j]!.result);
      if (fails(v, rs[j]!) && rs[j]!.trace.ops.length <= best.outcome.trace.ops.length) {
        best = { item: { config: cands[j]!.config, gen: rs[j]!.kept }, outcome: rs[j]!, verdict: v };
        return true;
      }
    }
    return false;
  };
  const simplerConfig = async (): Promise<void> => {
    if (Object.keys(best.item.config.init).length) await tryAll([{ config: { ...best.item.config, init: {} }, gen: best.item.gen }]);
  };
  await simplerConfig();
  for (let size = Math.max(1, Math.floor(best.item.gen.length / 2)); size >= 1;) {
    const gen = best.item.gen;
    const cands: Item[] = [];
    for (let i = 0; i < gen.length; i += size) cands.push({ config: best.item.config, gen: [...gen.slice(0, i), ...gen.slice(i + size)] });
    if (!(await tryAll(cands))) size = size === 1 ? 0 : Math.max(1, Math.floor(size / 2));
    else size = Math.min(size, Math.max(1, Math.floor(best.item.gen.length / 2)));
  }
  await simplerConfig();
  return { index: t.index, outcome: best.outcome, verdict: best.verdict, candidates, fromOps: t.trace.ops.length };
}
