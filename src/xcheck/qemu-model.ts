/**
 * The reference, with QEMU 10.0's known departures from the architecture switched on one by one:
 * an executable statement of what xcheck/NOTES.md found, so that a disagreement is "explained" only
 * when a model of the named behaviour reproduces QEMU's observation exactly, op by op.
 *
 * QEMU keeps, per timer, the ISTATUS it last computed and a deadline for its next recalculation
 * (`gt_recalc_timer` in target/arm/helper.c): a register write recalculates the timers it
 * concerns, the deadline's callback recalculates its timer, and a CTL read or the interrupt line
 * report the stored ISTATUS. With no behaviour switched on, that bookkeeping recalculates after
 * every change and this model observes exactly what the reference does (a test checks it on
 * generated traces); each behaviour is a departure from it:
 *
 * - `istatusLag`: a deadline's callback runs after the instruction that executes at the deadline
 *   count, so a CTL read or a line sample at exactly that count sees the old ISTATUS;
 * - `offsetOverflow`: an enabled, unmet EL1 timer whose CVAL + offset exceeds 2^64 gets no
 *   deadline (QEMU's `uadd64_overflow` -> "never"), although with offset > count the condition
 *   is met at count = CVAL + offset - 2^64;
 * - `ecvFlip`: a write to CNTHCTL_EL2 recalculates no timer (`gt_cnthctl_write` only updates the
 *   interrupt lines when CNTVMASK/CNTPMASK change), so putting CNTPOFF_EL2 in or out of force by
 *   CNTHCTL_EL2.ECV leaves the EL1 physical timer's ISTATUS and deadline stale;
 * - `wfitOverflow`: WFIT computes its wake count as deadline + the CNTVCT_EL0 offset and treats an
 *   unsigned overflow as "never" (`HELPER(wfit)` in target/arm/tcg/op_helper.c), although with the
 *   offset above the count the virtual count has wrapped and the deadline is near: it then wakes
 *   only by a line or the guest image's safety limit, WFIT_SAFETY counts after the WFIT;
 * - `hasEcv`: the CPU implements FEAT_ECV whatever the trace says (QEMU's `-cpu max`); for a
 *   trace without "ecv" the guest runs with SCR_EL3.ECVEn = 0, so CNTPOFF_EL2 at EL2 traps to EL3
 *   (reported as UNDEFINED) while the FEAT_ECV trap bits of CNTHCTL_EL2 take effect.
 */
import { MASK64, u64 } from '../../models/arch/bits.js';
import { unreachable } from '../../models/arch/errors.js';
import { buildRegisterTable, CTL_ENABLE, CTL_IMASK, CTL_ISTATUS, meaningOf, REGISTER_ROWS, STORAGE_ROWS, type RegisterTable } from '../../models/arch/registers.js';
import { countsUntilConditionChanges } from '../../models/arch/timer-math.js';
import { NTIMERS, TIMER_INDEX, type TimerId } from '../../models/arch/timers.js';
import { hasFeature, type Expectation, type Op, type TraceConfig } from '../../models/arch/vocabulary.js';
import { ReferenceModel } from '../../models/reference/reference.js';

/** The known departures of QEMU 10.0 from the architecture (see the file comment). */
export interface QemuBehaviours {
  readonly istatusLag: boolean;
  readonly offsetOverflow: boolean;
  readonly ecvFlip: boolean;
  readonly wfitOverflow: boolean;
  readonly hasEcv: boolean;
}

export type BehaviourName = keyof QemuBehaviours;
export const BEHAVIOUR_NAMES: readonly BehaviourName[] = ['istatusLag', 'offsetOverflow', 'ecvFlip', 'wfitOverflow', 'hasEcv'];
export const NO_BEHAVIOURS: QemuBehaviours = { istatusLag: false, offsetOverflow: false, ecvFlip: false, wfitOverflow: false, hasEcv: false };
export const ALL_BEHAVIOURS: QemuBehaviours = { istatusLag: true, offsetOverflow: true, ecvFlip: true, wfitOverflow: true, hasEcv: true };

/** The guest image's safety limit on one WFIT (WFIT_LIMIT in xcheck/guest/nvx.c): the cross-check cuts longer waits to it. */
export const WFIT_SAFETY = 1n << 40n;

/**
 * Per storage register, the timers QEMU recalculates when it is written (its writefn in
 * target/arm/helper.c): gt_cntvoff_write and gt_cntpoff_write call gt_recalc_timer;
 * gt_cnthctl_write does not (the `ecvFlip` behaviour; the architecture's answer is the EL1
 * physical timer, whose offset CNTHCTL_EL2.ECV selects); CNTKCTL_EL1 is a plain field.
 */
const RECALC_ON_WRITE: Readonly<Record<string, { readonly qemu: readonly TimerId[]; readonly arch: readonly TimerId[] }>> = {
  CNTVOFF_EL2: { qemu: ['vtimer'], arch: ['vtimer'] },
  CNTPOFF_EL2: { qemu: ['ptimer'], arch: ['ptimer'] },
  CNTHCTL_EL2: { qemu: [], arch: ['ptimer'] },
  CNTKCTL_EL1: { qemu: [], arch: [] },
};

/**
 * The register table of a CPU with FEAT_ECV and FEAT_ECV_POFF running with SCR_EL3.ECVEn = 0:
 * CNTPOFF_EL2 (the one name of FEAT_ECV_POFF) is UNDEFINED at vEL2 (it traps to EL3: ECVEn
 * enables access to CNTPOFF_EL2), everything else as in the machine's table: CNTPCTSS_EL0 and
 * CNTVCTSS_EL0 (FEAT_ECV) are not gated by ECVEn. With CNTPOFF_EL2 never written it stays 0, so
 * whether it is "in force" changes nothing.
 */
export const ECV_DISABLED_BY_EL3_TABLE: RegisterTable = buildRegisterTable(
  REGISTER_ROWS.map((r) => (r.feature === 'ecv-poff' ? { ...r, vel2: { vhe: { kind: 'undefined' }, nvhe: { kind: 'undefined' } } } : r)),
  STORAGE_ROWS,
);

/** The reference for `config` on the machine QEMU runs it on, given which behaviours QEMU has. */
export function referenceFor(config: TraceConfig, b: Pick<QemuBehaviours, 'hasEcv'>): ReferenceModel {
  return b.hasEcv && !hasFeature(config, 'ecv')
    ? new ReferenceModel({ ...config, features: [...config.features, 'ecv'] }, { table: ECV_DISABLED_BY_EL3_TABLE })
    : new ReferenceModel(config);
}

const NEVER = -1n;

/** The reference observed through QEMU's timer bookkeeping, with the chosen behaviours. */
export class QemuTimerModel {
  readonly ref: ReferenceModel;
  /** Per timer: ISTATUS as QEMU last computed it. */
  private readonly ist: boolean[];
  /** Per timer: the count of its next recalculation (on `abs`'s scale), or NEVER. */
  private readonly due: bigint[];
  /** The count without wrapping around 2^64 (the reference's count is this mod 2^64). */
  private abs: bigint;

  constructor(config: TraceConfig, readonly behaviours: QemuBehaviours) {
    this.ref = referenceFor(config, behaviours);
    this.ist = new Array<boolean>(NTIMERS).fill(false);
    this.due = new Array<bigint>(NTIMERS).fill(NEVER);
    this.abs = this.ref.count;
    for (let t = 0; t < NTIMERS; t++) this.recalc(t, this.abs);
  }

  get count(): bigint {
    return this.ref.count;
  }

  /** Let time pass to `count` (a jump the caller makes between ops, as in resolving values at QEMU's counts). */
  setCount(count: bigint): void {
    this.ref.state.count = count;
    this.abs = count;
    this.advance(count);
  }

  /** The recalculation gt_recalc_timer makes of timer t at `abs`. */
  private recalc(t: number, abs: bigint): void {
    const s = this.ref.state;
    if ((s.ctl[t]! & CTL_ENABLE) === 0n) {
      this.ist[t] = false;
      this.due[t] = NEVER;
      return;
    }
    const count = u64(abs);
    const offset = this.ref.timerOffset(t);
    const cval = s.cval[t]!;
    this.ist[t] = u64(count - offset) >= cval;
    // QEMU gives an unmet timer whose CVAL + offset overflows no deadline, even when offset > count.
    const never = this.behaviours.offsetOverflow && !this.ist[t] && cval + offset > MASK64 && offset > count;
    this.due[t] = never ? NEVER : abs + countsUntilConditionChanges(count, offset, cval);
  }

  /**
   * Run every deadline callback due before an observation at `abs`: those before it with the
   * lag, those at or before it without (and, with `inclusive`, those at it in any case).
   */
  private advance(abs: bigint, inclusive = false): void {
    const strict = this.behaviours.istatusLag && !inclusive;
    for (let t = 0; t < NTIMERS; t++) {
      // A timer changes condition at most three times while only time passes (met, wrapped, met).
      for (let n = 0; n < 4; n++) {
        const d = this.due[t]!;
        if (d === NEVER || (strict ? d >= abs : d > abs)) break;
        this.recalc(t, d);
      }
    }
  }

  private line(t: number): boolean {
    const ctl = this.ref.state.ctl[t]!;
    return (ctl & (CTL_ENABLE | CTL_IMASK)) === CTL_ENABLE && this.ist[t]!;
  }

  private irq(): number {
    let m = 0;
    for (let t = 0; t < NTIMERS; t++) if (this.line(t)) m |= 1 << t;
    return m;
  }

  /** Counts a wfi waits: until a deadline raises a line, at most `limit`; 0 when a line is up. */
  private wakeAfter(limit: bigint): bigint {
    if (this.irq() !== 0) return 0n;
    let best = limit;
    for (let t = 0; t < NTIMERS; t++) {
      const ctl = this.ref.state.ctl[t]!;
      if ((ctl & (CTL_ENABLE | CTL_IMASK)) !== CTL_ENABLE || this.ist[t] || this.due[t] === NEVER) continue;
      // An unmet timer's deadline is where it becomes met.
      const d = this.due[t]! - this.abs;
      if (d >= 0n && d < best) best = d;
    }
    return best;
  }

  step(op: Op): Expectation {
    const s = this.ref.state;
    switch (op.op) {
      case 'tick': case 'preempt': {
        this.abs += op.by;
        s.count = u64(this.abs);
        this.advance(this.abs);
        return { irq: this.irq() };
      }
      case 'wfi': {
        const elapsed = this.wakeAfter(op.limit);
        this.abs += elapsed;
        s.count = u64(this.abs);
        // The callback that woke it has run.
        this.advance(this.abs, true);
        return { irq: this.irq(), elapsed };
      }
      case 'eret': case 'exit': {
        this.advance(this.abs);
        this.ref.step(op);
        return { irq: this.irq() };
      }
      case 'msr': case 'mrs':
        return this.access(op);
      case 'wfit': {
        // Without FEAT_WFxT the reference's UNDEFINED (QEMU's CPU has it: the cross-check only generates wfit with "wfxt").
        if (!hasFeature(this.ref.config, 'wfxt')) return { ...this.ref.step(op), irq: this.irq() };
        // As a wfi whose limit is where CNTVCT_EL0, as read at the current EL, reaches the deadline.
        const until = this.ref.countsUntilVirtual(op.deadline);
        const overflows = this.behaviours.wfitOverflow && until > 0n && op.deadline + this.virtualOffset() > MASK64;
        const elapsed = this.wakeAfter(overflows ? WFIT_SAFETY : until);
        this.abs += elapsed;
        s.count = u64(this.abs);
        this.advance(this.abs, true);
        return { irq: this.irq(), elapsed };
      }
      default:
        return unreachable(op, 'op');
    }
  }

  /** The offset CNTVCT_EL0 reads with at the current EL (CNTVOFF_EL2, or 0 at EL2 with E2H = 1). */
  private virtualOffset(): bigint {
    const m = meaningOf(this.ref.table.byName.get('CNTVCT_EL0')!, this.ref.el, this.ref.config.guest);
    return m.kind === 'counter' ? this.ref.offsetFor(m.offset) : 0n;
  }

  private access(op: Extract<Op, { op: 'msr' | 'mrs' }>): Expectation {
    const s = this.ref.state;
    this.advance(this.abs);
    const el = this.ref.el;
    const row = this.ref.table.byName.get(op.reg);
    const m = row ? meaningOf(row, el, this.ref.config.guest) : undefined;
    const before = m?.kind === 'timer' ? s.ctl[m.ti]! : 0n;
    const e = this.ref.step(op);
    if (e.fault || !m) return { ...e, irq: this.irq() };
    if (op.op === 'msr') {
      switch (m.kind) {
        case 'timer':
          // gt_ctl_write recalculates only when ENABLE toggles (an IMASK change only moves the line).
          if (m.view !== 'ctl' || ((before ^ s.ctl[m.ti]!) & CTL_ENABLE) !== 0n) this.recalc(m.ti, this.abs);
          break;
        case 'storage': {
          const r = RECALC_ON_WRITE[m.reg];
          const timers = r ? (this.behaviours.ecvFlip ? r.qemu : r.arch) : [];
          for (const id of timers) this.recalc(TIMER_INDEX[id], this.abs);
          break;
        }
        case 'counter': case 'undefined':
          break;
        default:
          return unreachable(m, 'meaning');
      }
      return { ...e, irq: this.irq() };
    }
    if (m.kind === 'timer' && m.view === 'ctl' && e.value !== undefined && (s.ctl[m.ti]! & CTL_ENABLE) !== 0n) {
      // A CTL read returns the stored ISTATUS.
      const value = (e.value & ~CTL_ISTATUS) | (this.ist[m.ti] ? CTL_ISTATUS : 0n);
      return { ...e, value, irq: this.irq() };
    }
    return { ...e, irq: this.irq() };
  }
}
