/**
 * The context switch: the guest timers the map puts on the hardware are loaded into the hardware
 * EL1 timers on entry to a context and saved back into the host's copy on leaving it; the
 * hardware CNTHCTL_EL2, offsets and CNTKCTL_EL1 are set from the map.
 */
import { CTL_WRITABLE } from '../../arch/registers.js';
import { NTIMERS } from '../../arch/timers.js';
import type { Nv2Machine } from '../machine.js';
import { u64 } from '../../arch/bits.js';
import { guestEffective, guestOffset } from './guest.js';
import { timerMapOf } from './timer-map.js';

/** Hook default — the guest register the hardware CNTKCTL_EL1 holds in this context is read back from it. */
export function syncHwResident(m: Nv2Machine): void {
  const map = m.state.host.map;
  if (!map) return;
  // Only the bits the hardware register holds: the rest are the host's (written through a trap) or lost.
  const keep = m.setup.hwCntkctl, sys = m.state.host.sys;
  sys[map.cntkctl] = (sys[map.cntkctl]! & m.setup.notHwCntkctl) | (m.state.hw.cntkctl & keep);
}

/** Hook default — one hardware timer back into the host's copy of guest timer `i`. */
export function saveTimer(m: Nv2Machine, i: number, h: number): void {
  // In place: nothing keeps a reference to a context's registers across a context switch.
  const from = m.state.hw.timers[h]!;
  const to = m.state.host.timers[i]!;
  to.ctl = from.ctl & CTL_WRITABLE;
  to.cval = u64(from.cval - (m.state.host.map?.cvalBias[h] ?? 0n));
}

/** Hardware timers and registers back into the host's copy of the guest state; nothing is on the hardware afterwards. */
export function saveContext(m: Nv2Machine): void {
  m.hooks.syncHwResident(m);
  const map = m.state.host.map;
  if (map) for (let i = 0; i < NTIMERS; i++) if (map.on[i]! >= 0) m.hooks.saveTimer(m, i, map.on[i]!);
  m.state.host.map = undefined;
}

/** Hook default — the hardware CNTHCTL_EL2 and offset registers, as the map says. */
export function loadHwConfig(m: Nv2Machine): void {
  const map = m.state.host.map!, hw = m.state.hw, sys = m.state.host.sys, c = m.setup.table.core, vm = m.setup.counterOffset;
  hw.cnthctl = map.cnthctl;
  // The hardware count runs the VM's counter offset ahead of the guest's: every offset register carries it too.
  hw.cntvoff = u64(vm + (map.cntvoff === 'guest' ? sys[c.cntvoff]! : 0n));
  hw.cntpoff = u64(vm + (map.cntpoff === 'guest' ? guestOffset(m, 'cntpoff') : 0n));
}

/** Derive the timer map of the current context from the guest's state, and load what it puts on the hardware. */
export function loadContext(m: Nv2Machine): void {
  const host = m.state.host;
  // What the map depends on (GuestFacts), passed as values.
  const c = m.setup.table.core;
  const map = timerMapOf(m.setup, host.el, host.sys[c.cntvoff]!, guestOffset(m, 'cntpoff'), guestEffective(m, c.cnthctl));
  host.map = map;
  for (let i = 0; i < NTIMERS; i++) {
    const h = map.on[i]!;
    if (h < 0) continue;
    const from = host.timers[i]!;
    const to = m.state.hw.timers[h]!;
    to.ctl = from.ctl & CTL_WRITABLE;
    to.cval = u64(from.cval + map.cvalBias[h]!);
  }
  m.hooks.loadHwConfig(m);
  m.state.hw.cntkctl = host.sys[map.cntkctl]! & m.setup.hwCntkctl;
}

