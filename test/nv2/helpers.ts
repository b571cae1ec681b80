/**
 * Shared helpers for the NV2 implementation-model tests: op constructors, model factories and
 * a side-by-side runner that executes one trace on the reference and on an implementation.
 * Agreement is judged as trace-format.md says: irq, fault and elapsed equal, value equal outside
 * the expectation's `unknown` mask.
 */
import { ReferenceModel } from '../../models/reference/reference.js';
import { Nv2Model } from '../../models/nv2/model.js';
import { loadLayout } from '../../models/layouts/load.js';
import type { StepDetail } from '../../models/arch/implementation.js';
import {
  defaultConfig, irqList, type El, type Expectation, type Observation, type Op, type TraceConfig,
} from '../../models/arch/vocabulary.js';

export const M64 = 1n << 64n;
export const MASK64 = M64 - 1n;

/** irq mask bits: bit0 hptimer, bit1 hvtimer, bit2 ptimer, bit3 vtimer. */
export const HP = 1;
export const HV = 2;
export const P = 4;
export const V = 8;

// The op constructors are shared with the reference tests.
export { eret, exit, mrs, msr, preempt, tick, wfi } from '../reference/util.js';

export const cfg = (over: Partial<TraceConfig> = {}): TraceConfig => defaultConfig(over);

export interface ModelOpts {
  layout?: string;
  nv2?: boolean;
  hostEcvTraps?: boolean;
}

export function model(o: ModelOpts = {}): Nv2Model {
  return new Nv2Model({
    layout: loadLayout(o.layout ?? 'architected'),
    ...(o.nv2 !== undefined ? { nv2: o.nv2 } : {}),
    ...(o.hostEcvTraps !== undefined ? { hostEcvTraps: o.hostEcvTraps } : {}),
  });
}

/** The FEAT_NV-only host with no VNCR slots: the trap-all baseline. */
export const nvModel = (hostEcvTraps = false): Nv2Model => model({ layout: 'trap-all', nv2: false, hostEcvTraps });

export interface Step {
  readonly op: Op;
  /** The vCPU's EL before the op, per the reference. */
  readonly el: El;
  readonly exp: Expectation;
  readonly obs: Observation;
  readonly detail: StepDetail | undefined;
}

/** Run `ops` on the reference and on `impl` side by side. */
export function runBoth(config: TraceConfig, ops: readonly Op[], impl: Nv2Model): Step[] {
  const ref = new ReferenceModel(config);
  impl.reset(config);
  return ops.map((op) => {
    const el = ref.el;
    const exp = ref.step(op);
    const obs = impl.step(op);
    return { op, el, exp, obs, detail: impl.detail() };
  });
}

/** Does an implementation observation agree with the architecture's expectation? */
export function agrees(exp: Expectation, obs: Observation): boolean {
  if (exp.irq !== obs.irq || exp.fault !== obs.fault || exp.elapsed !== obs.elapsed) return false;
  if (exp.value === undefined) return obs.value === undefined;
  if (obs.value === undefined) return false;
  return ((exp.value ^ obs.value) & ~(exp.unknown ?? 0n) & MASK64) === 0n;
}

const hx = (v: bigint): string => '0x' + v.toString(16);

export function showOp(op: Op): string {
  switch (op.op) {
    case 'msr': return `msr ${op.reg}, ${hx(op.value)}`;
    case 'mrs': return `mrs ${op.reg}`;
    case 'tick': return `tick ${hx(op.by)}`;
    case 'preempt': return `preempt ${hx(op.by)}`;
    case 'wfi': return `wfi ${hx(op.limit)}`;
    default: return op.op;
  }
}

export function showObs(o: Observation | Expectation): string {
  const parts: string[] = [];
  if (o.fault) parts.push(`fault=${o.fault}`);
  if (o.value !== undefined) parts.push(`value=${hx(o.value)}`);
  if ('unknown' in o && o.unknown !== undefined) parts.push(`unknown=${hx(o.unknown)}`);
  if (o.elapsed !== undefined) parts.push(`elapsed=${hx(o.elapsed)}`);
  parts.push(`irq=[${irqList(o.irq).join(',')}]`);
  return parts.join(' ');
}

/** The whole side-by-side run as text, for assertion messages. */
export function showRun(steps: readonly Step[]): string {
  return steps
    .map((s, i) => `  ${i} vEL${s.el} ${showOp(s.op).padEnd(28)} ref: ${showObs(s.exp).padEnd(40)} impl: ${showObs(s.obs)}${agrees(s.exp, s.obs) ? '' : '   <-- differs'}`)
    .join('\n');
}

/** Index of the first op whose observation does not agree with the reference, or -1. */
export function firstDivergence(steps: readonly Step[]): number {
  return steps.findIndex((s) => !agrees(s.exp, s.obs));
}

/** Fails with the first diverging op and the whole run when the implementation is not exact. */
export function expectExact(steps: readonly Step[], what = ''): void {
  const i = firstDivergence(steps);
  if (i >= 0) {
    const s = steps[i]!;
    throw new Error(
      `${what ? what + ': ' : ''}op ${i} (${showOp(s.op)} at vEL${s.el}) diverges from the reference: ` +
        `expected ${showObs(s.exp)}, got ${showObs(s.obs)}\n${showRun(steps)}`,
    );
  }
}

/** Kinds of the hardware actions of one step, with their cause, as short strings. */
export function actionTags(d: StepDetail | undefined): string[] {
  if (!d) return [];
  return d.actions.map((a) => {
    switch (a.kind) {
      case 'vncr': return `vncr:${a.write ? 'store' : 'load'}:0x${a.offset.toString(16)}`;
      case 'hw': return `hw:${a.write ? 'write' : 'read'}:${a.reg}`;
      case 'trap': return `trap:${a.why}`;
      case 'undefined': return 'undefined';
      case 'host': return `host:${a.what}`;
    }
  });
}
