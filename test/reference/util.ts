/** Small helpers for driving the reference model through its public API in tests. */
import { ReferenceModel } from '../../models/reference/reference.js';
import { defaultConfig, type Expectation, type Op, type TraceConfig } from '../../models/arch/vocabulary.js';

export const M64 = 1n << 64n;
export const MASK = M64 - 1n;
export const M32 = 1n << 32n;

/** irq mask bits: bit0 hptimer, bit1 hvtimer, bit2 ptimer, bit3 vtimer. */
export const HP = 1;
export const HV = 2;
export const P = 4;
export const V = 8;

/** Independent restatements of the 64/32-bit arithmetic (deliberately not imported from src/bits). */
export const mod64 = (x: bigint): bigint => ((x % M64) + M64) % M64;
export const lo32 = (x: bigint): bigint => ((x % M32) + M32) % M32;
export const sx32 = (x: bigint): bigint => {
  const l = lo32(x);
  return l >= 1n << 31n ? mod64(l - M32) : l;
};

export function mk(over: Partial<TraceConfig> = {}): ReferenceModel {
  return new ReferenceModel(defaultConfig(over));
}

export const msr = (reg: string, value: bigint): Op => ({ op: 'msr', reg, value });
export const mrs = (reg: string): Op => ({ op: 'mrs', reg });
export const tick = (by: bigint): Op => ({ op: 'tick', by });
export const preempt = (by: bigint): Op => ({ op: 'preempt', by });
export const wfi = (limit: bigint): Op => ({ op: 'wfi', limit });
export const eret: Op = { op: 'eret' };
export const exit: Op = { op: 'exit' };

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
