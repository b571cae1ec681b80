/**
 * From a trace and what QEMU did with it, the trace a reference must run to see exactly what
 * QEMU saw, and QEMU's observations in the trace format. Pure.
 *
 * QEMU's physical count cannot be preset and every op takes time, so the rebuilt trace starts at
 * the real count of op 0 (config.count) and puts `tick`s between the ops for the counts that
 * really passed: each access happens at the count it executed at in QEMU; a wfi at the count its WFI
 * executed, and the next event is measured from there plus QEMU's elapsed count. After each op the guest
 * read the four timers' CTL at four later counts; with `samples: true` (the default) the rebuilt
 * trace also ticks to each of those counts, so that the observation after that tick is the
 * reference's interrupt line at exactly the count QEMU sampled it.
 */
import type { Expectation, Observation, Op, Trace, TraceConfig } from '../../models/arch/vocabulary.js';
import { SAMPLED_TIMERS, XcheckError, type QemuOpResult } from './format.js';

/** What rebuildTrace needs of a QEMU result (QemuTraceResult has it). */
export interface RebuildInput {
  readonly startCount: bigint;
  readonly ops: readonly QemuOpResult[];
}

export interface RebuildOptions {
  /** Tick to each line sample's count (default true). */
  readonly samples?: boolean;
}

export interface RebuiltTrace {
  readonly trace: Trace;
  /** For each original op, the index of its counterpart in trace.ops. */
  readonly opIndex: readonly number[];
  /**
   * For each original op and each timer (SAMPLED_TIMERS order, = the irq bit order), the index of
   * the rebuilt op whose observation holds that timer's line at the count QEMU sampled it.
   * Without samples: opIndex[i] for every timer.
   */
  readonly sampleIndex: readonly (readonly number[])[];
}

const U64 = (1n << 64n) - 1n;

function tickOp(by: bigint): Op {
  return { op: 'tick', by };
}

export function rebuildTrace(trace: Trace, result: RebuildInput, options: RebuildOptions = {}): RebuiltTrace {
  const samples = options.samples ?? true;
  if (result.ops.length !== trace.ops.length) {
    throw new XcheckError(`rebuildTrace: the result has ${result.ops.length} ops, the trace ${trace.ops.length}`);
  }
  const ops: Op[] = [];
  const opIndex: number[] = [];
  const sampleIndex: number[][] = [];
  let prev = result.startCount;
  const advance = (to: bigint, what: string): bigint => {
    const d = to - prev;
    if (d < 0n) throw new XcheckError(`rebuildTrace: ${what} at count ${to} is before the previous event (${prev})`);
    prev = to;
    return d;
  };
  trace.ops.forEach((op, i) => {
    const r = result.ops[i]!;
    if (r.op !== op.op) throw new XcheckError(`rebuildTrace: ops[${i}] is '${op.op}' in the trace, '${r.op}' in the result`);
    switch (op.op) {
      case 'tick': case 'preempt': {
        if (r.countAfter === undefined) throw new XcheckError(`rebuildTrace: ops[${i}] (${op.op}) has no end count`);
        const by = advance(r.countAfter, `ops[${i}] end`);
        ops.push({ op: op.op, by: by & U64 });
        break;
      }
      case 'wfi': case 'wfit': {
        // The wait at the count its WFI (WFIT) executed; then QEMU's elapsed (wake latency removed) passes.
        if (r.elapsed === undefined) throw new XcheckError(`rebuildTrace: ops[${i}] (${op.op}) has no elapsed count`);
        const d = advance(r.countAtAccess, `ops[${i}]`);
        if (d > 0n) ops.push(tickOp(d));
        ops.push(op);
        prev = r.countAtAccess + r.elapsed;
        break;
      }
      case 'msr': case 'mrs': case 'eret': case 'exit': {
        const d = advance(r.countAtAccess, `ops[${i}]`);
        if (d > 0n) ops.push(tickOp(d));
        ops.push(op);
        break;
      }
    }
    const at = ops.length - 1;
    opIndex.push(at);
    if (!samples) {
      sampleIndex.push(SAMPLED_TIMERS.map(() => at));
      return;
    }
    const idx: number[] = [];
    for (const s of r.lines) {
      const d = advance(s.count, `ops[${i}] ${s.timer} sample`);
      if (d > 0n) ops.push(tickOp(d));
      idx.push(ops.length - 1);
    }
    sampleIndex.push(idx);
  });
  const config = { ...trace.config, count: result.startCount & U64 };
  return { trace: { config, ops }, opIndex, sampleIndex };
}

/** A timer's output line from its CTL: ENABLE ∧ ISTATUS ∧ ¬IMASK. */
export const lineFromCtl = (ctl: bigint): boolean => (ctl & 7n) === 5n;

/** QEMU's observation of each op in the trace format (irq from the sampled CTLs). */
export function qemuObservations(result: RebuildInput): Observation[] {
  return result.ops.map((r) => {
    const o: Observation = { irq: ctlLineMask(r) };
    if (r.fault) o.fault = r.fault;
    else if (r.value !== undefined) o.value = r.value;
    if (r.elapsed !== undefined) o.elapsed = r.elapsed;
    return o;
  });
}

/**
 * The reference's observations of the rebuilt trace, one per original op: value, unknown and
 * fault of the op's counterpart, and each timer's irq bit from the observation at its sample.
 */
export function collapseObservations(rebuilt: RebuiltTrace, observations: readonly (Observation | Expectation)[]): Expectation[] {
  if (observations.length !== rebuilt.trace.ops.length) {
    throw new XcheckError(`collapseObservations: ${observations.length} observations for ${rebuilt.trace.ops.length} rebuilt ops`);
  }
  return rebuilt.opIndex.map((at, i) => {
    const base = observations[at]!;
    let irq = 0;
    rebuilt.sampleIndex[i]!.forEach((s, t) => { irq |= observations[s]!.irq & (1 << t); });
    const o: Expectation = { irq };
    if (base.value !== undefined) o.value = base.value;
    if ('unknown' in base && base.unknown !== undefined) o.unknown = base.unknown;
    if (base.fault !== undefined) o.fault = base.fault;
    if (base.elapsed !== undefined) o.elapsed = base.elapsed;
    return o;
  });
}

/** The fields on which an observation disagrees with an expectation (value compared outside `unknown`). */
export function disagreement(expected: Expectation, observed: Observation): string[] {
  const out: string[] = [];
  if (expected.fault !== observed.fault) out.push('fault');
  if (expected.elapsed !== observed.elapsed) out.push('elapsed');
  const mask = U64 & ~(expected.unknown ?? 0n);
  if ((expected.value === undefined) !== (observed.value === undefined)) out.push('value');
  else if (expected.value !== undefined && observed.value !== undefined && ((expected.value ^ observed.value) & mask) !== 0n) out.push('value');
  for (let t = 0; t < SAMPLED_TIMERS.length; t++) {
    if ((expected.irq & (1 << t)) !== (observed.irq & (1 << t))) out.push(`irq.${SAMPLED_TIMERS[t]}`);
  }
  return out;
}

/** The timer lines derived from the CTL samples of one op, as a mask in SAMPLED_TIMERS order. */
export function ctlLineMask(r: QemuOpResult): number {
  let m = 0;
  r.lines.forEach((l, t) => { if (lineFromCtl(l.ctl)) m |= 1 << t; });
  return m;
}

/**
 * Ops whose GIC pending bits (QEMU's timer outputs, read at EL3 after the CTL samples) differ
 * from the lines derived from CTL. Either source may legitimately differ when a timer's condition
 * changes between the two reads (a few tens of counts); otherwise they must agree.
 */
export function lineSourceMismatches(result: RebuildInput): { op: number; ctl: number; gic: number }[] {
  const out: { op: number; ctl: number; gic: number }[] = [];
  result.ops.forEach((r, i) => {
    if (r.gic && r.gic.mask !== ctlLineMask(r)) out.push({ op: i, ctl: ctlLineMask(r), gic: r.gic.mask });
  });
  return out;
}

/** Anything that runs a trace op by op (the project's ReferenceModel has this shape). */
export interface StepModel {
  step(op: Op): Observation | Expectation;
}

export interface Comparison {
  readonly rebuilt: RebuiltTrace;
  /** The model's observations folded onto the original ops (as far as the model ran). */
  readonly expected: readonly Expectation[];
  readonly observed: readonly Observation[];
  /** The first original op on which they disagree, with the fields, or undefined. */
  readonly first?: { readonly op: number; readonly fields: readonly string[] };
  /** The model threw (e.g. an input error on the rebuilt trace): its message. */
  readonly modelError?: string;
}

/**
 * Rebuild `trace` with QEMU's counts, run `makeModel(config)` over the rebuilt ops and compare each
 * original op's observation with QEMU's. The cross-check in one call, without depending on any
 * particular model: pass `(c) => new ReferenceModel(c)`.
 */
export function compareWithModel(trace: Trace, result: RebuildInput, makeModel: (config: TraceConfig) => StepModel, options: RebuildOptions = {}): Comparison {
  const rebuilt = rebuildTrace(trace, result, options);
  const model = makeModel(rebuilt.trace.config);
  const observed = qemuObservations(result);
  const obs: (Observation | Expectation)[] = [];
  let modelError: string | undefined;
  for (const op of rebuilt.trace.ops) {
    try {
      obs.push(model.step(op));
    } catch (e) {
      modelError = e instanceof Error ? e.message : String(e);
      break;
    }
  }
  // Only the original ops whose observations (op and samples) the model reached.
  const reached = rebuilt.opIndex.findIndex((_, i) => Math.max(rebuilt.opIndex[i]!, ...rebuilt.sampleIndex[i]!) >= obs.length);
  const n = reached < 0 ? rebuilt.opIndex.length : reached;
  const padded = [...obs, ...Array.from({ length: rebuilt.trace.ops.length - obs.length }, (): Observation => ({ irq: 0 }))];
  const expected = collapseObservations(rebuilt, padded).slice(0, n);
  for (let i = 0; i < expected.length; i++) {
    const fields = disagreement(expected[i]!, observed[i]!);
    if (fields.length) return { rebuilt, expected, observed, first: { op: i, fields }, ...(modelError ? { modelError } : {}) };
  }
  return { rebuilt, expected, observed, ...(modelError ? { modelError } : {}) };
}
