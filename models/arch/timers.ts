/**
 * The timer table: the four generic timers a guest hypervisor's vCPU has, one row each.
 *
 * The row order is the order of the trace format's `irq` list, and a timer's index in it is its
 * bit in an irq mask. `el` is the Exception level the timer belongs to: the EL1 timers are the
 * ones FEAT_NV2 hardware has at real EL1, so they are also the hardware timers of the NV2 model.
 * `condition` names the offset the timer's condition compares against (TimerConditionMet:
 * (count - offset) >= CVAL, facts §1.3-1.4): CNTVOFF_EL2 for the EL1 virtual timer, CNTPOFF_EL2
 * (when in force) for the EL1 physical one, none for the EL2 timers. The offset a *view* of a
 * timer applies (a TVAL access, which depends on the name and the EL) is in the register table.
 */
import type { OffsetRule } from './offsets.js';

export interface TimerRow {
  readonly id: string;
  /** The interrupt ID (PPI) KVM assigns it by default. */
  readonly ppi: number;
  /** The Exception level it belongs to. */
  readonly el: 1 | 2;
  /** The offset rule of its timer condition. */
  readonly condition: OffsetRule;
  /** The register-name prefix of its views (CNTHP_CTL_EL2, CNTP_CTL_EL0, ...). */
  readonly family: string;
}

export const TIMER_ROWS = [
  { id: 'hptimer', ppi: 26, el: 2, condition: 'none', family: 'CNTHP' },
  { id: 'hvtimer', ppi: 28, el: 2, condition: 'none', family: 'CNTHV' },
  { id: 'ptimer', ppi: 30, el: 1, condition: 'cntpoff', family: 'CNTP' },
  { id: 'vtimer', ppi: 27, el: 1, condition: 'cntvoff', family: 'CNTV' },
] as const satisfies readonly TimerRow[];

export type TimerId = (typeof TIMER_ROWS)[number]['id'];
export const TIMERS: readonly TimerId[] = TIMER_ROWS.map((t) => t.id);
export const NTIMERS = TIMER_ROWS.length;
export const TIMER_INDEX: Readonly<Record<TimerId, number>> = Object.fromEntries(TIMERS.map((t, i) => [t, i])) as Record<TimerId, number>;
/** Interrupt IDs (PPIs) of the timers, as KVM assigns them by default. */
export const TIMER_PPI: Readonly<Record<TimerId, number>> = Object.fromEntries(TIMER_ROWS.map((t) => [t.id, t.ppi])) as Record<TimerId, number>;
/** Per timer index, the offset rule of its condition. */
export const TIMER_CONDITION: readonly OffsetRule[] = TIMER_ROWS.map((t) => t.condition);
/** The EL1 timers: the ones the NV2 hardware has at real EL1 (indices into TIMERS). */
export const HW_TIMER_INDICES: readonly number[] = TIMER_ROWS.flatMap((t, i) => (t.el === 1 ? [i] : []));

export function irqList(mask: number): TimerId[] {
  const out: TimerId[] = [];
  for (let i = 0; i < NTIMERS; i++) if (mask & (1 << i)) out.push(TIMERS[i]!);
  return out;
}
