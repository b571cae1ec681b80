/** Human-readable text for hardware actions. */
import { match } from 'ts-pattern';
import { hex } from '../../models/arch/bits.js';
import type { HwAction, StepDetail } from '../../models/arch/implementation.js';

export function describeAction(a: HwAction): string {
  return match(a)
    .with({ kind: 'vncr' }, (v) => `${v.write ? 'store' : 'load'} VNCR[${hex(BigInt(v.offset))}] (${v.key})`)
    .with({ kind: 'hw' }, (h) => `${h.write ? 'write' : 'read'} hw ${h.reg}`)
    .with({ kind: 'trap' }, (t) => `trap to host (${t.why})`)
    .with({ kind: 'undefined' }, () => 'UNDEFINED in hardware')
    .with({ kind: 'host' }, (h) => `host: ${h.what}`)
    .exhaustive();
}

export function describeActions(d: StepDetail): string {
  const parts = d.actions.map(describeAction);
  for (const c of d.vncr) parts.push(`VNCR[${hex(BigInt(c.offset))}] ${c.key}: ${hex(c.before)} -> ${hex(c.after)}`);
  return parts.join('; ');
}
