/**
 * The NV2 model's named hooks: the behaviours of the hardware and host that a test may want to
 * break, one function each, with the model's own behaviour as the default. A mutant is a model
 * built with one hook replaced (Nv2Options.hooks), so no production signature carries a parameter
 * for a mutant's sake. Every hook receives the machine first.
 */
import type { OffsetRule } from '../arch/offsets.js';
import type { View } from '../arch/registers.js';
import { ctlRead, viewAccess, writeSlot } from './hardware.js';
import { loadHwConfig, saveTimer, syncHwResident } from './host/context.js';
import { emulatedAccessOffset, storageWritten } from './host/emulate.js';
import { mergePage, mergeSlot, publishedCtl } from './host/page.js';
import { softTimerFired } from './host/entry.js';
import { blockUntil, emulateTimer, emulatedLevel, runTime, softDeadline } from './host/soft-timers.js';
import type { Nv2Machine, Slot, TimerRegs } from './machine.js';

export interface Nv2Hooks {
  // ---- hardware ----
  /** CTL as read: stored bits with ISTATUS from ENABLE and the condition (hardware reads, emulated reads, publication). */
  readonly ctlRead: (m: Nv2Machine, t: TimerRegs, condOffset: bigint) => bigint;
  /** One CTL/CVAL/TVAL access on a set of timer registers (hardware or the host's copy). */
  readonly viewAccess: (m: Nv2Machine, t: TimerRegs, view: View, accessOffset: bigint, condOffset: bigint, value: bigint | undefined, store: 'hw' | 'host') => bigint | undefined;
  /** Write one slot of the VNCR page (a guest store or the host publishing). */
  readonly writeSlot: (m: Nv2Machine, slot: number, value: bigint) => void;
  // ---- host: context switch ----
  /** Copy a hardware timer back into the host's copy of a guest timer. */
  readonly saveTimer: (m: Nv2Machine, guestTimer: number, hwTimer: number) => void;
  /** Program the hardware CNTHCTL_EL2 and offset registers from the timer map. */
  readonly loadHwConfig: (m: Nv2Machine) => void;
  /** Read back the guest register that lives in the hardware CNTKCTL_EL1 in this context. */
  readonly syncHwResident: (m: Nv2Machine) => void;
  /** After an emulated write to a guest storage register (offsets, CNTHCTL_EL2): bring the hardware in line. */
  readonly storageWritten: (m: Nv2Machine, storage: number) => void;
  // ---- host: the page ----
  /** Take in what the guest stored into the page. */
  readonly mergePage: (m: Nv2Machine) => void;
  /** Take in one slot the guest stored into. */
  readonly mergeSlot: (m: Nv2Machine, slot: Slot, value: bigint) => void;
  /** The CTL value the host publishes into a timer's CTL slot. */
  readonly publishedCtl: (m: Nv2Machine, t: TimerRegs, condOffset: bigint) => bigint;
  // ---- host: emulated timers ----
  /** Re-evaluate one emulated timer (its level and software timer). */
  readonly emulateTimer: (m: Nv2Machine, guestTimer: number) => void;
  /** The interrupt level of an emulated timer. */
  readonly emulatedLevel: (m: Nv2Machine, t: TimerRegs, off: bigint) => boolean;
  /** The count at which an emulated timer's software timer fires, if armed. */
  readonly softDeadline: (m: Nv2Machine, t: TimerRegs, off: bigint) => bigint | undefined;
  /** What the host does when a software timer fires. */
  readonly softTimerFired: (m: Nv2Machine, guestTimer: number) => void;
  /** Let time pass while the vCPU runs. */
  readonly runTime: (m: Nv2Machine, by: bigint) => void;
  /** How long a blocked vCPU sleeps (wfi), at most `limit`. */
  readonly blockUntil: (m: Nv2Machine, limit: bigint) => bigint;
  /** The offset an emulated access applies under a name's offset rule. */
  readonly emulatedAccessOffset: (m: Nv2Machine, rule: OffsetRule) => bigint;
}

export type HookName = keyof Nv2Hooks;

export const DEFAULT_HOOKS: Nv2Hooks = Object.freeze({
  ctlRead, viewAccess, writeSlot, saveTimer, loadHwConfig, syncHwResident, storageWritten, mergePage, mergeSlot, publishedCtl,
  emulateTimer, emulatedLevel, softDeadline, softTimerFired, runTime, blockUntil, emulatedAccessOffset,
});
