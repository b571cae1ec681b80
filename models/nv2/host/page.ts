/**
 * The VNCR page as the host sees it. On every entry from the running guest hypervisor the host
 * takes in what the guest stored there since it last published; after handling anything it
 * publishes the guest's current state (ISTATUS included) back into the page.
 */
import { sext32, u64, low32 } from '../../arch/bits.js';
import { unreachable } from '../../arch/errors.js';
import { CTL_ISTATUS, CTL_WRITABLE } from '../../arch/registers.js';
import { HOST_CTL_BITS, NOT_ISTATUS, hwTimerOffset } from '../hardware.js';
import type { Nv2Machine, Slot, TimerRegs } from '../machine.js';
import { guestOffset, guestTimerOffset, hwTimerOf, timerRegs } from './guest.js';

/** Hook default — every slot whose value differs from what the host last published was stored by the guest. */
export function mergePage(m: Nv2Machine): void {
  const { page } = m.state.hw, { published } = m.state.host, slots = m.setup.slots;
  for (let i = 0; i < slots.length; i++) {
    const v = page[i]!;
    if (published[i] === v) continue;
    m.hooks.mergeSlot(m, slots[i]!, v);
  }
}

/** Hook default — a value the guest stored in a slot becomes the guest's register value. */
export function mergeSlot(m: Nv2Machine, s: Slot, v: bigint): void {
  const item = s.item;
  switch (item.kind) {
    case 'orphan': return;
    case 'storage':
      m.state.host.sys[item.si] = v;
      return;
    case 'timer': {
      const onHw = hwTimerOf(m, item.ti) >= 0;
      const t = timerRegs(m, item.ti);
      switch (item.view) {
        case 'ctl':
          t.ctl = onHw ? v & CTL_WRITABLE : v & HOST_CTL_BITS;
          return;
        case 'cval':
          t.cval = v;
          return;
        case 'tval':
          // A TVAL slot's most sensible meaning: relative to the count when the host looks.
          t.cval = u64(m.state.count - guestOffset(m, item.offset) + sext32(v));
          return;
        default:
          return unreachable(item.view, 'view');
      }
    }
    default:
      return unreachable(item, 'slot item');
  }
}

/** Hook default — CTL as published into the page: ISTATUS = ENABLE && condition met (architecturally, IMASK plays no part). */
export function publishedCtl(m: Nv2Machine, t: TimerRegs, condOffset: bigint): bigint {
  return m.hooks.ctlRead(m, t, condOffset);
}

/** The value a slot should show for the guest's current state (`which`: the timers the host just evaluated, for a level-publishing host). */
function slotValue(m: Nv2Machine, s: Slot, slot: number, which: 'all' | number): bigint | undefined {
  const item = s.item;
  switch (item.kind) {
    case 'orphan': return undefined;
    case 'storage': return m.state.host.sys[item.si];
    case 'timer': {
      const i = item.ti;
      const h = hwTimerOf(m, i);
      const t = h >= 0 ? m.state.hw.timers[h]! : m.state.host.timers[i]!;
      switch (item.view) {
        case 'ctl':
          if (m.setup.policy.istatus === 'level' && h < 0) {
            // kvm_timer_update_status: ISTATUS := the level, written only when the host evaluates the timer.
            const ist = which === 'all' || which === i ? (m.state.host.level[i] ? CTL_ISTATUS : 0n) : m.state.hw.page[slot]! & CTL_ISTATUS;
            return (t.ctl & NOT_ISTATUS) | ist;
          }
          return m.hooks.publishedCtl(m, t, h >= 0 ? hwTimerOffset(m, h) : guestTimerOffset(m, i));
        case 'cval': return t.cval;
        case 'tval': return low32(t.cval - (m.state.count - guestOffset(m, item.offset)));
        default:
          return unreachable(item.view, 'view');
      }
    }
    default:
      return unreachable(item, 'slot item');
  }
}

/** Write the guest's current state into every slot (only while the guest hypervisor's page is live). */
export function publish(m: Nv2Machine, which: 'all' | number = 'all'): void {
  if (m.state.host.el !== 2) return;
  const slots = m.setup.slots, published = m.state.host.published;
  for (let i = 0; i < slots.length; i++) {
    const v = slotValue(m, slots[i]!, i, which);
    if (v === undefined) continue;
    m.hooks.writeSlot(m, i, v);
    published[i] = v;
  }
}

