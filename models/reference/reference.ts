/**
 * The architectural reference model: the Arm generic timer as the guest hypervisor sees it.
 *
 * One vCPU with a real EL2 (vEL2) and its nested guest (vEL1); four timers, the count, and the
 * storage registers of the register table (CNTVOFF_EL2, CNTPOFF_EL2 with `ecv`, CNTHCTL_EL2,
 * CNTKCTL_EL1). Every access takes effect at once. Every UNKNOWN is returned as an `unknown` mask
 * over the value, never as a guess. What each register name means is looked up in the register
 * table; this file holds only the semantics of the meanings. The whole state is one plain record
 * (RefState), so that it can be copied, compared and hashed.
 */
import { MASK64, u64 } from '../arch/bits.js';
import { e2h1Bit } from '../arch/cnthctl.js';
import { InputError, unreachable } from '../arch/errors.js';
import { resolveOffset, type OffsetRule } from '../arch/offsets.js';
import {
  CTL_ENABLE, CTL_ISTATUS, CTL_RES0, CTL_WRITABLE, HCR_TGE, REGISTER_TABLE, featureTest, meaningOf, res1Bits, trapFires, writableBits,
  type RegisterTable, type StorageId,
} from '../arch/registers.js';
import { conditionMet, countsUntilAsserted, lineAsserted, tvalRead, tvalWrite } from '../arch/timer-math.js';
import { NTIMERS, TIMER_CONDITION, TIMER_INDEX, type TimerId } from '../arch/timers.js';
import { cpuFeatures, setupKey, type El, type Expectation, type Feature, type Op, type TraceConfig } from '../arch/vocabulary.js';

/** The bits of CTL a read returns as stored (ISTATUS is computed). */
const CTL_READ_BITS = CTL_WRITABLE | CTL_RES0;
/** CNTHCTL_EL2.ECV: the same bit in both E2H layouts. */
const ECV_BIT = e2h1Bit('ECV');

/** Everything the architecture remembers, as one plain record. */
export interface RefState {
  count: bigint;
  el: El;
  /** Per timer (TIMERS order): CTL as last written, RES0 bits included. */
  ctl: bigint[];
  cval: bigint[];
  /** Per storage register of the table: its value as last written, RES0 bits included. */
  sys: bigint[];
}

export interface ReferenceOptions {
  /** The register table the vCPU implements. Default: the machine's (REGISTER_TABLE). */
  readonly table?: RegisterTable;
}

/** What a register table and a trace's guest mode and features imply, computed once per pair (a model is made per trace). */
interface Derived {
  readonly has: (f: Feature) => boolean;
  readonly writable: readonly bigint[];
  readonly res1: readonly bigint[];
}
const DERIVED = new WeakMap<RegisterTable, Map<number, Derived>>();

function derived(table: RegisterTable, config: TraceConfig): Derived {
  let byKey = DERIVED.get(table);
  if (!byKey) DERIVED.set(table, (byKey = new Map<number, Derived>()));
  const k = setupKey(config);
  let d = byKey.get(k);
  if (!d) {
    const has = featureTest(cpuFeatures(config));
    d = { has, writable: table.storage.map((s) => writableBits(s, config.guest, has)), res1: table.storage.map((s) => res1Bits(s, config.guest, has)) };
    byKey.set(k, d);
  }
  return d;
}

export class ReferenceModel {
  readonly config: TraceConfig;
  readonly table: RegisterTable;
  /** The virtual CPU has FEAT_ECV. */
  readonly ecv: boolean;
  /** Its features (cpuFeatures of the config). */
  readonly has: (f: Feature) => boolean;
  state: RefState;
  /** Per storage register: the bits that hold state for this guest mode and feature set. */
  private readonly writable: readonly bigint[];
  /** Per storage register: its RES1 bits (they read as one unless written with zero, then UNKNOWN). */
  private readonly res1: readonly bigint[];
  private readonly e2h: boolean;

  constructor(config: TraceConfig, opts: ReferenceOptions = {}) {
    this.config = config;
    this.table = opts.table ?? REGISTER_TABLE;
    const d = derived(this.table, config);
    this.has = d.has;
    this.ecv = this.has('ecv');
    this.e2h = config.guest === 'vhe';
    this.writable = d.writable;
    this.res1 = d.res1;
    this.state = {
      count: config.count, el: 2,
      ctl: new Array<bigint>(NTIMERS).fill(0n), cval: new Array<bigint>(NTIMERS).fill(0n),
      sys: this.res1.slice(),
    };
    for (const [name, value] of Object.entries(config.init)) this.initRegister(name, value);
  }

  get count(): bigint {
    return this.state.count;
  }

  get el(): El {
    return this.state.el;
  }

  private initRegister(name: string, value: bigint): void {
    const row = this.table.byName.get(name);
    const m = row && !(row.feature && !this.has(row.feature)) ? meaningOf(row, 2, this.config.guest) : undefined;
    if (!m || m.kind === 'undefined' || m.kind === 'counter' || (m.kind === 'timer' && m.view === 'tval')) {
      throw new InputError(`config.init.${name}: not a writable register with state at vEL2 for a '${this.config.guest}' guest`);
    }
    if (m.kind === 'timer') {
      if (m.view === 'ctl') this.state.ctl[m.ti] = value & ~CTL_ISTATUS;
      else this.state.cval[m.ti] = value;
    } else this.state.sys[m.si] = value | this.res1[m.si]!;
  }

  /** A copy of the state, for restore(). */
  snapshot(): RefState {
    const s = this.state;
    return { count: s.count, el: s.el, ctl: s.ctl.slice(), cval: s.cval.slice(), sys: s.sys.slice() };
  }

  /** Return to a snapshot (which stays valid: it is copied). */
  restore(s: RefState): void {
    // In place: restoring is the exhaustive search's inner loop, and allocating there is most of its cost.
    const t = this.state;
    t.count = s.count;
    t.el = s.el;
    for (let i = 0; i < s.ctl.length; i++) {
      t.ctl[i] = s.ctl[i]!;
      t.cval[i] = s.cval[i]!;
    }
    for (let i = 0; i < s.sys.length; i++) t.sys[i] = s.sys[i]!;
  }

  /** Write the state into `buf` from word `at` (a binary key: equal states, equal words); returns the next free word. */
  keyInto(buf: BigUint64Array, at: number): number {
    const s = this.state;
    buf[at++] = s.count;
    buf[at++] = BigInt(s.el);
    for (let i = 0; i < s.ctl.length; i++) {
      buf[at++] = s.ctl[i]!;
      buf[at++] = s.cval[i]!;
    }
    for (let i = 0; i < s.sys.length; i++) buf[at++] = s.sys[i]!;
    return at;
  }

  /** A canonical text of the state: equal states give equal keys (the same as stateKey's order, faster). */
  key(): string {
    const s = this.state;
    return `${s.el}|${s.count.toString(16)}|${s.ctl.join(',')}|${s.cval.join(',')}|${s.sys.join(',')}`;
  }

  /** The effective (architecturally meaningful) bits of storage register `si`. */
  effective(si: number): bigint {
    return this.state.sys[si]! & this.writable[si]!;
  }

  /** A storage register's value as last written, by id. */
  sysValue(id: StorageId): bigint {
    return this.state.sys[this.table.storageIndex.get(id)!]!;
  }

  /**
   * CNTPOFF_EL2 is in force: FEAT_ECV_POFF, CNTHCTL_EL2.ECV == 1 and HCR_EL2.TGE == 0 (with TGE=1
   * the effective value of CNTHCTL_EL2.ECV is 0, and with {E2H, TGE} = {1, 1} that of CNTPOFF_EL2; facts §10).
   */
  poffInForce(): boolean {
    return this.has('ecv-poff') && (this.effective(this.table.core.cnthctl) & ECV_BIT) !== 0n && !this.tge();
  }

  /** HCR_EL2.TGE. */
  tge(): boolean {
    return (this.state.sys[this.table.core.hcr]! & HCR_TGE) !== 0n;
  }

  /** Counts until the virtual count, as CNTVCT_EL0 reads at the current EL, reaches `deadline` (0 if it has). */
  countsUntilVirtual(deadline: bigint): bigint {
    const m = meaningOf(this.table.byName.get('CNTVCT_EL0')!, this.state.el, this.config.guest);
    const vc = u64(this.state.count - (m.kind === 'counter' ? this.offsetFor(m.offset) : 0n));
    return vc >= deadline ? 0n : deadline - vc;
  }

  offsetFor(rule: OffsetRule): bigint {
    const s = this.state.sys, c = this.table.core;
    return resolveOffset(rule, s[c.cntvoff]!, s[c.cntpoff]!, rule === 'cntpoff' && this.poffInForce());
  }

  /** The offset in a timer's condition: CNTVOFF for the EL1 virtual timer, CNTPOFF-if-in-force for the EL1 physical one, none for EL2 timers. */
  timerOffset(t: TimerId | number): bigint {
    return this.offsetFor(TIMER_CONDITION[typeof t === 'number' ? t : TIMER_INDEX[t]]!);
  }

  irqMask(): number {
    const s = this.state;
    let mask = 0;
    for (let i = 0; i < NTIMERS; i++) {
      if (lineAsserted(s.ctl[i]!, s.count, this.timerOffset(i), s.cval[i]!)) mask |= 1 << i;
    }
    return mask;
  }

  step(op: Op): Expectation {
    const s = this.state;
    switch (op.op) {
      case 'msr': return this.access(op.reg, op.value);
      case 'mrs': return this.access(op.reg, undefined);
      case 'tick': case 'preempt':
        s.count = u64(s.count + op.by);
        return { irq: this.irqMask() };
      case 'wfi': {
        const elapsed = this.countsUntilWake(op.limit);
        s.count = u64(s.count + elapsed);
        return { irq: this.irqMask(), elapsed };
      }
      case 'wfit': {
        // FEAT_WFxT: WFIT is UNDEFINED without it.
        if (!this.has('wfxt')) return { irq: this.irqMask(), fault: 'undefined' };
        const elapsed = this.countsUntilWake(this.countsUntilVirtual(op.deadline));
        s.count = u64(s.count + elapsed);
        return { irq: this.irqMask(), elapsed };
      }
      case 'eret':
        if (s.el !== 2) throw new InputError(`eret at vEL1: eret is only valid at vEL2`);
        if (this.tge()) throw new InputError(`eret with HCR_EL2.TGE=1: the nested guest does not run while the guest hypervisor is its own host`);
        s.el = 1;
        return { irq: this.irqMask() };
      case 'exit':
        if (s.el !== 1) throw new InputError(`exit at vEL2: exit is only valid at vEL1`);
        s.el = 2;
        return { irq: this.irqMask() };
      default:
        return unreachable(op, 'op');
    }
  }

  /** Counts a `wfi` with this limit idles: until the earliest line asserts, at most `limit`. */
  countsUntilWake(limit: bigint): bigint {
    const s = this.state;
    let best = limit;
    for (let i = 0; i < NTIMERS; i++) {
      const d = countsUntilAsserted(s.ctl[i]!, s.count, this.timerOffset(i), s.cval[i]!);
      if (d !== undefined && d < best) best = d;
    }
    return best;
  }

  private access(name: string, value: bigint | undefined): Expectation {
    const s = this.state;
    const row = this.table.byName.get(name);
    if (!row) throw new InputError(`unknown register '${name}'`);
    if ((row.feature && !this.has(row.feature)) || (value !== undefined && row.access === 'ro')) {
      return { irq: this.irqMask(), fault: 'undefined' };
    }
    const m = meaningOf(row, s.el, this.config.guest);
    if (m.kind === 'undefined') return { irq: this.irqMask(), fault: 'undefined' };
    if (s.el === 1) {
      const cnthctl = this.effective(this.table.core.cnthctl);
      for (const r of row.el1Traps) {
        if (trapFires(r, cnthctl, this.e2h, this.has, false)) {
          s.el = 2;
          return { irq: this.irqMask(), fault: 'trap' };
        }
      }
    }
    let out: bigint | undefined;
    let unknown = 0n;
    switch (m.kind) {
      case 'timer': {
        const i = m.ti;
        switch (m.view) {
          case 'ctl':
            if (value !== undefined) s.ctl[i] = value;
            else {
              const ctl = s.ctl[i]!;
              const enabled = (ctl & CTL_ENABLE) !== 0n;
              const met = enabled && conditionMet(s.count, this.timerOffset(i), s.cval[i]!);
              out = (ctl & CTL_READ_BITS) | (met ? CTL_ISTATUS : 0n);
              unknown = (ctl & CTL_RES0) | (enabled ? 0n : CTL_ISTATUS);
            }
            break;
          case 'cval':
            if (value !== undefined) s.cval[i] = value;
            else out = s.cval[i]!;
            break;
          case 'tval': {
            const off = this.offsetFor(m.offset);
            if (value !== undefined) s.cval[i] = tvalWrite(s.count, off, value);
            else if ((s.ctl[i]! & CTL_ENABLE) !== 0n) out = tvalRead(s.count, off, s.cval[i]!);
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
      case 'storage':
        if (value !== undefined) s.sys[m.si] = value;
        else {
          const v = s.sys[m.si]!, res1 = this.res1[m.si]!;
          out = v | res1;
          unknown = (v & ~this.writable[m.si]! & ~res1) | (res1 & ~v);
        }
        break;
      case 'counter':
        out = u64(s.count - this.offsetFor(m.offset));
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
