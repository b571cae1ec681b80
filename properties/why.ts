/** Phrases for explanations: what an op was, how it was served, what a timer's state is. */
import { hex, u64 } from '../models/arch/bits.js';
import { unreachable } from '../models/arch/errors.js';
import { CTL_ENABLE, CTL_IMASK } from '../models/arch/registers.js';
import { TIMERS, TIMER_INDEX, type TimerId } from '../models/arch/vocabulary.js';
import type { ReferenceModel } from '../models/reference/reference.js';
import type { OpContext } from './types.js';

export function opPhrase(c: OpContext): string {
  const o = c.op;
  const text = o.op === 'msr' ? `msr ${o.reg}, ${hex(o.value)}` : o.op === 'mrs' ? `mrs ${o.reg}`
    : o.op === 'tick' || o.op === 'preempt' ? `${o.op} ${hex(o.by)}` : o.op === 'wfi' ? `wfi (limit ${hex(o.limit)})` : o.op;
  return `op #${c.index} \`${text}\` at vEL${c.el}`;
}

/** How the implementation served an access, from its own report (empty if it gives none). */
export function servedPhrase(c: OpContext): string {
  const acts = c.detail?.actions;
  const a = acts?.find((x) => x.kind === 'vncr' || x.kind === 'hw' || x.kind === 'trap' || x.kind === 'undefined');
  if (a) {
    switch (a.kind) {
      case 'vncr': return `served from VNCR slot ${hex(BigInt(a.offset))}`;
      case 'hw': return 'served by the hardware register';
      case 'trap': return 'trapped to the host';
      case 'undefined': return 'UNDEFINED in hardware';
      default:
        return unreachable(a, 'hardware action');
    }
  }
  // An implementation that reports no hardware detail: say nothing about how it served the access.
  return '';
}

export function timerState(ref: ReferenceModel, t: TimerId): string {
  const i = TIMER_INDEX[t];
  const ctl = ref.state.ctl[i]!, cval = ref.state.cval[i]!;
  const off = ref.timerOffset(i);
  const now = u64(ref.count - off);
  return `${t}: ENABLE=${ctl & CTL_ENABLE ? 1 : 0} IMASK=${ctl & CTL_IMASK ? 1 : 0} CVAL=${hex(cval)} ` +
    (off === 0n ? `count=${hex(now)}` : `count-offset=${hex(now)}`);
}

export function timersIn(mask: number): TimerId[] {
  return TIMERS.filter((_, i) => mask & (1 << i));
}
