/**
 * Host entries: what the host does whenever it runs — on a trap, a software timer, a context
 * switch. It takes in the VNCR page, re-derives the timer map and the hardware configuration from
 * the guest's state, and afterwards re-evaluates its emulated timers and publishes into the page.
 * This module composes the host's parts; the parts (context, page, soft timers) do not import it.
 */
import type { El } from '../../arch/vocabulary.js';
import type { Nv2Machine } from '../machine.js';
import { loadContext, saveContext } from './context.js';
import { note } from './guest.js';
import { publish } from './page.js';
import { evaluate } from './soft-timers.js';

/** Entering the host from the running guest hypervisor: take in the page, then re-derive the placement. */
export function hostEntry(m: Nv2Machine): void {
  if (m.state.host.el !== 2) return;
  m.hooks.syncHwResident(m);
  m.hooks.mergePage(m);
  reconfigure(m);
}

/** After the host handled something: re-evaluate emulated timers and publish into the page. */
export function afterHostWork(m: Nv2Machine): void {
  evaluate(m);
  publish(m);
}

/** Re-derive the map and the hardware configuration from the guest's current state. */
export function reconfigure(m: Nv2Machine): void {
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
  afterHostWork(m);
}

/** Hook default — a software timer expired: the host runs (an exit), re-reads the guest's state, updates lines and the page. */
export function softTimerFired(m: Nv2Machine, _i: number): void {
  hostEntry(m);
  afterHostWork(m);
}
