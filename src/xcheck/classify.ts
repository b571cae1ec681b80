/**
 * Judging one trace QEMU ran: compare it with the reference on the rebuilt trace, and explain a
 * disagreement by the smallest set of known QEMU behaviours (src/xcheck/qemu-model.ts) whose model
 * reproduces QEMU's observations up to that op. A trace is explained when the model with every
 * known behaviour reproduces QEMU on *every* op; otherwise the first op it does not reproduce is
 * an unexplained disagreement (a failure of the cross-check).
 */
import type { Op, Trace } from '../../models/arch/vocabulary.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { SAMPLED_TIMERS } from './format.js';
import type { QemuTraceResult } from './qemu.js';
import { ALL_BEHAVIOURS, BEHAVIOUR_NAMES, NO_BEHAVIOURS, QemuTimerModel, type BehaviourName, type QemuBehaviours } from './qemu-model.js';
import { compareWithModel, lineSourceMismatches, type Comparison } from './rebuild.js';

/** A known QEMU 10.0 behaviour, its class name in reports, and its triage (docs/qemu-crosscheck.md). */
export interface KnownBehaviour {
  readonly behaviour: BehaviourName;
  readonly id: string;
  readonly triage: 'bug in QEMU' | 'modelling choice';
  readonly summary: string;
  /** The QEMU function it comes from (target/arm/helper.c). */
  readonly qemu: string;
}

export const KNOWN_BEHAVIOURS: readonly KnownBehaviour[] = [
  {
    behaviour: 'offsetOverflow', id: 'offset-overflow', triage: 'bug in QEMU', qemu: 'gt_recalc_timer',
    summary: 'an EL1 timer with its offset above the count and CVAL + offset >= 2^64 never fires (its deadline overflows to "never")',
  },
  {
    // Not a bug: CNTPCT_EL0 reads are not ordered with other instructions (only CNTPCTSS_EL0 is
    // self-synchronised), and no interrupt latency is architected; the reference is exact to the count.
    behaviour: 'istatusLag', id: 'istatus-lag', triage: 'modelling choice', qemu: 'gt_recalc_timer (timer callbacks)',
    summary: 'ISTATUS and the line change one count after the condition does: a CTL read or line sample at exactly that count sees the old value (the architecture allows it; the reference is exact to the count)',
  },
  {
    behaviour: 'ecvFlip', id: 'ecv-flip', triage: 'bug in QEMU', qemu: 'gt_cnthctl_write',
    summary: 'a CNTHCTL_EL2 write that changes ECV (CNTPOFF_EL2 in force or not) does not re-evaluate the EL1 physical timer',
  },
  {
    behaviour: 'wfitOverflow', id: 'wfit-overflow', triage: 'bug in QEMU', qemu: 'HELPER(wfit) (tcg/op_helper.c)',
    summary: 'a WFIT whose deadline + CNTVOFF_EL2 overflows 64 bits (the offset above the count) does not wake at its deadline, only by an interrupt',
  },
  {
    behaviour: 'hasEcv', id: 'qemu-has-ecv', triage: 'modelling choice', qemu: '-cpu max (aa64_ecv)',
    summary: 'QEMU\'s CPU always implements FEAT_ECV: in a trace without "ecv" the CNTHCTL_EL2 ECV trap bits still trap and CNTPCTSS_EL0/CNTVCTSS_EL0 still read',
  },
];
const BY_BEHAVIOUR = new Map(KNOWN_BEHAVIOURS.map((k) => [k.behaviour, k]));

/** The class name of a set of behaviours: their ids joined by '+', in KNOWN_BEHAVIOURS order. */
export const classOf = (bs: readonly BehaviourName[]): string => KNOWN_BEHAVIOURS.filter((k) => bs.includes(k.behaviour)).map((k) => k.id).join('+');

export interface Disagreement {
  /** Original op index. */
  readonly op: number;
  readonly fields: readonly string[];
}

export interface TraceVerdict {
  /**
   * - `agree`: QEMU and the reference agree on every op;
   * - `explained`: they disagree, and the model of QEMU's known behaviours reproduces every op;
   * - `unexplained`: they disagree and that model does not reproduce some op (or QEMU faulted in
   *   the init writes).
   */
  readonly status: 'agree' | 'explained' | 'unexplained';
  /** The reference on the rebuilt trace. */
  readonly reference: Comparison;
  /** The model with every known behaviour (the explanation of the whole trace). */
  readonly model: Comparison;
  /** The reference's first disagreement with QEMU. */
  readonly first?: Disagreement;
  /** The smallest set of behaviours whose model reproduces QEMU up to and including `first.op`. */
  readonly behaviours?: readonly BehaviourName[];
  /** `classOf(behaviours)`, or 'unexplained' when no set reproduces it. */
  readonly class?: string;
  /**
   * The model of every known behaviour reproduces QEMU on every op. (When the reference agrees
   * with QEMU too, a miss is a flaw of that model, not a disagreement: reported, not failed.)
   */
  readonly modelReproduces: boolean;
  /** Where the model of every behaviour fails to reproduce QEMU (status `unexplained`). */
  readonly unexplained?: Disagreement & { readonly why?: string };
}

const reaches = (c: Comparison, op: number): boolean => c.expected.length > op && (!c.first || c.first.op > op);

/** The first op on which a comparison fails: a differing field, or where its model stopped. */
function firstFailure(c: Comparison, n: number): (Disagreement & { why?: string }) | undefined {
  if (c.first) return { op: c.first.op, fields: c.first.fields, ...(c.modelError ? { why: c.modelError } : {}) };
  if (c.expected.length < n) return { op: c.expected.length, fields: ['model'], why: c.modelError ?? 'the model stopped' };
  return undefined;
}

/** Every subset of `names`, smallest first (in a fixed order). */
function subsets(names: readonly BehaviourName[]): BehaviourName[][] {
  const out: BehaviourName[][] = [];
  for (let m = 1; m < 1 << names.length; m++) out.push(names.filter((_, i) => (m >> i) & 1));
  return out.sort((a, b) => a.length - b.length);
}

const withOnly = (bs: readonly BehaviourName[]): QemuBehaviours => ({ ...NO_BEHAVIOURS, ...Object.fromEntries(bs.map((b) => [b, true])) });

/** The behaviours that can matter for this trace (hasEcv only without "ecv"). */
function relevant(trace: Trace): BehaviourName[] {
  return BEHAVIOUR_NAMES.filter((b) => b !== 'hasEcv' || !trace.config.features.includes('ecv'));
}

export function judgeTrace(trace: Trace, result: QemuTraceResult): TraceVerdict {
  const n = trace.ops.length;
  const reference = compareWithModel(trace, result, (c) => new ReferenceModel(c));
  const model = compareWithModel(trace, result, (c) => new QemuTimerModel(c, ALL_BEHAVIOURS));
  const first = firstFailure(reference, n);
  let behaviours: BehaviourName[] | undefined;
  if (first) {
    behaviours = subsets(relevant(trace)).find((bs) => reaches(compareWithModel(trace, result, (c) => new QemuTimerModel(c, withOnly(bs))), first.op));
  }
  const modelMiss = firstFailure(model, n);
  const fail = result.initFault
    ? { op: 0, fields: ['init'], why: `QEMU faulted on config.init write ${result.initFault.index} (EL${result.initFault.faultEl}, ESR 0x${result.initFault.esr.toString(16)})` }
    : first ? modelMiss : undefined;
  const status = fail ? 'unexplained' : first ? 'explained' : 'agree';
  return {
    status, reference, model, modelReproduces: !modelMiss,
    ...(first ? { first: { op: first.op, fields: first.fields }, class: behaviours ? classOf(behaviours) : 'unexplained' } : {}),
    ...(behaviours ? { behaviours } : {}),
    ...(fail ? { unexplained: fail } : {}),
  };
}

export const knownBehaviour = (b: BehaviourName): KnownBehaviour => BY_BEHAVIOUR.get(b)!;

/** How far past the GIC read's count the read itself may happen (the SMC to EL3 and back). */
export const GIC_READ_WINDOW = 64n;

export interface LineSourceCheck {
  /** Ops whose GIC pending bits were read. */
  readonly ops: number;
  /** ...that agree with the lines derived from CTL. */
  readonly agree: number;
  /** ...where they differ but a line changes between the CTL sample and the GIC read (the model of QEMU says so). */
  readonly races: number;
  /** ...after the trace's first unexplained disagreement (the model no longer follows QEMU: not checked). */
  readonly unchecked: number;
  /** The others: op index and both masks. */
  readonly unexplained: readonly { readonly op: number; readonly ctl: number; readonly gic: number }[];
}

/**
 * The two sources of QEMU's interrupt lines (CTL read at EL2, GIC pending bits read at EL3 a few
 * tens of counts later) must agree, except where the line changes between the two reads: checked
 * by running the model of QEMU over the window at every count.
 */
export function checkLineSources(trace: Trace, result: QemuTraceResult, verdict: TraceVerdict): LineSourceCheck {
  const ops = result.ops.filter((o) => o.gic).length;
  const bad = lineSourceMismatches(result);
  const stop = verdict.unexplained?.op ?? Infinity;
  const checked = bad.filter((m) => m.op < stop);
  const rebuilt = verdict.model.rebuilt;
  const unexplained = checked.filter((m) => {
    const q = result.ops[m.op]!;
    return SAMPLED_TIMERS.some((_, t) => {
      if ((((m.ctl ^ m.gic) >> t) & 1) === 0) return false;
      const want = (m.gic >> t) & 1;
      const at = rebuilt.sampleIndex[m.op]![t]!;
      const from = q.lines[t]!.count;
      const model = new QemuTimerModel(rebuilt.trace.config, ALL_BEHAVIOURS);
      for (let k = 0; k <= at; k++) model.step(rebuilt.trace.ops[k]!);
      const tick: Op = { op: 'tick', by: 1n };
      for (let c = from; c <= q.gic!.count + GIC_READ_WINDOW; c++) {
        if (((model.step(tick).irq >> t) & 1) === want) return false;
      }
      return true;
    });
  });
  return { ops, agree: ops - bad.length, races: checked.length - unexplained.length, unchecked: bad.length - checked.length, unexplained };
}
