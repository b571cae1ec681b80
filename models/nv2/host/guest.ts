/** The guest's state as the host keeps it: effective values, offsets, and where a timer's registers live now. */
import { e2h1Bit } from '../../arch/cnthctl.js';
import { resolveOffset, type OffsetRule } from '../../arch/offsets.js';
import { HCR_TGE } from '../../arch/registers.js';
import { TIMER_CONDITION } from '../../arch/timers.js';
import type { Nv2Machine, TimerRegs } from '../machine.js';

const ECV = e2h1Bit('ECV');

/** The effective bits of guest storage register `si`. */
export const guestEffective = (m: Nv2Machine, si: number): bigint => m.state.host.sys[si]! & m.setup.writable[si]!;

/** CNTPOFF_EL2 is in force for the guest: its virtual CPU has FEAT_ECV_POFF, its CNTHCTL_EL2.ECV is 1 and its HCR_EL2.TGE is 0. */
export const guestPoffInForce = (m: Nv2Machine): boolean => {
  // setup.poffEcv: ECV among CNTHCTL_EL2's effective bits, and 0 without FEAT_ECV_POFF.
  const c = m.setup.table.core, ecv = m.setup.poffEcv, sys = m.state.host.sys;
  return ecv !== 0n && (sys[c.cnthctl]! & ecv) !== 0n && (sys[c.hcr]! & HCR_TGE) === 0n;
};

/** Nv2Setup.poffEcv for a setup: CNTHCTL_EL2.ECV if it is effective for a guest with FEAT_ECV_POFF, else 0. */
export const poffEcvBit = (guestHas: (f: 'ecv-poff') => boolean, cnthctlWritable: bigint): bigint =>
  guestHas('ecv-poff') ? cnthctlWritable & ECV : 0n;

/** The offset `rule` selects in the guest's view (the architecture's, on the host's copy of the guest state). */
export function guestOffset(m: Nv2Machine, rule: OffsetRule): bigint {
  const sys = m.state.host.sys, c = m.setup.table.core;
  return resolveOffset(rule, sys[c.cntvoff]!, sys[c.cntpoff]!, rule === 'cntpoff' && guestPoffInForce(m));
}

/** The offset in guest timer `i`'s condition. */
export const guestTimerOffset = (m: Nv2Machine, i: number): bigint => guestOffset(m, TIMER_CONDITION[i]!);

/** The hardware timer guest timer `i` is on in the current context, or -1. */
export const hwTimerOf = (m: Nv2Machine, i: number): number => m.state.host.map?.on[i] ?? -1;

/** The registers of guest timer `i` wherever they live now: on a hardware timer or in the host's copy. */
export function timerRegs(m: Nv2Machine, i: number): TimerRegs {
  const h = hwTimerOf(m, i);
  return h >= 0 ? m.state.hw.timers[h]! : m.state.host.timers[i]!;
}

/** The host's log of what it did during the current op. */
export function note(m: Nv2Machine, what: string): void {
  m.log.actions.push({ kind: 'host', what });
}
