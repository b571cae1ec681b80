/**
 * Test vocabulary shared by every test: op constructors, irq bits, and independent restatements of
 * the 64/32-bit arithmetic (deliberately not imported from models/arch/bits, so that a test of the
 * models does not check them against themselves).
 */
import { defaultConfig, type Op, type TraceConfig } from '../../models/arch/vocabulary.js';

export const M64 = 1n << 64n;
export const MASK = M64 - 1n;
export const MASK64 = MASK;
export const M32 = 1n << 32n;

/** irq mask bits: bit0 hptimer, bit1 hvtimer, bit2 ptimer, bit3 vtimer. */
export const HP = 1;
export const HV = 2;
export const P = 4;
export const V = 8;

export const mod64 = (x: bigint): bigint => ((x % M64) + M64) % M64;
export const lo32 = (x: bigint): bigint => ((x % M32) + M32) % M32;
export const sx32 = (x: bigint): bigint => {
  const l = lo32(x);
  return l >= 1n << 31n ? mod64(l - M32) : l;
};

export const msr = (reg: string, value: bigint): Op => ({ op: 'msr', reg, value });
export const mrs = (reg: string): Op => ({ op: 'mrs', reg });
export const tick = (by: bigint): Op => ({ op: 'tick', by });
export const preempt = (by: bigint): Op => ({ op: 'preempt', by });
export const wfi = (limit: bigint): Op => ({ op: 'wfi', limit });
export const eret: Op = { op: 'eret' };
export const exit: Op = { op: 'exit' };

export const cfg = (over: Partial<TraceConfig> = {}): TraceConfig => defaultConfig(over);
