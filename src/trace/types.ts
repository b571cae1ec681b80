/**
 * The public trace vocabulary (shared/spec/trace-format.md, nvconform-trace/1) as closed unions.
 * Everything here is plain data; 64-bit quantities are bigints in [0, 2^64).
 */

export type GuestMode = 'vhe' | 'nvhe';
export type Feature = 'ecv';
export const FEATURES: readonly Feature[] = ['ecv'];

/** The four timers, in the sorted order the `irq` list uses. Index = bit in an irq mask. */
export const TIMERS = ['hptimer', 'hvtimer', 'ptimer', 'vtimer'] as const;
export type TimerId = (typeof TIMERS)[number];
export const TIMER_INDEX: Readonly<Record<TimerId, number>> = { hptimer: 0, hvtimer: 1, ptimer: 2, vtimer: 3 };
/** Interrupt IDs (PPIs) of the timers, as KVM assigns them by default. */
export const TIMER_PPI: Readonly<Record<TimerId, number>> = { hptimer: 26, hvtimer: 28, ptimer: 30, vtimer: 27 };

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

export type FaultKind = 'undefined' | 'trap';

/**
 * What one op produced. `irq` is a 4-bit mask over TIMERS (bit i = TIMERS[i] asserted).
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

export function irqList(mask: number): TimerId[] {
  const out: TimerId[] = [];
  for (let i = 0; i < TIMERS.length; i++) if (mask & (1 << i)) out.push(TIMERS[i]!);
  return out;
}

export function defaultConfig(over: Partial<TraceConfig> = {}): TraceConfig {
  return { guest: 'vhe', features: [], count: 0n, init: {}, ...over };
}

export const hasFeature = (c: TraceConfig, f: Feature): boolean => c.features.includes(f);
