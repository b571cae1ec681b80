/**
 * The host's trap policy while the guest hypervisor runs, as data the checker can read too:
 * the contract (deferred) judges "served from the VNCR page" with the same routing the hardware uses.
 */
import type { GuestMode } from '../../src/trace/types.js';
import type { Layout } from '../layout.js';
import type { RouteContext } from './routing.js';

/** CNTHCTL_EL2 fields in the E2H=1 layout (facts §1.5). */
export const CNTHCTL_E2H = {
  EL1PCTEN: 10, EL1PTEN: 11, ECV: 12, EL1TVT: 13, EL1TVCT: 14, EL1NVPCT: 15, EL1NVVCT: 16,
} as const;
const b = (n: number): bigint => 1n << BigInt(n);

/**
 * Hardware CNTHCTL_EL2 while vEL2 runs. The guest hypervisor reaches the hardware physical timer
 * and counter directly (EL1PTEN, EL1PCTEN); CNTPOFF is off (ECV=0) because the EL2 timers have no
 * offset. With ECV traps (KVM's timer_set_traps): a VHE guest hypervisor's _EL02 CTL/CVAL trap
 * (EL1NVPCT, EL1NVVCT); a non-VHE one's CNTV_*_EL0 and CNTVCT trap (EL1TVT, EL1TVCT) and its
 * CNTP_*_EL0 trap (EL1PTEN clear). `trapPhysTimer`: a non-VHE guest hypervisor's EL1 physical
 * timer compares against count - CNTPOFF_EL2 while its TVAL view and CNTPCT_EL0 at EL2 use the
 * raw count; no hardware setting gives both at EL1, so the host traps that timer (EL1PTEN clear)
 * and emulates it while the offset is in force. The checker's static routing assumes it is off.
 */
export function vel2HostCnthctl(guest: GuestMode, hostEcvTraps: boolean, physEcv: boolean, trapPhysTimer = false): bigint {
  let v = (trapPhysTimer ? 0n : b(CNTHCTL_E2H.EL1PTEN)) | b(CNTHCTL_E2H.EL1PCTEN);
  if (hostEcvTraps && physEcv) {
    if (guest === 'vhe') v |= b(CNTHCTL_E2H.EL1NVPCT) | b(CNTHCTL_E2H.EL1NVVCT);
    else v = (v & ~b(CNTHCTL_E2H.EL1PTEN)) | b(CNTHCTL_E2H.EL1TVT) | b(CNTHCTL_E2H.EL1TVCT);
  }
  return v;
}

export interface HostSetup {
  readonly guest: GuestMode;
  readonly guestEcv: boolean;
  readonly hostEcvTraps: boolean;
  readonly nv2: boolean;
  readonly layout: Layout;
}

/** A virtual CPU with FEAT_ECV needs it in hardware; ECV traps need it too. */
export const physicalEcv = (s: Pick<HostSetup, 'guestEcv' | 'hostEcvTraps'>): boolean => s.guestEcv || s.hostEcvTraps;

/** How the hardware routes the guest hypervisor's accesses (at vEL2) under this host. */
export function vel2RouteContext(s: HostSetup): RouteContext {
  const physEcv = physicalEcv(s);
  return {
    nv: true, nv2: s.nv2, nv1: s.guest === 'nvhe' ? 1 : 0,
    cnthctl: vel2HostCnthctl(s.guest, s.hostEcvTraps, physEcv), physEcv, layout: s.layout,
  };
}
