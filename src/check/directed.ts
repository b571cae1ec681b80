/**
 * Directed traces: for a coverage cell (cells.ts), a trace that sets up its context — the guest
 * mode and FEAT_ECV, the offset the access applies, CNTHCTL_EL2's trap bits for the nested guest,
 * the count near a wrap — then makes the access, followed by random ops. The random phase mixes
 * these in for the cells the exhaustive phase did not reach, so that generation covers the cross
 * product the cells describe.
 */
import fc from 'fast-check';
import { MASK64, u64 } from '../../models/arch/bits.js';
import { cnthctlField, e2h1Bit, fieldMask } from '../../models/arch/cnthctl.js';
import { REGISTERS, REGISTER_BY_NAME, meaningOf, type RegisterRow } from '../../models/arch/registers.js';
import { TIMER_CONDITION } from '../../models/arch/timers.js';
import { FEATURES, type El, type Feature, type GuestMode, type TraceConfig, type Vocabulary } from '../../models/arch/vocabulary.js';
import type { GenOp } from '../engine/abstract-ops.js';
import { genOpArb, restrictTrace, valueArbFor } from './generate.js';

interface Cell {
  readonly row: RegisterRow;
  readonly el: El;
  readonly guest: GuestMode;
  readonly trap: string;
  readonly off: string;
  readonly wrap: string;
}

function parseCell(key: string): Cell | undefined {
  const [reg, el, guest, trap, off, wrap] = key.split(' ');
  const row = reg ? REGISTER_BY_NAME.get(reg) : undefined;
  if (!row || (el !== 'vEL1' && el !== 'vEL2') || (guest !== 'vhe' && guest !== 'nvhe') || !trap || !off || !wrap) return undefined;
  return { row, el: el === 'vEL1' ? 1 : 2, guest, trap, off, wrap };
}

/** The offset value a directed trace gives a cell that wants a non-zero offset. */
const OFFSET = 0x40n;

/** The fixed part of a cell's trace: its config and the ops up to and including the access. */
/** What a check pins: FEAT_ECV of the virtual CPU, and the features the implementation offers (default all). */
export interface DirectedPins {
  readonly ecv?: boolean;
  readonly offer?: readonly Feature[];
  /** Registers no trace may touch (CheckOptions.exclude): a skeleton that needs one is left out. */
  readonly exclude?: readonly string[];
  /** The implementation's trace vocabulary: the random tail stays within it. Default the latest. */
  readonly vocabulary?: Vocabulary;
}

const touches = (ops: readonly GenOp[], exclude: readonly string[] | undefined): boolean =>
  !!exclude?.length && ops.some((g) => (g.k === 'msr' || g.k === 'mrs') && exclude.includes(g.reg));

export function directedSkeleton(key: string, pins: DirectedPins): { config: TraceConfig; ops: GenOp[]; access: GenOp } | undefined {
  const c = parseCell(key);
  if (!c) return undefined;
  const m = meaningOf(c.row, c.el, c.guest);
  const e2h = c.guest === 'vhe';
  const rule = m.kind === 'timer' ? (m.view === 'tval' && m.offset !== 'none' ? m.offset : TIMER_CONDITION[m.ti]) : m.kind === 'counter' ? m.offset : undefined;
  const wantOff = c.off === 'off≠0';
  // The nested guest's traps: everything open, then the first rule of the access closed if the cell says so.
  let cnthctl = fieldMask(cnthctlField('EL1PTEN'), e2h) | fieldMask(cnthctlField('EL1PCTEN'), e2h);
  let ecv = c.row.feature === 'ecv' || c.row.feature === 'ecv-poff' || (wantOff && rule === 'cntpoff');
  if (c.trap === 'trap') {
    const r = c.row.el1Traps.find((t) => !t.nv101Only);
    if (r) {
      const f = cnthctlField(r.field);
      if (f.feature) ecv = true;
      cnthctl = r.trapsWhen === 1 ? cnthctl | fieldMask(f, e2h) : cnthctl & ~fieldMask(f, e2h);
    }
  }
  if (wantOff && rule === 'cntpoff') cnthctl |= e2h1Bit('ECV');
  const offer = pins.offer ?? FEATURES;
  if (pins.ecv !== undefined && pins.ecv !== ecv) {
    if (ecv) return undefined; // the pins make the cell unreachable
    ecv = pins.ecv;
  }
  if (ecv && !offer.includes('ecv')) return undefined;
  const needPoff = c.row.feature === 'ecv-poff' || (wantOff && rule === 'cntpoff');
  if (ecv && needPoff && !offer.includes('ecv-poff')) return undefined;
  const features: Feature[] = ecv ? ['ecv'] : [];
  const cpu = ecv && !offer.includes('ecv-poff') ? { features, absent: ['ecv-poff' as const] } : { features };
  const off = wantOff ? OFFSET : 0n;
  const timerWrap = c.wrap === 'near-wrap' && m.kind === 'timer';
  // Near a wrap: the timer's count (count - offset) two before 2^64, so that a deadline one ahead lies at the wrap.
  const count = c.wrap === 'near-wrap' ? u64(off + MASK64 - (timerWrap ? 1n : 0xffn)) : 0x1000n;
  const abs = (v: bigint) => ({ k: 'abs', v }) as const;
  // The offset is written before the control that puts it in force (CNTHCTL_EL2.ECV for CNTPOFF_EL2),
  // and the access's timer is armed in between: the host must react to the control write.
  const ecvLate = rule === 'cntpoff' && wantOff && !(c.wrap === 'near-wrap' && m.kind === 'timer');
  const ops: GenOp[] = [{ k: 'msr', reg: 'CNTHCTL_EL2', val: abs(ecvLate ? cnthctl & ~e2h1Bit('ECV') : cnthctl) }];
  if (rule === 'cntvoff') ops.push({ k: 'msr', reg: 'CNTVOFF_EL2', val: abs(off) });
  if (rule === 'cntpoff' && ecv) ops.push({ k: 'msr', reg: 'CNTPOFF_EL2', val: abs(off) });
  if (m.kind === 'timer') {
    // Arm the timer from vEL2 by its vEL2 names — due now, so that an offset put in force later moves
    // its condition; near a wrap, due one count ahead, at the wrap — then a certain host entry.
    const at2 = (view: string) => REGISTERS.find((r) => { const x = r.vel2[c.guest]; return x.kind === 'timer' && x.ti === m.ti && x.view === view; });
    const cval = at2('cval'), ctl = at2('ctl');
    if (cval && ctl) {
      ops.push({ k: 'msr', reg: cval.name, val: { k: 'now', d: timerWrap ? 1n : 0n } }, { k: 'msr', reg: ctl.name, val: abs(1n) }, { k: 'preempt', by: 0n });
    }
  }
  if (ecvLate) ops.push({ k: 'msr', reg: 'CNTHCTL_EL2', val: abs(cnthctl) });
  // Near a wrap, wait for the deadline (the host must wake the vCPU, and raise the line, at a deadline
  // that lies beyond the physical counter's wrap once the offset is added).
  if (timerWrap) ops.push({ k: 'wfi', limit: 0x100n });
  if (c.el === 1) ops.push({ k: 'eret' });
  const access: GenOp = { k: 'mrs', reg: c.row.name };
  if (touches([...ops, access], pins.exclude)) return undefined;
  return { config: { guest: c.guest, ...cpu, count, init: {} }, ops, access };
}

/** One trace per cell: its skeleton, the access a read (the cells the pins make unreachable are left out). */
export function directedExamples(cells: readonly string[], pins: DirectedPins): [TraceConfig, GenOp[]][] {
  return cells.flatMap((k) => {
    const s = directedSkeleton(k, pins);
    return s ? [[s.config, [...s.ops, s.access]] as [TraceConfig, GenOp[]]] : [];
  });
}

/** Traces aimed at `cells` (keys of cells.ts), each a skeleton with a random access value and a random tail. */
export function directedArb(cells: readonly string[], pins: DirectedPins & { readonly maxOps: number }): fc.Arbitrary<[TraceConfig, GenOp[]]> | undefined {
  const skeletons = cells.flatMap((k) => {
    const s = directedSkeleton(k, pins);
    return s ? [s] : [];
  });
  if (!skeletons.length) return undefined;
  return fc.constantFrom(...skeletons).chain((s) => {
    const row = REGISTER_BY_NAME.get((s.access as { reg: string }).reg)!;
    const access = fc.oneof(
      fc.constant(s.access),
      row.access === 'rw' ? valueArbFor(row).map((val): GenOp => ({ k: 'msr', reg: row.name, val })) : fc.constant(s.access),
    );
    const room = Math.max(0, pins.maxOps - s.ops.length - 1);
    return fc.tuple(access, fc.array(genOpArb, { maxLength: Math.min(room, 8) }))
      .map(([a, tail]): [TraceConfig, GenOp[]] => restrictTrace(pins, [s.config, [...s.ops, a, ...tail]]));
  });
}
