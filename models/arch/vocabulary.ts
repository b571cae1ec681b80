/**
 * The public trace vocabulary (docs/trace-format.md, nvconform-trace/1) as closed unions: what a
 * guest can do (ops) and see (observations), and the configuration of its virtual CPU.
 * Everything here is plain data; 64-bit quantities are bigints in [0, 2^64).
 */
export { TIMERS, TIMER_INDEX, TIMER_PPI, irqList, type TimerId } from './timers.js';

export type GuestMode = 'vhe' | 'nvhe';
export const GUEST_MODES: readonly GuestMode[] = ['vhe', 'nvhe'];
/**
 * Features of the virtual CPU a trace may name: FEAT_ECV (`ecv`), FEAT_ECV_POFF (`ecv-poff`: CNTPOFF_EL2
 * and CNTHCTL_EL2.ECV), FEAT_WFxT (`wfxt`: the WFIT instruction), FEAT_VHE (`vhe`).
 */
export type Feature = 'ecv' | 'ecv-poff' | 'wfxt' | 'vhe';
export const FEATURES: readonly Feature[] = ['ecv', 'ecv-poff', 'wfxt', 'vhe'];
/** Features a config may name as absent: the ones implied unless named so (see cpuFeatures). */
export const ABSENT_FEATURES: readonly Feature[] = ['vhe', 'ecv-poff'];

/** The vCPU's exception level as the guest believes it: the guest hypervisor at vEL2, its nested guest at vEL1. */
export type El = 1 | 2;

export interface TraceConfig {
  readonly guest: GuestMode;
  readonly features: readonly Feature[];
  /** Physical count (CNTPCT as seen at EL2) when the trace starts. */
  readonly count: bigint;
  /** Starting values of writable registers, by their vEL2 name. */
  readonly init: Readonly<Record<string, bigint>>;
  /** Features the virtual CPU lacks that it would otherwise have (see cpuFeatures). Default none. */
  readonly absent?: readonly Feature[];
}

export type Op =
  | { readonly op: 'msr'; readonly reg: string; readonly value: bigint }
  | { readonly op: 'mrs'; readonly reg: string }
  | { readonly op: 'tick'; readonly by: bigint }
  | { readonly op: 'preempt'; readonly by: bigint }
  | { readonly op: 'wfi'; readonly limit: bigint }
  /** WFIT (FEAT_WFxT): idle until an interrupt line is asserted or the virtual count, as CNTVCT_EL0 reads at the current EL, reaches `deadline`. */
  | { readonly op: 'wfit'; readonly deadline: bigint }
  | { readonly op: 'eret' }
  | { readonly op: 'exit' };
export type OpKind = Op['op'];
export const OP_KINDS: readonly OpKind[] = ['msr', 'mrs', 'tick', 'preempt', 'wfi', 'wfit', 'eret', 'exit'];

/**
 * The versions of the trace vocabulary. The format stays `nvconform-trace/1` (later versions only
 * add), but an implementation written for the first one does not know the names, ops and config
 * fields added since, so the checker generates for it only what its version has. Registers carry
 * the version that added them in the register table (`since`).
 */
export type Vocabulary = 1 | 2;
export const VOCABULARY: Vocabulary = 2;

export interface VocabularyRow {
  /** The ops it has. */
  readonly ops: readonly OpKind[];
  /** The virtual-CPU features a config may name. */
  readonly features: readonly Feature[];
  /** Whether a config may name absent features. */
  readonly absent: boolean;
}

export const VOCABULARIES: Readonly<Record<Vocabulary, VocabularyRow>> = {
  1: { ops: ['msr', 'mrs', 'tick', 'preempt', 'wfi', 'eret', 'exit'], features: ['ecv', 'ecv-poff', 'vhe'], absent: false },
  2: { ops: ['msr', 'mrs', 'tick', 'preempt', 'wfi', 'wfit', 'eret', 'exit'], features: ['ecv', 'ecv-poff', 'wfxt', 'vhe'], absent: true },
};

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

/**
 * The features the virtual CPU has. What a config names, and what nvconform-trace/1 has always
 * implied: FEAT_VHE unless `absent` names `vhe`; FEAT_ECV_POFF with FEAT_ECV unless `absent` names
 * `ecv-poff` (the first version modelled FEAT_ECV with CNTPOFF_EL2); `ecv-poff` implies `ecv`.
 */
export function cpuFeatures(c: Pick<TraceConfig, 'features' | 'absent'>): Feature[] {
  const bits = cpuFeatureBits(c);
  return FEATURES.filter((_, i) => (bits & (1 << i)) !== 0);
}

const FEATURE_BIT = Object.fromEntries(FEATURES.map((f, i) => [f, 1 << i])) as Record<Feature, number>;

/** cpuFeatures as a bit set (bit i: FEATURES[i]), without allocating: the per-trace caches key on it. */
export function cpuFeatureBits(c: Pick<TraceConfig, 'features' | 'absent'>): number {
  let bits = 0, absent = 0;
  for (const f of c.features) bits |= FEATURE_BIT[f];
  if (c.absent) for (const f of c.absent) absent |= FEATURE_BIT[f];
  if (!(absent & FEATURE_BIT.vhe)) bits |= FEATURE_BIT.vhe;
  if (bits & FEATURE_BIT['ecv-poff']) bits |= FEATURE_BIT.ecv;
  if (bits & FEATURE_BIT.ecv && !(absent & FEATURE_BIT['ecv-poff'])) bits |= FEATURE_BIT['ecv-poff'];
  return bits;
}

/** A trace's guest mode and virtual-CPU features as one small number: equal keys, equal setups (a cache key). */
export const setupKey = (c: Pick<TraceConfig, 'guest' | 'features' | 'absent'>): number => cpuFeatureBits(c) * 2 + (c.guest === 'vhe' ? 1 : 0);

export const hasFeature = (c: TraceConfig, f: Feature): boolean => cpuFeatures(c).includes(f);

