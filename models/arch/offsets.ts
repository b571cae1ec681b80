/**
 * The one offset resolver. Every model asks it which offset an access or a timer condition
 * applies: the reference for the architecture, the NV2 host for the guest's view, the NV2
 * hardware for its own registers. (facts §1.2, §1.4)
 *
 * - `none`: the physical count itself;
 * - `cntvoff`: CNTVOFF_EL2;
 * - `cntpoff`: CNTPOFF_EL2 when it is in force (the CPU has FEAT_ECV and CNTHCTL_EL2.ECV is 1),
 *   else none.
 */
import { unreachable } from './errors.js';

export type OffsetRule = 'none' | 'cntvoff' | 'cntpoff';

/** The offset `rule` selects, given the two offset registers and whether CNTPOFF_EL2 is in force. */
export function resolveOffset(rule: OffsetRule, cntvoff: bigint, cntpoff: bigint, poffInForce: boolean): bigint {
  switch (rule) {
    case 'none': return 0n;
    case 'cntvoff': return cntvoff;
    case 'cntpoff': return poffInForce ? cntpoff : 0n;
    default:
      return unreachable(rule, 'offset rule');
  }
}
