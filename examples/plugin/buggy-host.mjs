// The trap-all host of trap-all-host.mjs with ONE plausible bug, for nvconform to refute:
// a TVAL write adds bits [31:0] of the value to the count *zero*-extended instead of
// sign-extended. Writing a negative TimerValue (a deadline already in the past, e.g.
// 0xfffffff0 = -16) then puts CVAL about 2^32 counts in the future instead of 16 counts in the
// past: the interrupt that should be pending at once does not come for hours.
//
//   nvconform run examples/plugin/tval-negative.json --model examples/plugin/buggy-host.mjs

import { TrapAllHost } from './trap-all-host.mjs';

const u64 = (x) => BigInt.asUintN(64, x);
const low32 = (x) => BigInt.asUintN(32, x);

class BuggyHost extends TrapAllHost {
  name = 'buggy-host';

  /** BUG: should be (count - offset) + SignExtend(value<31:0>). */
  tvalToCval(offset, value) {
    return u64(this.count - offset + low32(value));
  }
}

export function createImplementation(_options) {
  return new BuggyHost();
}
