/**
 * The NV2 hardware: what an access that is not trapped does. A VNCR slot access is a verbatim
 * 64-bit load or store of the page (nothing else happens); a hardware register access executes on
 * the real EL1 timers and counters with the hardware's offset registers.
 */
import { low32, sext32, u64 } from '../arch/bits.js';
import { e2h1Bit } from '../arch/cnthctl.js';
import { unreachable } from '../arch/errors.js';
import { resolveOffset, type OffsetRule } from '../arch/offsets.js';
import { CTL_ENABLE, CTL_ISTATUS, CTL_WRITABLE, type DefinedMeaning, type View } from '../arch/registers.js';
import { MASK32 } from '../arch/bits.js';
import { canFire, conditionMet } from '../arch/timer-math.js';
import { TIMER_CONDITION } from '../arch/timers.js';
import type { HostFeature } from '../arch/implementation.js';
import type { Nv2Machine, TimerRegs } from './machine.js';

const ECV = e2h1Bit('ECV');
/** CTL bits the host keeps from a write: 32 bits less ISTATUS (as KVM does). */
export const HOST_CTL_BITS = MASK32 & ~CTL_ISTATUS;
/** Every CTL bit but ISTATUS (hoisted: every bigint operation allocates). */
export const NOT_ISTATUS = ~CTL_ISTATUS;

/**
 * The bits the physical CNTKCTL_EL1 implements: [9:0] always, [17] (EVNTIS) with FEAT_ECV, and
 * with FEAT_NV2p1 the ones that hold a VHE guest hypervisor's CNTHCTL_EL2 written through the
 * alias: [11:10], and [16:12] with FEAT_ECV too ([19:18] need FEAT_RME, not modelled). Facts §10.
 */
const CNTKCTL_HW_PARTS: readonly { readonly bits: bigint; readonly needs: readonly HostFeature[] }[] = [
  { bits: 0x3ffn, needs: [] },
  { bits: 1n << 17n, needs: ['ecv'] },
  { bits: 0xc00n, needs: ['nv2p1'] },
  { bits: 0x1f000n, needs: ['ecv', 'nv2p1'] },
];

export function hwCntkctlBits(cpu: readonly HostFeature[]): bigint {
  let m = 0n;
  for (const p of CNTKCTL_HW_PARTS) if (p.needs.every((f) => cpu.includes(f))) m |= p.bits;
  return m;
}

/** The offset the hardware applies under `rule`: its own CNTVOFF_EL2, and CNTPOFF_EL2 when ECV is set and implemented. */
export function hwOffset(m: Nv2Machine, rule: OffsetRule): bigint {
  const hw = m.state.hw;
  // Relative to the guest's count: the hardware count is the VM's counter offset ahead of it.
  return u64(resolveOffset(rule, hw.cntvoff, hw.cntpoff, rule === 'cntpoff' && m.setup.physPoff && (hw.cnthctl & ECV) !== 0n) - m.setup.counterOffset);
}

/** The offset in hardware timer `h`'s condition. */
export const hwTimerOffset = (m: Nv2Machine, h: number): bigint => hwOffset(m, TIMER_CONDITION[h]!);

/** The line of hardware timer `h`. */
export function hwLine(m: Nv2Machine, h: number): boolean {
  const t = m.state.hw.timers[h]!;
  // lineAsserted, with the offset looked up only for a timer that can fire (most are disabled or masked).
  return canFire(t.ctl) && conditionMet(m.state.count, hwTimerOffset(m, h), t.cval);
}

/** Hook default — CTL as read: stored bits with ISTATUS = ENABLE && condition met. */
export function ctlRead(m: Nv2Machine, t: TimerRegs, condOffset: bigint): bigint {
  const met = (t.ctl & CTL_ENABLE) !== 0n && conditionMet(m.state.count, condOffset, t.cval);
  const stored = t.ctl & NOT_ISTATUS;
  return met ? stored | CTL_ISTATUS : stored;
}

/**
 * Hook default — CTL/CVAL/TVAL semantics on one set of timer registers. `store` says how CTL keeps
 * a write: the hardware keeps ENABLE and IMASK only; the host keeps 32 bits less ISTATUS (as KVM does).
 */
export function viewAccess(
  m: Nv2Machine, t: TimerRegs, view: View, accessOffset: bigint, condOffset: bigint, value: bigint | undefined, store: 'hw' | 'host',
): bigint | undefined {
  const count = m.state.count;
  switch (view) {
    case 'ctl':
      if (value !== undefined) {
        t.ctl = store === 'hw' ? value & CTL_WRITABLE : value & HOST_CTL_BITS;
        return undefined;
      }
      return m.hooks.ctlRead(m, t, condOffset);
    case 'cval':
      if (value !== undefined) {
        t.cval = value;
        return undefined;
      }
      return t.cval;
    case 'tval':
      if (value !== undefined) {
        t.cval = u64(count - accessOffset + sext32(value));
        return undefined;
      }
      return low32(t.cval - (count - accessOffset));
    default:
      return unreachable(view, 'view');
  }
}

/** An access that reached a hardware EL1 register directly. */
export function hwAccess(m: Nv2Machine, mn: DefinedMeaning, value: bigint | undefined): bigint | undefined {
  const hw = m.state.hw;
  switch (mn.kind) {
    case 'timer':
      return m.hooks.viewAccess(m, hw.timers[mn.ti]!, mn.view, hwOffset(m, mn.offset), hwTimerOffset(m, mn.ti), value, 'hw');
    case 'storage':
      // Only CNTKCTL_EL1 is reachable at EL1; the physical register keeps the bits it implements.
      if (value !== undefined) {
        hw.cntkctl = value & m.setup.hwCntkctl;
        return undefined;
      }
      return hw.cntkctl;
    case 'counter': return u64(m.state.count - hwOffset(m, mn.offset));
    default:
      return unreachable(mn, 'meaning');
  }
}

/** Hook default — write one slot of the page (a guest store, or the host publishing); the change is logged. */
export function writeSlot(m: Nv2Machine, slot: number, value: bigint): void {
  const page = m.state.hw.page;
  const before = page[slot]!;
  page[slot] = value;
  if (before !== value) {
    const s = m.setup.slots[slot]!;
    m.log.vncr.push({ offset: s.offset, key: s.key, before, after: value });
  }
}
