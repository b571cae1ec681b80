/**
 * The tests' one oracle: the trace format's agreement rule, restated independently of
 * properties/compare.ts (irq, fault and elapsed equal; value equal outside the expectation's
 * `unknown` mask), and readable text for assertion messages.
 */
import type { StepDetail } from '../../models/arch/implementation.js';
import { irqList, type El, type Expectation, type Observation, type Op } from '../../models/arch/vocabulary.js';
import { MASK } from './ops.js';

/** Does an observation agree with the architecture's expectation? */
export function agrees(exp: Expectation, obs: Observation): boolean {
  if (exp.irq !== obs.irq || exp.fault !== obs.fault || exp.elapsed !== obs.elapsed) return false;
  if (exp.value === undefined) return obs.value === undefined;
  if (obs.value === undefined) return false;
  return ((exp.value ^ obs.value) & ~(exp.unknown ?? 0n) & MASK) === 0n;
}

/** One op executed on both sides. */
export interface Step {
  readonly op: Op;
  /** The vCPU's EL before the op, per the reference. */
  readonly el: El;
  readonly exp: Expectation;
  readonly obs: Observation;
  readonly detail: StepDetail | undefined;
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
