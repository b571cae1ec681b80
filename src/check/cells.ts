/**
 * Coverage cells: the cells of the machine a check should reach, so that a pass says which were
 * exercised. One cell per register access, classified by what changes its meaning:
 *
 *   register × EL × guest mode × trap state × offset × counter near a wrap
 *
 * - trap state: at vEL1, whether the guest hypervisor's CNTHCTL_EL2 traps the access (`trap`) or
 *   not (`open`), for a register that has EL1 trap rules; `-` otherwise;
 * - offset: whether the offset the access applies (a TVAL's or counter's offset rule, a CTL/CVAL
 *   timer's condition offset) is zero (`off=0`) or not (`off≠0`); `-` where the rule is none;
 * - counter near a wrap: whether the count the access sees (count - offset) is within 2^32 of 2^64
 *   (`near-wrap`), for timer views and counters; `-` otherwise.
 *
 * The reachable cells are enumerated from the register table and the configs a check may use.
 */
import { cnthctlField, fieldBit } from '../../models/arch/cnthctl.js';
import { MASK64, u64 } from '../../models/arch/bits.js';
import type { OffsetRule } from '../../models/arch/offsets.js';
import { REGISTERS, meaningOf, trapFires, type Meaning, type RegisterRow } from '../../models/arch/registers.js';
import { TIMER_CONDITION } from '../../models/arch/timers.js';
import { FEATURES, type El, type Feature, type GuestMode } from '../../models/arch/vocabulary.js';
import type { ReferenceModel } from '../../models/reference/reference.js';
import type { OpContext } from '../../properties/types.js';

/** Within this many counts of 2^64, a count is near a wrap. */
export const NEAR_WRAP = 1n << 32n;

/** The offset rule whose value a meaning's behaviour depends on. */
function ruleOf(m: Meaning): OffsetRule | undefined {
  switch (m.kind) {
    case 'timer': return m.view === 'tval' && m.offset !== 'none' ? m.offset : TIMER_CONDITION[m.ti];
    case 'counter': return m.offset;
    case 'storage': case 'undefined': return undefined;
    default: return undefined;
  }
}

const hasRules = (row: RegisterRow, guest: GuestMode): boolean =>
  row.el1Traps.some((r) => fieldBit(cnthctlField(r.field), guest === 'vhe') !== undefined && !r.nv101Only);

export const cellKey = (reg: string, el: El, guest: GuestMode, trap: string, off: string, wrap: string): string =>
  `${reg} vEL${el} ${guest} ${trap} ${off} ${wrap}`;

const TRAP_STATES = ['-', 'trap', 'open'] as const;
const OFFSETS = ['-', 'off=0', 'off≠0'] as const;
const WRAPS = ['-', 'near-wrap'] as const;
/** Per row, its cells' keys by (el, guest, trap state, offset, wrap) index, made when first met: coverage asks for one per op. */
const KEYS = new WeakMap<RegisterRow, (string | undefined)[]>();

/** The cell of an access the reference has just executed (`el`: the EL before it), or undefined for other ops. */
export function cellOf(c: Pick<OpContext, 'op' | 'el' | 'row'> & { readonly ref: ReferenceModel }): string | undefined {
  if ((c.op.op !== 'msr' && c.op.op !== 'mrs') || !c.row) return undefined;
  const ref = c.ref, guest = ref.config.guest, row = c.row;
  const m = meaningOf(row, c.el, guest);
  let trap = 0;
  if (c.el === 1 && m.kind !== 'undefined' && hasRules(row, guest)) {
    const cnthctl = ref.effective(ref.table.core.cnthctl);
    trap = row.el1Traps.some((r) => trapFires(r, cnthctl, guest === 'vhe', ref.has, false)) ? 1 : 2;
  }
  const rule = m.kind === 'undefined' ? undefined : ruleOf(m);
  const offValue = rule === undefined || rule === 'none' ? undefined : ref.offsetFor(rule);
  const off = offValue === undefined ? 0 : offValue === 0n ? 1 : 2;
  const timeLike = m.kind === 'timer' || m.kind === 'counter';
  const wrap = timeLike && u64(ref.count - (offValue ?? 0n)) > MASK64 - NEAR_WRAP ? 1 : 0;
  let keys = KEYS.get(row);
  if (!keys) KEYS.set(row, (keys = []));
  const i = ((((c.el - 1) * 2 + (guest === 'vhe' ? 0 : 1)) * 3 + trap) * 3 + off) * 2 + wrap;
  return (keys[i] ??= cellKey(row.name, c.el, guest, TRAP_STATES[trap]!, OFFSETS[off], WRAPS[wrap]));
}

/** Every cell a check with these pins can reach, on an implementation that offers the features `offer` (default all). */
export function reachableCells(o: { readonly guest?: GuestMode; readonly ecv?: boolean; readonly offer?: readonly Feature[]; readonly exclude?: readonly string[] }): string[] {
  const guests: GuestMode[] = o.guest ? [o.guest] : ['vhe', 'nvhe'];
  const offer = o.offer ?? FEATURES;
  const ecvs = (o.ecv === undefined ? [false, true] : [o.ecv]).filter((e) => !e || offer.includes('ecv'));
  // FEAT_VHE is present unless a config says it is absent; the ECV features come with an ECV config.
  const possible = (f: Feature): boolean => offer.includes(f) && (f === 'vhe' || f === 'wfxt' || ecvs.includes(true));
  const out = new Set<string>();
  for (const guest of guests) {
    for (const row of REGISTERS) {
      if ((row.feature && !possible(row.feature)) || o.exclude?.includes(row.name)) continue;
      for (const el of [2, 1] as const) {
        const m = meaningOf(row, el, guest);
        const trapStates = el === 1 && m.kind !== 'undefined' && hasRules(row, guest)
          ? (row.el1Traps.some((r) => !cnthctlField(r.field).feature || ecvs.includes(true)) ? ['trap', 'open'] : ['open'])
          : ['-'];
        const rule = m.kind === 'undefined' ? undefined : ruleOf(m);
        const offs = rule === undefined || rule === 'none' ? ['-'] : rule === 'cntpoff' && !ecvs.includes(true) ? ['off=0'] : ['off=0', 'off≠0'];
        const wraps = m.kind === 'timer' || m.kind === 'counter' ? ['-', 'near-wrap'] : ['-'];
        for (const t of trapStates) for (const f of offs) for (const w of wraps) out.add(cellKey(row.name, el, guest, t, f, w));
      }
    }
  }
  return [...out].sort();
}
