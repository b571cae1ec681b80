/**
 * The architectural reference model: the Arm generic timer as the guest hypervisor sees it.
 *
 * One vCPU with a real EL2 (vEL2) and its nested guest (vEL1); four timers, the count,
 * CNTVOFF_EL2, CNTPOFF_EL2 (with `ecv`), CNTHCTL_EL2 and CNTKCTL_EL1. Every access takes effect
 * at once. Every UNKNOWN is returned as an `unknown` mask over the value, never as a guess.
 * What each register name means is looked up in the register table; this file holds only the
 * semantics of the meanings.
 */
import { match } from 'ts-pattern';
import { MASK64, u64 } from '../../src/bits.js';
import { InputError } from '../../src/errors.js';
import {
  CTL_ENABLE, CTL_ISTATUS, CTL_RES0, CTL_WRITABLE, CNTHCTL_ECV_BIT, REGISTER_BY_NAME, STORAGE,
  trapFires, meaningOf, type OffsetRule, type SysRegId,
} from '../registers.js';
import { conditionMet, countsUntilAsserted, lineAsserted, tvalRead, tvalWrite } from '../timer.js';
import {
  TIMER_INDEX, TIMERS, hasFeature, type El, type Expectation, type Op, type TimerId, type TraceConfig,
} from '../../src/trace/types.js';

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

  constructor(config: TraceConfig) {
    this.config = config;
    this.ecv = hasFeature(config, 'ecv');
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
    return this.sys[reg] & STORAGE[reg].writable(this.config.guest, this.ecv);
  }

  /** CNTPOFF_EL2 if it applies (FEAT_ECV and CNTHCTL_EL2.ECV == 1), else 0. */
  physicalOffset(): bigint {
    return this.ecv && ((this.effective('CNTHCTL_EL2') >> BigInt(CNTHCTL_ECV_BIT)) & 1n) === 1n
      ? this.sys.CNTPOFF_EL2
      : 0n;
  }

  offsetFor(rule: OffsetRule): bigint {
    return match(rule)
      .with('none', () => 0n)
      .with('cntvoff', () => this.sys.CNTVOFF_EL2)
      .with('cntpoff', () => this.physicalOffset())
      .exhaustive();
  }

  /** The offset in a timer's condition: CNTVOFF for the EL1 virtual timer, CNTPOFF-if-ECV for the EL1 physical one, none for EL2 timers. */
  timerOffset(t: TimerId): bigint {
    return match(t)
      .with('vtimer', () => this.sys.CNTVOFF_EL2)
      .with('ptimer', () => this.physicalOffset())
      .with('hptimer', 'hvtimer', () => 0n)
      .exhaustive();
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
    return match(op)
      .with({ op: 'msr' }, (o) => this.access(o.reg, o.value))
      .with({ op: 'mrs' }, (o) => this.access(o.reg, undefined))
      .with({ op: 'tick' }, { op: 'preempt' }, (o) => {
        this.count = u64(this.count + o.by);
        return { irq: this.irqMask() };
      })
      .with({ op: 'wfi' }, (o) => {
        const elapsed = this.countsUntilWake(o.limit);
        this.count = u64(this.count + elapsed);
        return { irq: this.irqMask(), elapsed };
      })
      .with({ op: 'eret' }, () => {
        if (this.el !== 2) throw new InputError(`eret at vEL1: eret is only valid at vEL2`);
        this.el = 1;
        return { irq: this.irqMask() };
      })
      .with({ op: 'exit' }, () => {
        if (this.el !== 1) throw new InputError(`exit at vEL2: exit is only valid at vEL1`);
        this.el = 2;
        return { irq: this.irqMask() };
      })
      .exhaustive();
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
    const undef = (): Expectation => ({ irq: this.irqMask(), fault: 'undefined' });
    if (row.feature && !hasFeature(this.config, row.feature)) return undef();
    if (value !== undefined && row.access === 'ro') return undef();
    const m = meaningOf(row, this.el, this.config.guest);
    if (m.kind === 'undefined') return undef();
    if (this.el === 1) {
      const cnthctl = this.effective('CNTHCTL_EL2');
      if (row.el1Traps.some((r) => trapFires(r, cnthctl, this.config.guest === 'vhe', this.ecv, false))) {
        this.el = 2;
        return { irq: this.irqMask(), fault: 'trap' };
      }
    }
    const result: Expectation = { irq: 0 };
    match(m)
      .with({ kind: 'timer' }, (tm) => {
        const t = this.timers[TIMER_INDEX[tm.timer]]!;
        const cond = (): boolean => conditionMet(this.count, this.timerOffset(tm.timer), t.cval);
        match(tm.view)
          .with('ctl', () => {
            if (value !== undefined) t.ctl = value;
            else {
              const enabled = (t.ctl & CTL_ENABLE) !== 0n;
              result.value = (t.ctl & (CTL_WRITABLE | CTL_RES0)) | (enabled && cond() ? CTL_ISTATUS : 0n);
              result.unknown = (t.ctl & CTL_RES0) | (enabled ? 0n : CTL_ISTATUS);
            }
          })
          .with('cval', () => {
            if (value !== undefined) t.cval = value;
            else result.value = t.cval;
          })
          .with('tval', () => {
            const off = this.offsetFor(tm.offset);
            if (value !== undefined) t.cval = tvalWrite(this.count, off, value);
            else if ((t.ctl & CTL_ENABLE) !== 0n) result.value = tvalRead(this.count, off, t.cval);
            else {
              result.value = 0n;
              result.unknown = MASK64;
            }
          })
          .exhaustive();
      })
      .with({ kind: 'sysreg' }, (s) => {
        if (value !== undefined) this.sys[s.reg] = value;
        else {
          result.value = this.sys[s.reg];
          const res0 = this.sys[s.reg] & ~STORAGE[s.reg].writable(this.config.guest, this.ecv) & MASK64;
          if (res0 !== 0n) result.unknown = res0;
        }
      })
      .with({ kind: 'counter' }, (c) => {
        result.value = u64(this.count - this.offsetFor(c.offset));
      })
      .exhaustive();
    if (result.unknown === 0n) delete result.unknown;
    result.irq = this.irqMask();
    return result;
  }
}
