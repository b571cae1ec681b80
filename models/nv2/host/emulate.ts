/**
 * The host's trap handlers: an access the hardware trapped is emulated with its architectural
 * meaning on the guest's state, wherever that state lives (a hardware timer or the host's copy);
 * a nested-guest access the guest hypervisor asked to trap is forwarded to it.
 */
import { u64 } from '../../arch/bits.js';
import { unreachable } from '../../arch/errors.js';
import type { OffsetRule } from '../../arch/offsets.js';
import { trapFires, type DefinedMeaning, type RegisterRow } from '../../arch/registers.js';
import type { Observation } from '../../arch/vocabulary.js';
import { hwTimerOffset } from '../hardware.js';
import type { Nv2Machine } from '../machine.js';
import { guestEffective, guestOffset, guestTimerOffset, hwTimerOf, note, timerRegs } from './guest.js';
import { afterHostWork, hostEntry, reconfigure, switchTo } from './entry.js';

/** The host's irq mask, supplied by the model (hardware lines and emulated levels). */
export type IrqOf = (m: Nv2Machine) => number;

/** An access from the guest hypervisor that trapped to the host. */
export function trapFromVel2(m: Nv2Machine, row: RegisterRow, value: bigint | undefined, irq: IrqOf): Observation {
  hostEntry(m);
  const mn = row.vel2[m.setup.guest];
  const event = value === undefined ? 'trap-read' : 'trap-write';
  if (mn.kind === 'undefined' || (row.feature && !m.setup.guestHas(row.feature))) {
    note(m, 'inject UNDEFINED');
    afterHostWork(m, 'trap-read');
    return { irq: irq(m), fault: 'undefined' };
  }
  const out = emulate(m, mn, value);
  afterHostWork(m, event, mn.kind === 'timer' ? mn.ti : -1);
  return out === undefined ? { irq: irq(m) } : { irq: irq(m), value: out };
}

/** A nested-guest access trapped by the hardware: forwarded to the guest hypervisor if its CNTHCTL_EL2 asks, else emulated. */
export function trapFromVel1(m: Nv2Machine, row: RegisterRow, value: bigint | undefined, irq: IrqOf): Observation {
  const s = m.setup;
  if (row.feature && !s.guestHas(row.feature)) {
    hostEntry(m);
    note(m, 'inject UNDEFINED');
    afterHostWork(m, 'trap-read');
    return { irq: irq(m), fault: 'undefined' };
  }
  const guestCnthctl = guestEffective(m, s.table.core.cnthctl);
  const e2h = s.guest === 'vhe';
  if (row.el1Traps.some((r) => trapFires(r, guestCnthctl, e2h, s.guestHas, false))) {
    note(m, 'forward trap to the guest hypervisor');
    switchTo(m, 2);
    return { irq: irq(m), fault: 'trap' };
  }
  hostEntry(m);
  const out = row.vel1.kind === 'undefined' ? undefined : emulate(m, row.vel1, value);
  afterHostWork(m, value === undefined ? 'trap-read' : 'trap-write', row.vel1.kind === 'timer' ? row.vel1.ti : -1);
  return out === undefined ? { irq: irq(m) } : { irq: irq(m), value: out };
}

/** Hook default — after an emulated write to a guest storage register: re-derive the map and the hardware configuration. */
export function storageWritten(m: Nv2Machine, _si: number): void {
  reconfigure(m);
}

/** Hook default — the offset an emulated TVAL access applies: the guest's, by the name's rule. */
export const emulatedAccessOffset = (m: Nv2Machine, rule: OffsetRule): bigint => guestOffset(m, rule);

/** Emulate an access with its architectural meaning on the guest state (wherever it lives). */
export function emulate(m: Nv2Machine, mn: DefinedMeaning, value: bigint | undefined): bigint | undefined {
  const host = m.state.host;
  switch (mn.kind) {
    case 'timer': {
      const h = hwTimerOf(m, mn.ti);
      const bias = h >= 0 ? m.state.host.map!.cvalBias[h]! : 0n;
      if (bias !== 0n) {
        // The hardware holds CVAL shifted by the offset it cannot apply: save, access, restore (KVM's
        // kvm_arm_timer_{read,write}_sysreg around timer_save_state / timer_restore_state).
        const hw = m.state.hw.timers[h]!;
        const t = { ctl: hw.ctl, cval: u64(hw.cval - bias) };
        const out = m.hooks.viewAccess(m, t, mn.view, m.hooks.emulatedAccessOffset(m, mn.offset), guestTimerOffset(m, mn.ti), value, 'hw');
        hw.ctl = t.ctl;
        hw.cval = u64(t.cval + bias);
        return out;
      }
      const cond = h >= 0 ? hwTimerOffset(m, h) : guestTimerOffset(m, mn.ti);
      return m.hooks.viewAccess(m, timerRegs(m, mn.ti), mn.view, m.hooks.emulatedAccessOffset(m, mn.offset), cond, value, h >= 0 ? 'hw' : 'host');
    }
    case 'storage':
      if (value === undefined) return host.sys[mn.si];
      host.sys[mn.si] = value & m.setup.kept[mn.si]!;
      if (mn.si === host.map?.cntkctl) m.state.hw.cntkctl = host.sys[mn.si]!;
      m.hooks.storageWritten(m, mn.si);
      return undefined;
    case 'counter': return u64(m.state.count - guestOffset(m, mn.offset));
    default:
      return unreachable(mn, 'meaning');
  }
}
