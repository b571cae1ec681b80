/**
 * The public trace vocabulary (docs/trace-format.md, nvconform-trace/1) as closed unions: what a
 * guest can do (ops) and see (observations), and the configuration of its virtual CPU.
 * Everything here is plain data; 64-bit quantities are bigints in [0, 2^64).
 */
export { TIMERS, TIMER_INDEX, TIMER_PPI, irqList, type TimerId } from './timers.js';

export type GuestMode = 'vhe' | 'nvhe';
export const GUEST_MODES: readonly GuestMode[] = ['vhe', 'nvhe'];
export type Feature = 'ecv';
export const FEATURES: readonly Feature[] = ['ecv'];

/** The vCPU's exception level as the guest believes it: the guest hypervisor at vEL2, its nested guest at vEL1. */
export type El = 1 | 2;

export interface TraceConfig {
  readonly guest: GuestMode;
  readonly features: readonly Feature[];
  /** Physical count (CNTPCT as seen at EL2) when the trace starts. */
  readonly count: bigint;
  /** Starting values of writable registers, by their vEL2 name. */
  readonly init: Readonly<Record<string, bigint>>;
}

export type Op =
  | { readonly op: 'msr'; readonly reg: string; readonly value: bigint }
  | { readonly op: 'mrs'; readonly reg: string }
  | { readonly op: 'tick'; readonly by: bigint }
  | { readonly op: 'preempt'; readonly by: bigint }
  | { readonly op: 'wfi'; readonly limit: bigint }
  | { readonly op: 'eret' }
  | { readonly op: 'exit' };
export type OpKind = Op['op'];
export const OP_KINDS: readonly OpKind[] = ['msr', 'mrs', 'tick', 'preempt', 'wfi', 'eret', 'exit'];

export type FaultKind = 'undefined' | 'trap';
export const FAULT_KINDS: readonly FaultKind[] = ['undefined', 'trap'];

/**
 * What one op produced. `irq` is a mask over TIMERS (bit i = TIMERS[i] asserted).
 * An implementation's observation never has `unknown`.
 */
export interface Observation {
  irq: number;
  value?: bigint;
  fault?: FaultKind;
  elapsed?: bigint;
}

/** The architecture's answer for one op: an observation plus the UNKNOWN bits of `value`. */
export interface Expectation extends Observation {
  unknown?: bigint;
}

export interface Trace {
  readonly config: TraceConfig;
  readonly ops: readonly Op[];
  readonly observations?: readonly (Observation | Expectation)[];
}

export const TRACE_FORMAT = 'nvconform-trace/1';

export function defaultConfig(over: Partial<TraceConfig> = {}): TraceConfig {
  return { guest: 'vhe', features: [], count: 0n, init: {}, ...over };
}

export const hasFeature = (c: TraceConfig, f: Feature): boolean => c.features.includes(f);

