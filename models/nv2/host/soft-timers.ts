/**
 * Emulated timers: the interrupt level the host presents for each guest timer that is not on the
 * hardware, the software timer that fires at its next condition change, letting time pass while
 * the vCPU runs, and how long a blocked vCPU sleeps.
 */
import { MASK64, u64 } from '../../arch/bits.js';
import { ImplementationError, unreachable } from '../../arch/errors.js';
import { CTL_ENABLE } from '../../arch/registers.js';
import { canFire, conditionMet, countsUntilAsserted, countsUntilConditionChanges, lineAsserted } from '../../arch/timer-math.js';
import { NTIMERS, TIMERS } from '../../arch/timers.js';
import type { Nv2Machine, TimerRegs } from '../machine.js';
import { guestOffset, guestTimerOffset, hwTimerOf, note } from './guest.js';

/** Software timer firings one tick may cause before the host is judged to be spinning. */
export const RUN_FIRING_LIMIT = 64;

/** Emulated timers: interrupt level and software timer from the guest's current registers — all of them, or only timer `which` (-1: none). */
export function evaluate(m: Nv2Machine, which: 'all' | number = 'all'): void {
  const host = m.state.host;
  for (let i = 0; i < NTIMERS; i++) {
    if (hwTimerOf(m, i) >= 0) {
      host.level[i] = false;
      host.soft[i] = undefined;
      continue;
    }
    if (which === 'all' || which === i) m.hooks.emulateTimer(m, i);
  }
}

/** Hook default — one emulated timer: its interrupt level and its software timer, from the guest's registers (KVM's timer_emulate). */
export function emulateTimer(m: Nv2Machine, i: number): void {
  const host = m.state.host;
  const t = host.timers[i]!;
  const off = guestTimerOffset(m, i);
  host.level[i] = m.hooks.emulatedLevel(m, t, off);
  host.soft[i] = m.setup.policy.evaluation === 'kvm' ? kvmSoftDeadline(m, t, off, host.level[i]) : m.hooks.softDeadline(m, t, off);
}

/**
 * KVM's timer_emulate arms a soft timer only for a timer that can fire (ENABLE and not IMASK) and
 * does not yet, at its CVAL; a masked or firing timer has none.
 */
function kvmSoftDeadline(m: Nv2Machine, t: TimerRegs, off: bigint, firing: boolean): bigint | undefined {
  if (firing || !canFire(t.ctl)) return undefined;
  const delta = countsUntilConditionChanges(m.state.count, off, t.cval);
  return delta > MASK64 ? undefined : u64(m.state.count + delta);
}

/**
 * KVM's kvm_hrtimer_expire: the soft timer of timer `i` fired; if the condition holds now (under
 * the offset in force now) the level rises, else the soft timer is re-armed. Nothing else is looked at.
 */
export function hrtimerExpire(m: Nv2Machine, i: number): void {
  const host = m.state.host;
  const t = host.timers[i]!;
  const off = guestTimerOffset(m, i);
  if (conditionMet(m.state.count, off, t.cval)) {
    host.level[i] = true;
    host.soft[i] = undefined;
  } else host.soft[i] = kvmSoftDeadline(m, t, off, false);
}

/** Counts until a WFIT's deadline is reached, by the policy's clock (0 if it has been). */
export function wfitCounts(m: Nv2Machine, deadline: bigint): bigint {
  const p = m.setup.policy, el = m.state.host.el;
  let off: bigint;
  switch (p.wfit) {
    case 'architectural': {
      const row = m.setup.table.byName.get('CNTVCT_EL0')!;
      const mn = el === 2 ? row.vel2[m.setup.guest] : row.vel1;
      off = mn.kind === 'counter' ? guestOffset(m, mn.offset) : 0n;
      break;
    }
    // wfit_delay_ns: the EL2 virtual timer's offset in the guest hypervisor's context (the VM's only), the EL1 one's otherwise.
    case 'kvm': off = el === 2 ? 0n : guestOffset(m, 'cntvoff'); break;
    default:
      return unreachable(p.wfit, 'wfit clock');
  }
  const now = u64(m.state.count - off);
  return now >= deadline ? 0n : deadline - now;
}

/** Hook default — the line of an emulated timer: ENABLE && !IMASK && condition met. */
export function emulatedLevel(m: Nv2Machine, t: TimerRegs, off: bigint): boolean {
  return lineAsserted(t.ctl, m.state.count, off, t.cval);
}

/** Hook default — when the software timer of an emulated timer must next fire: at its next condition change while enabled. */
export function softDeadline(m: Nv2Machine, t: TimerRegs, off: bigint): bigint | undefined {
  if ((t.ctl & CTL_ENABLE) === 0n) return undefined;
  const count = m.state.count;
  const delta = countsUntilConditionChanges(count, off, t.cval);
  // 2^64 counts away is further than any op can move time: nothing to arm.
  return delta > MASK64 ? undefined : u64(count + delta);
}

/** Hook default — let `by` counts pass while the vCPU runs, firing software timers at their exact counts. */
export function runTime(m: Nv2Machine, by: bigint): void {
  const s = m.state;
  let remaining = by;
  // No guest write happens during a tick, so each timer's condition changes at most twice
  // (at CVAL, and when count - offset wraps). Far more firings mean a software timer re-armed
  // for a count already passed: report it rather than spin.
  for (let fired = 0; ; fired++) {
    if (fired > RUN_FIRING_LIMIT) {
      throw new ImplementationError(`${m.setup.name}: more than ${RUN_FIRING_LIMIT} software timer firings within one tick of ${by} counts (a timer re-armed for a count already passed?)`);
    }
    let best = -1;
    let bestDist = 0n;
    for (let i = 0; i < NTIMERS; i++) {
      const d = s.host.soft[i];
      if (d === undefined) continue;
      const dist = u64(d - s.count);
      if (dist <= remaining && (best < 0 || dist < bestDist)) {
        best = i;
        bestDist = dist;
      }
    }
    if (best < 0) break;
    s.count = u64(s.count + bestDist);
    remaining -= bestDist;
    note(m, `software timer of ${TIMERS[best]} fired`);
    m.hooks.softTimerFired(m, best);
  }
  s.count = u64(s.count + remaining);
}

/** Hook default — how long a blocked vCPU sleeps: until the earliest of its timers can fire, at most `limit`. */
export function blockUntil(m: Nv2Machine, limit: bigint): bigint {
  const host = m.state.host;
  let best = limit;
  for (let i = 0; i < NTIMERS; i++) {
    const t = host.timers[i]!;
    // A timer that cannot fire (disabled or masked) never asserts: its offset is not looked up.
    if (!canFire(t.ctl)) continue;
    const d = countsUntilAsserted(t.ctl, m.state.count, guestTimerOffset(m, i), t.cval);
    if (d !== undefined && d < best) best = d;
  }
  return best;
}
