/**
 * The architectural reference model: the Arm generic timer as the guest hypervisor sees it.
 *
 * One vCPU with a real EL2 (vEL2) and its nested guest (vEL1); four timers, the count,
 * CNTVOFF_EL2, CNTPOFF_EL2 (with `ecv`), CNTHCTL_EL2 and CNTKCTL_EL1. Every access takes effect
 * at once. Every UNKNOWN is returned as an `unknown` mask over the value, never as a guess.
 * What each register name means is looked up in the register table; this file holds only the
 * semantics of the meanings.
 */
import { MASK64, u64 } from '../../src/bits.js';
import { InputError, unreachable } from '../../src/errors.js';
import {
  CTL_ENABLE, CTL_ISTATUS, CTL_RES0, CTL_WRITABLE, CNTHCTL_ECV_BIT, REGISTER_BY_NAME, STORAGE,
  trapFires, meaningOf, type OffsetRule, type SysRegId,
} from '../registers.js';
import { conditionMet, countsUntilAsserted, lineAsserted, tvalRead, tvalWrite } from '../timer.js';
import {
  TIMER_INDEX, TIMERS, hasFeature, type El, type Expectation, type Op, type TimerId, type TraceConfig,
} from '../../src/trace/types.js';

/** The bits of CTL a read returns as stored (ISTATUS is computed). */
const CTL_READ_BITS = CTL_WRITABLE | CTL_RES0;
const ECV_BIT = 1n << BigInt(CNTHCTL_ECV_BIT);

/** The state of one timer as the architecture defines it: CTL as last written (raw) and CVAL. */
export interface TimerRegs {
  ctl: bigint;
  cval: bigint;
}

export class ReferenceModel {
  readonly config: TraceConfig;
  readonly ecv: boolean;
  count: bigint;
  el: El = 2;
  /** Per timer, in TIMERS order. CTL holds the value last written, RES0 bits included. */
  readonly timers: TimerRegs[];
  /** Storage registers, as last written (RES0 bits included). */
  readonly sys: Record<SysRegId, bigint>;
  /** STORAGE[reg].writable for this guest and ECV, computed once (the table's functions allocate). */
  private readonly writable: Readonly<Record<SysRegId, bigint>>;

  constructor(config: TraceConfig) {
    this.config = config;
    this.ecv = hasFeature(config, 'ecv');
    const w = (reg: SysRegId): bigint => STORAGE[reg].writable(config.guest, this.ecv);
    this.writable = { CNTVOFF_EL2: w('CNTVOFF_EL2'), CNTPOFF_EL2: w('CNTPOFF_EL2'), CNTHCTL_EL2: w('CNTHCTL_EL2'), CNTKCTL_EL1: w('CNTKCTL_EL1') };
    this.count = config.count;
    this.timers = TIMERS.map(() => ({ ctl: 0n, cval: 0n }));
    this.sys = { CNTVOFF_EL2: 0n, CNTPOFF_EL2: 0n, CNTHCTL_EL2: 0n, CNTKCTL_EL1: 0n };
    for (const [name, value] of Object.entries(config.init)) this.initRegister(name, value);
  }

  private initRegister(name: string, value: bigint): void {
    const row = REGISTER_BY_NAME.get(name);
    const m = row && !(row.feature && !hasFeature(this.config, row.feature)) ? meaningOf(row, 2, this.config.guest) : undefined;
    if (!m || m.kind === 'undefined' || m.kind === 'counter' || (m.kind === 'timer' && m.view === 'tval')) {
      throw new InputError(`config.init.${name}: not a writable register with state at vEL2 for a '${this.config.guest}' guest`);
    }
    if (m.kind === 'timer') {
      const t = this.timers[TIMER_INDEX[m.timer]]!;
      if (m.view === 'ctl') t.ctl = value & ~CTL_ISTATUS;
      else t.cval = value;
    } else this.sys[m.reg] = value;
  }

  /** The effective (architecturally meaningful) bits of a storage register. */
  effective(reg: SysRegId): bigint {
    return this.sys[reg] & this.writable[reg];
  }

  /** CNTPOFF_EL2 if it applies (FEAT_ECV and CNTHCTL_EL2.ECV == 1), else 0. */
  physicalOffset(): bigint {
    return this.ecv && (this.effective('CNTHCTL_EL2') & ECV_BIT) !== 0n ? this.sys.CNTPOFF_EL2 : 0n;
  }

  offsetFor(rule: OffsetRule): bigint {
    switch (rule) {
      case 'none': return 0n;
      case 'cntvoff': return this.sys.CNTVOFF_EL2;
      case 'cntpoff': return this.physicalOffset();
      default:
        return unreachable(rule, 'offset rule');
    }
  }

  /** The offset in a timer's condition: CNTVOFF for the EL1 virtual timer, CNTPOFF-if-ECV for the EL1 physical one, none for EL2 timers. */
  timerOffset(t: TimerId): bigint {
    switch (t) {
      case 'vtimer': return this.sys.CNTVOFF_EL2;
      case 'ptimer': return this.physicalOffset();
      case 'hptimer': case 'hvtimer': return 0n;
      default:
        return unreachable(t, 'timer');
    }
  }

  irqMask(): number {
    let mask = 0;
    for (let i = 0; i < TIMERS.length; i++) {
      const t = this.timers[i]!;
      if (lineAsserted(t.ctl, this.count, this.timerOffset(TIMERS[i]!), t.cval)) mask |= 1 << i;
    }
    return mask;
  }

  step(op: Op): Expectation {
    switch (op.op) {
      case 'msr': return this.access(op.reg, op.value);
      case 'mrs': return this.access(op.reg, undefined);
      case 'tick': case 'preempt':
        this.count = u64(this.count + op.by);
        return { irq: this.irqMask() };
      case 'wfi': {
        const elapsed = this.countsUntilWake(op.limit);
        this.count = u64(this.count + elapsed);
        return { irq: this.irqMask(), elapsed };
      }
      case 'eret':
        if (this.el !== 2) throw new InputError(`eret at vEL1: eret is only valid at vEL2`);
        this.el = 1;
        return { irq: this.irqMask() };
      case 'exit':
        if (this.el !== 1) throw new InputError(`exit at vEL2: exit is only valid at vEL1`);
        this.el = 2;
        return { irq: this.irqMask() };
      default:
        return unreachable(op, 'op');
    }
  }

  /** Counts a `wfi` with this limit idles: until the earliest line asserts, at most `limit`. */
  countsUntilWake(limit: bigint): bigint {
    let best = limit;
    for (let i = 0; i < TIMERS.length; i++) {
      const t = this.timers[i]!;
      const d = countsUntilAsserted(t.ctl, this.count, this.timerOffset(TIMERS[i]!), t.cval);
      if (d !== undefined && d < best) best = d;
    }
    return best;
  }

  private access(name: string, value: bigint | undefined): Expectation {
    const row = REGISTER_BY_NAME.get(name);
    if (!row) throw new InputError(`unknown register '${name}'`);
    if ((row.feature && !hasFeature(this.config, row.feature)) || (value !== undefined && row.access === 'ro')) {
      return { irq: this.irqMask(), fault: 'undefined' };
    }
    const m = meaningOf(row, this.el, this.config.guest);
    if (m.kind === 'undefined') return { irq: this.irqMask(), fault: 'undefined' };
    if (this.el === 1) {
      const cnthctl = this.effective('CNTHCTL_EL2');
      const e2h = this.config.guest === 'vhe';
      for (const r of row.el1Traps) {
        if (trapFires(r, cnthctl, e2h, this.ecv, false)) {
          this.el = 2;
          return { irq: this.irqMask(), fault: 'trap' };
        }
      }
    }
    let out: bigint | undefined;
    let unknown = 0n;
    switch (m.kind) {
      case 'timer': {
        const t = this.timers[TIMER_INDEX[m.timer]]!;
        switch (m.view) {
          case 'ctl':
            if (value !== undefined) t.ctl = value;
            else {
              const enabled = (t.ctl & CTL_ENABLE) !== 0n;
              const met = enabled && conditionMet(this.count, this.timerOffset(m.timer), t.cval);
              out = (t.ctl & CTL_READ_BITS) | (met ? CTL_ISTATUS : 0n);
              unknown = (t.ctl & CTL_RES0) | (enabled ? 0n : CTL_ISTATUS);
            }
            break;
          case 'cval':
            if (value !== undefined) t.cval = value;
            else out = t.cval;
            break;
          case 'tval': {
            const off = this.offsetFor(m.offset);
            if (value !== undefined) t.cval = tvalWrite(this.count, off, value);
            else if ((t.ctl & CTL_ENABLE) !== 0n) out = tvalRead(this.count, off, t.cval);
            else {
              out = 0n;
              unknown = MASK64;
            }
            break;
          }
          default:
            return unreachable(m.view, 'view');
        }
        break;
      }
      case 'sysreg':
        if (value !== undefined) this.sys[m.reg] = value;
        else {
          out = this.sys[m.reg];
          unknown = out & ~this.writable[m.reg] & MASK64;
        }
        break;
      case 'counter':
        out = u64(this.count - this.offsetFor(m.offset));
        break;
      default:
        return unreachable(m, 'meaning');
    }
    const irq = this.irqMask();
    // Same shape as ever: irq, then value and unknown when there are any.
    if (out === undefined) return { irq };
    return unknown === 0n ? { irq, value: out } : { irq, value: out, unknown };
  }
}
