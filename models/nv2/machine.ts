/**
 * The NV2 machine's state and the context its parts work on.
 *
 * The state is plain records: the hardware (the two EL1 timers, the offset and control registers,
 * the VNCR page) and the host (the guest's register file for whatever is not on the hardware, the
 * interrupt levels and software timers of emulated timers, what the host last published into the
 * page, and the current timer map). Every part of the model — the hardware, the context switch,
 * the page merge and publication, the soft timers, the trap handlers — is a small function over an
 * `Nv2Machine`, and the behaviours a test may want to break are named hooks (hooks.ts).
 */
import type { HwAction, SlotChange } from '../arch/implementation.js';
import type { OffsetRule } from '../arch/offsets.js';
import type { View } from '../arch/registers.js';
import type { El } from '../arch/vocabulary.js';
import type { Nv2Hooks } from './hooks.js';
import type { HostSetup, TimerMap } from './host/timer-map.js';

export interface TimerRegs {
  ctl: bigint;
  cval: bigint;
}

/** The guest state item a VNCR slot holds while the guest hypervisor runs. */
export type SlotItem =
  | { readonly kind: 'timer'; readonly ti: number; readonly view: View; readonly offset: OffsetRule }
  | { readonly kind: 'storage'; readonly si: number }
  | { readonly kind: 'orphan' };

/** A slot of the layout: its key, byte offset, and what it holds in this guest mode. Index = position in the page array. */
export interface Slot {
  readonly key: string;
  readonly offset: number;
  readonly item: SlotItem;
}

export interface HwState {
  /** Per timer index; only the EL1 timers (the hardware's) are used. */
  timers: TimerRegs[];
  cntvoff: bigint;
  cntpoff: bigint;
  /** E2H=1 layout. */
  cnthctl: bigint;
  cntkctl: bigint;
  /** The VNCR page: the value of each slot of the layout, by slot index (every other byte of the page stays 0 and is never accessed). */
  page: bigint[];
}

export interface HostState {
  el: El;
  /** The guest's timers as the host keeps them (the ones on the hardware are there instead). */
  timers: TimerRegs[];
  /** The guest's storage registers, by storage index. */
  sys: bigint[];
  /** Interrupt level the host presents for each emulated timer. */
  level: boolean[];
  /** Software timer deadline (absolute count) of each emulated timer, if armed. */
  soft: (bigint | undefined)[];
  /** Value the host last wrote to each slot, if any: a difference means the guest stored. */
  published: (bigint | undefined)[];
  /** The current placement, derived from the rest of the state at each context load (shared, never copied); undefined between a save and the next load. */
  map: TimerMap | undefined;
}

export interface Nv2State {
  count: bigint;
  hw: HwState;
  host: HostState;
}

/** Fixed for a guest mode and feature set: everything derived from them (shared by every trace of that kind). */
export interface Nv2Setup extends HostSetup {
  readonly name: string;
  readonly nv1: 0 | 1;
  /** The physical CPU has FEAT_ECV_POFF (CNTPOFF_EL2 and CNTHCTL_EL2.ECV). */
  readonly physPoff: boolean;
  /** The bits the hardware CNTKCTL_EL1 implements (the rest are RES0: written, lost). */
  readonly hwCntkctl: bigint;
  /** ~hwCntkctl (the bits of the guest register the hardware one does not hold). */
  readonly notHwCntkctl: bigint;
  /** CNTHCTL_EL2.ECV where it is one of the guest's effective bits and its virtual CPU has FEAT_ECV_POFF, else 0 (see guestPoffInForce). */
  readonly poffEcv: bigint;
  /** Per storage register: the bits that hold state for this guest mode and feature set. */
  readonly writable: readonly bigint[];
  /** Per storage register: the bits an emulated write keeps (the state bits and the RES1 ones as written). */
  readonly kept: readonly bigint[];
  /** Per storage register: its RES1 bits (set at reset). */
  readonly res1: readonly bigint[];
  /** The layout's slots in page order (none without NV2). */
  readonly slots: readonly Slot[];
}

export interface TrapCounters {
  /** Guest-hypervisor timer register accesses (msr/mrs at vEL2). */
  accesses: number;
  /** ...of which trapped to the host. */
  traps: number;
  /** ...of which were served from the VNCR page. */
  vncr: number;
  /** ...of which reached a hardware register. */
  hw: number;
}

/** What the hardware and host did during the current op. */
export interface OpLog {
  actions: HwAction[];
  vncr: SlotChange[];
}

/** What every part of the model works on. */
export interface Nv2Machine {
  readonly setup: Nv2Setup;
  state: Nv2State;
  readonly hooks: Nv2Hooks;
  readonly log: OpLog;
  readonly counters: TrapCounters;
}
