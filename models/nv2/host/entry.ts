/**
 * Host entries: what the host does whenever it runs — on a trap, a software timer, a context
 * switch. It takes in the VNCR page, re-derives the timer map and the hardware configuration from
 * the guest's state, and afterwards re-evaluates its emulated timers and publishes into the page.
 * This module composes the host's parts; the parts (context, page, soft timers) do not import it.
 */
import { unreachable } from '../../arch/errors.js';
import type { El } from '../../arch/vocabulary.js';
import type { Nv2Machine } from '../machine.js';
import { loadContext, saveContext } from './context.js';
import { note } from './guest.js';
import { publish } from './page.js';
import { evaluate, hrtimerExpire } from './soft-timers.js';

/**
 * Why the host ran, for the policy's evaluation rule: a vcpu load (a context switch, preempt,
 * WFI, reset), a trapped read or write (of timer `timer` when it is one), or a soft timer firing.
 */
export type HostEvent = 'load' | 'trap-read' | 'trap-write' | 'soft-timer';

/** The emulated timers the host re-evaluates after `event`: all, one (its index), or none (-1). */
export function evaluatedAfter(m: Nv2Machine, event: HostEvent, timer: number): 'all' | number {
  const p = m.setup.policy;
  switch (p.evaluation) {
    case 'every-entry': return 'all';
    case 'kvm':
      if (event === 'load') return 'all';
      // kvm_timer_sync_nested: on every exit from the guest hypervisor, but only without FEAT_ECV.
      if (m.state.host.el === 2 && !m.setup.phys.includes('ecv')) return 'all';
      return event === 'trap-write' ? timer : -1;
    default:
      return unreachable(p.evaluation, 'evaluation');
  }
}

/** Entering the host from the running guest hypervisor: take in the page, then re-derive the placement. */
export function hostEntry(m: Nv2Machine): void {
  if (m.state.host.el !== 2) return;
  m.hooks.syncHwResident(m);
  m.hooks.mergePage(m);
  reconfigure(m);
}

/** After the host handled `event`: re-evaluate emulated timers as the policy says, and publish into the page. */
export function afterHostWork(m: Nv2Machine, event: HostEvent, timer = -1): void {
  const which = evaluatedAfter(m, event, timer);
  evaluate(m, which);
  publish(m, which);
}

/** Re-derive the map and the hardware configuration from the guest's current state. */
export function reconfigure(m: Nv2Machine): void {
  // A placement fixed per context does not move with the guest's state; only the hardware configuration is re-derived.
  saveContext(m);
  loadContext(m);
}

/** eret / exit: switch the timers from one context to the other. */
export function switchTo(m: Nv2Machine, el: El): void {
  hostEntry(m);
  saveContext(m);
  m.state.host.el = el;
  note(m, el === 1 ? 'switch timers to the nested guest' : 'switch timers to the guest hypervisor');
  loadContext(m);
  afterHostWork(m, 'load');
}

/** Hook default — a software timer expired: the host runs (an exit), re-reads the guest's state, updates lines and the page. */
export function softTimerFired(m: Nv2Machine, i: number): void {
  hostEntry(m);
  if (evaluatedAfter(m, 'soft-timer', i) === 'all') afterHostWork(m, 'soft-timer', i);
  else {
    hrtimerExpire(m, i);
    publish(m, i);
  }
}
