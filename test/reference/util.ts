/** Helpers for driving the reference model through its public API in tests (the shared vocabulary is in ../support). */
import { ReferenceModel } from '../../models/reference/reference.js';
import { defaultConfig, type Expectation, type Op, type TraceConfig } from '../../models/arch/vocabulary.js';

export { HP, HV, M32, M64, MASK, P, V, eret, exit, lo32, mod64, mrs, msr, preempt, sx32, tick, wfi } from '../support/ops.js';
import { mrs, msr } from '../support/ops.js';

export function mk(over: Partial<TraceConfig> = {}): ReferenceModel {
  return new ReferenceModel(defaultConfig(over));
}

/** Read a register that must not fault; returns the whole expectation. */
export function rdx(m: ReferenceModel, reg: string): Expectation {
  const e = m.step(mrs(reg));
  if (e.fault !== undefined) throw new Error(`mrs ${reg} at vEL${m.el}: unexpected fault '${e.fault}'`);
  if (e.value === undefined) throw new Error(`mrs ${reg}: no value`);
  return e;
}

/** Read a register that must not fault and whose value has no UNKNOWN bits. */
export function rd(m: ReferenceModel, reg: string): bigint {
  const e = rdx(m, reg);
  if (e.unknown !== undefined && e.unknown !== 0n) throw new Error(`mrs ${reg}: unexpected unknown mask 0x${e.unknown.toString(16)}`);
  return e.value!;
}

/** Write a register; the write must not fault. */
export function wr(m: ReferenceModel, reg: string, value: bigint): Expectation {
  const e = m.step(msr(reg, value));
  if (e.fault !== undefined) throw new Error(`msr ${reg} at vEL${m.el}: unexpected fault '${e.fault}'`);
  return e;
}

/** Run several ops, returning the last expectation. */
export function run(m: ReferenceModel, ...ops: Op[]): Expectation {
  let last: Expectation = { irq: m.irqMask() };
  for (const op of ops) last = m.step(op);
  return last;
}
