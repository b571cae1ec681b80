/**
 * The NV2 implementation model: FEAT_NV2 hardware, a VNCR page, and a host hypervisor (L0)
 * modelled on Linux KVM's nested timer design (facts §3-4, nv2-contract.md).
 *
 * The guest hypervisor runs at real EL1 with HCR_EL2.{NV2,NV1,NV} = {1,0,1} (vhe) or {1,1,1}
 * (nvhe); its nested guest at EL1 with NV=0. Every guest access is routed by routing.ts: a VNCR
 * slot (a verbatim 64-bit load/store, nothing else happens), a hardware EL1 timer register, or
 * a trap into the host, which emulates it.
 *
 * The host keeps the guest's register file (`ctxt`). In each context it puts on the two hardware
 * EL1 timers the guest timers whose names reach them (derived from the routing, not hard-coded),
 * and emulates the others with software timers. The VNCR page is the guest-facing copy of the
 * slotted registers: at every host entry the host merges what the guest stored there, evaluates
 * its emulated timers, and publishes the results (ISTATUS included) back into the page.
 *
 * With `nv2: false` the same host runs on FEAT_NV alone (no page): the trap-cost baseline.
 */
import { match } from 'ts-pattern';
import { MASK32, MASK64, low32, sext32, u64 } from '../../src/bits.js';
import type { HwAction, Implementation, SlotChange, StepDetail } from '../../src/engine/model.js';
import {
  TIMERS, TIMER_INDEX, hasFeature, type El, type Observation, type Op, type TimerId, type TraceConfig,
} from '../../src/trace/types.js';
import type { Layout } from '../layout.js';
import {
  CNTHCTL_ECV_BIT, CTL_ENABLE, CTL_ISTATUS, CTL_WRITABLE, REGISTERS, REGISTER_BY_NAME, STORAGE,
  trapFires, type Meaning, type OffsetRule, type RegisterRow, type SysRegId, type TrapRule, type View,
} from '../registers.js';
import { conditionMet, countsUntilAsserted, countsUntilConditionChanges, lineAsserted } from '../timer.js';
import { route, type Route, type RouteContext } from './routing.js';
import { CNTHCTL_E2H, physicalEcv, vel2HostCnthctl } from './policy.js';

/** The two hardware EL1 timers the guest can reach. */
export type HwTimer = 'ptimer' | 'vtimer';
const HW_TIMERS: readonly HwTimer[] = ['ptimer', 'vtimer'];

export interface Nv2Options {
  /** The VNCR layout. Ignored when `nv2` is false. */
  readonly layout: Layout;
  /** HCR_EL2.NV2: false gives the FEAT_NV-only host (every EL2 access traps). Default true. */
  readonly nv2?: boolean;
  /** The physical CPU has FEAT_ECV and the host sets its traps to make VNCR-held timers exact. Default false. */
  readonly hostEcvTraps?: boolean;
  /** Name in reports. Default "nv2" or "nv". */
  readonly name?: string;
}

interface TimerRegs {
  ctl: bigint;
  cval: bigint;
}

/** A guest state item a VNCR slot holds while the guest hypervisor runs. */
type SlotItem =
  | { readonly kind: 'timer'; readonly timer: TimerId; readonly view: View; readonly offset: OffsetRule }
  | { readonly kind: 'sysreg'; readonly reg: SysRegId }
  | { readonly kind: 'orphan' };

interface Slot {
  readonly key: string;
  readonly offset: number;
  readonly item: SlotItem;
}

export interface TrapCounters {
  /** Guest-hypervisor timer register accesses (msr/mrs at vEL2). */
  accesses: number;
  /** ...of which trapped to the host. */
  traps: number;
  /** ...of which were served from the VNCR page. */
  vncr: number;
  /** ...of which reached a hardware register. */
  hw: number;
}

const b = (n: number): bigint => 1n << BigInt(n);

/** Every EL1 trap rule that a guest's own CNTHCTL_EL2 can set for its nested guest. */
const GUEST_TRAP_RULES: readonly TrapRule[] = [
  ...new Map(REGISTERS.flatMap((r) => r.el1Traps).filter((r) => !r.nv101Only).map((r) => [r.field, r])).values(),
];

export class Nv2Model implements Implementation {
  readonly name: string;
  protected readonly layout: Layout;
  protected readonly nv2: boolean;
  protected readonly hostEcvTraps: boolean;

  // ---- per-trace configuration ----
  protected config!: TraceConfig;
  protected guestEcv = false;
  protected physEcv = false;
  protected nv1: 0 | 1 = 0;
  protected slots: Slot[] = [];

  // ---- hardware ----
  protected count = 0n;
  protected readonly hw = {
    timer: { ptimer: { ctl: 0n, cval: 0n }, vtimer: { ctl: 0n, cval: 0n } } as Record<HwTimer, TimerRegs>,
    cntvoff: 0n,
    cntpoff: 0n,
    /** E2H=1 layout. */
    cnthctl: 0n,
    cntkctl: 0n,
  };
  /** The VNCR page: 512 slots of 8 bytes. */
  protected page = new BigUint64Array(512);

  // ---- host ----
  protected el: El = 2;
  protected ctxt = {
    timers: TIMERS.map(() => ({ ctl: 0n, cval: 0n })) as TimerRegs[],
    sys: { CNTVOFF_EL2: 0n, CNTPOFF_EL2: 0n, CNTHCTL_EL2: 0n, CNTKCTL_EL1: 0n } as Record<SysRegId, bigint>,
  };
  /** Which hardware timer each guest timer is on in the current context, if any. */
  protected direct: (HwTimer | undefined)[] = [undefined, undefined, undefined, undefined];
  /** Interrupt level the host presents for each emulated timer. */
  protected level = [false, false, false, false];
  /** Software timer deadline (absolute count) of each emulated timer. */
  protected soft: (bigint | undefined)[] = [undefined, undefined, undefined, undefined];
  /** Value the host last wrote to each slot (index = offset/8): a difference means the guest stored. */
  protected published = new Map<number, bigint>();
  /** The guest storage register that hardware CNTKCTL_EL1 holds in this context. */
  protected cntkctlHolds: SysRegId = 'CNTKCTL_EL1';

  readonly counters: TrapCounters = { accesses: 0, traps: 0, vncr: 0, hw: 0 };
  protected actions: HwAction[] = [];
  protected vncrChanges: SlotChange[] = [];

  constructor(opts: Nv2Options) {
    this.layout = opts.layout;
    this.nv2 = opts.nv2 ?? true;
    this.hostEcvTraps = opts.hostEcvTraps ?? false;
    this.name = opts.name ?? (this.nv2 ? 'nv2' : 'nv');
  }

  // =====================================================================================
  // Implementation interface
  // =====================================================================================

  reset(config: TraceConfig): void {
    this.config = config;
    this.guestEcv = hasFeature(config, 'ecv');
    // A virtual CPU with FEAT_ECV needs it in hardware; ECV traps need it too.
    this.physEcv = physicalEcv({ guestEcv: this.guestEcv, hostEcvTraps: this.hostEcvTraps });
    this.nv1 = config.guest === 'nvhe' ? 1 : 0;
    this.count = config.count;
    this.page = new BigUint64Array(512);
    this.published.clear();
    this.hw.timer = { ptimer: { ctl: 0n, cval: 0n }, vtimer: { ctl: 0n, cval: 0n } };
    this.hw.cntvoff = this.hw.cntpoff = this.hw.cnthctl = this.hw.cntkctl = 0n;
    this.ctxt.timers = TIMERS.map(() => ({ ctl: 0n, cval: 0n }));
    this.ctxt.sys = { CNTVOFF_EL2: 0n, CNTPOFF_EL2: 0n, CNTHCTL_EL2: 0n, CNTKCTL_EL1: 0n };
    for (const [name, value] of Object.entries(config.init)) {
      const m = REGISTER_BY_NAME.get(name)!.vel2[config.guest];
      if (m.kind === 'timer' && m.view !== 'tval') {
        const t = this.ctxt.timers[TIMER_INDEX[m.timer]]!;
        if (m.view === 'ctl') t.ctl = value & MASK32 & ~CTL_ISTATUS;
        else t.cval = value;
      } else if (m.kind === 'sysreg') this.ctxt.sys[m.reg] = value;
    }
    this.slots = this.computeSlots();
    this.level = [false, false, false, false];
    this.soft = [undefined, undefined, undefined, undefined];
    this.counters.accesses = this.counters.traps = this.counters.vncr = this.counters.hw = 0;
    this.el = 2;
    this.actions = [];
    this.vncrChanges = [];
    this.loadContext();
    this.evaluate();
    this.publish();
    this.actions = [];
    this.vncrChanges = [];
  }

  step(op: Op): Observation {
    this.actions = [];
    this.vncrChanges = [];
    return match(op)
      .with({ op: 'msr' }, (o) => this.access(o.reg, o.value))
      .with({ op: 'mrs' }, (o) => this.access(o.reg, undefined))
      .with({ op: 'tick' }, (o) => {
        this.run(o.by);
        return { irq: this.irqMask() };
      })
      .with({ op: 'preempt' }, (o) => {
        this.note('vcpu put (preempted)');
        this.hostEntry();
        this.saveContext();
        this.count = u64(this.count + o.by);
        this.note('vcpu load');
        this.loadContext();
        this.evaluate();
        this.publish();
        return { irq: this.irqMask() };
      })
      .with({ op: 'wfi' }, (o) => {
        this.actions.push({ kind: 'trap', why: 'WFI (HCR_EL2.TWI)' });
        this.hostEntry();
        this.saveContext();
        const elapsed = this.blockUntil(o.limit);
        this.count = u64(this.count + elapsed);
        this.note(`vcpu blocked ${elapsed} counts, then loaded`);
        this.loadContext();
        this.evaluate();
        this.publish();
        return { irq: this.irqMask(), elapsed };
      })
      .with({ op: 'eret' }, () => {
        this.actions.push({ kind: 'trap', why: 'ERET (HCR_EL2.NV)' });
        this.switchTo(1);
        return { irq: this.irqMask() };
      })
      .with({ op: 'exit' }, () => {
        this.note('exception from the nested guest, injected into vEL2');
        this.switchTo(2);
        return { irq: this.irqMask() };
      })
      .exhaustive();
  }

  detail(): StepDetail {
    return { actions: this.actions, vncr: this.vncrChanges };
  }

  /** The VNCR page's slots of the layout, for inspection. */
  pageSlots(): { key: string; offset: number; value: bigint }[] {
    return this.slots.map((s) => ({ key: s.key, offset: s.offset, value: this.page[s.offset >> 3]! }));
  }

  // =====================================================================================
  // Derived tables
  // =====================================================================================

  /** The slots of the layout and the guest state each holds while vEL2 runs (from the register table). */
  protected computeSlots(): Slot[] {
    if (!this.nv2) return [];
    const out: Slot[] = [];
    for (const [key, offset] of [...this.layout.slots].sort((a, b2) => a[1] - b2[1])) {
      const row = REGISTERS.find((r) => r.slot?.key === key && (r.slot.nv1 === 'any' || r.slot.nv1 === this.nv1));
      const m = row ? row.vel2[this.config.guest] : undefined;
      const usable = row && !(row.feature === 'ecv' && !this.guestEcv);
      const item: SlotItem = !m || !usable ? { kind: 'orphan' }
        : m.kind === 'timer' ? { kind: 'timer', timer: m.timer, view: m.view, offset: m.offset }
        : m.kind === 'sysreg' ? { kind: 'sysreg', reg: m.reg } : { kind: 'orphan' };
      out.push({ key, offset, item });
    }
    return out;
  }

  protected routeContext(): RouteContext {
    return {
      nv: this.el === 2, nv2: this.el === 2 && this.nv2, nv1: this.nv1,
      cnthctl: this.hw.cnthctl, physEcv: this.physEcv, layout: this.layout,
    };
  }

  // =====================================================================================
  // Guest state: offsets and effective values
  // =====================================================================================

  protected guestEffective(reg: SysRegId): bigint {
    return this.ctxt.sys[reg] & STORAGE[reg].writable(this.config.guest, this.guestEcv);
  }

  protected guestPhysOffset(): bigint {
    return this.guestEcv && ((this.guestEffective('CNTHCTL_EL2') >> BigInt(CNTHCTL_ECV_BIT)) & 1n) === 1n
      ? this.ctxt.sys.CNTPOFF_EL2 : 0n;
  }

  /** The offset in a guest timer's condition (architecture: CNTVOFF for vtimer, CNTPOFF-if-ECV for ptimer). */
  protected guestTimerOffset(t: TimerId): bigint {
    return match(t)
      .with('vtimer', () => this.ctxt.sys.CNTVOFF_EL2)
      .with('ptimer', () => this.guestPhysOffset())
      .with('hptimer', 'hvtimer', () => 0n)
      .exhaustive();
  }

  protected guestOffset(rule: OffsetRule): bigint {
    return match(rule)
      .with('none', () => 0n)
      .with('cntvoff', () => this.ctxt.sys.CNTVOFF_EL2)
      .with('cntpoff', () => this.guestPhysOffset())
      .exhaustive();
  }

  protected hwOffset(rule: OffsetRule): bigint {
    return match(rule)
      .with('none', () => 0n)
      .with('cntvoff', () => this.hw.cntvoff)
      .with('cntpoff', () => (this.physEcv && (this.hw.cnthctl & b(CNTHCTL_E2H.ECV)) !== 0n ? this.hw.cntpoff : 0n))
      .exhaustive();
  }

  protected hwTimerOffset(h: HwTimer): bigint {
    return h === 'vtimer' ? this.hwOffset('cntvoff') : this.hwOffset('cntpoff');
  }

  /** The registers of guest timer `t` wherever they live now: on a hardware timer or in the host's context. */
  protected timerRegs(t: number): TimerRegs {
    const h = this.direct[t];
    return h ? this.hw.timer[h] : this.ctxt.timers[t]!;
  }

  protected irqMask(): number {
    let mask = 0;
    for (let i = 0; i < 4; i++) {
      const h = this.direct[i];
      const asserted = h
        ? lineAsserted(this.hw.timer[h].ctl, this.count, this.hwTimerOffset(h), this.hw.timer[h].cval)
        : this.level[i]!;
      if (asserted) mask |= 1 << i;
    }
    return mask;
  }

  // =====================================================================================
  // Guest accesses
  // =====================================================================================

  protected access(name: string, value: bigint | undefined): Observation {
    const row = REGISTER_BY_NAME.get(name)!;
    const write = value !== undefined;
    if (this.el === 2) this.counters.accesses++;
    const r: Route = route(row, write, this.routeContext());
    return match(r)
      .with({ kind: 'undefined' }, () => {
        this.actions.push({ kind: 'undefined' });
        return { irq: this.irqMask(), fault: 'undefined' as const };
      })
      .with({ kind: 'vncr' }, (v) => {
        if (this.el === 2) this.counters.vncr++;
        this.actions.push({ kind: 'vncr', offset: v.offset, key: v.key, write });
        const i = v.offset >> 3;
        if (write) {
          this.setSlot(v.offset, v.key, value);
          return { irq: this.irqMask() };
        }
        return { irq: this.irqMask(), value: this.page[i]! };
      })
      .with({ kind: 'hw' }, (h) => {
        if (this.el === 2) this.counters.hw++;
        this.actions.push({ kind: 'hw', reg: name, write });
        const out = this.hwAccess(h.meaning, value);
        return out === undefined ? { irq: this.irqMask() } : { irq: this.irqMask(), value: out };
      })
      .with({ kind: 'trap' }, (t) => {
        this.actions.push({ kind: 'trap', why: t.why });
        if (this.el === 2) {
          this.counters.traps++;
          return this.trapFromVel2(row, value);
        }
        return this.trapFromVel1(row, value);
      })
      .exhaustive();
  }

  protected setSlot(offset: number, key: string, value: bigint): void {
    const i = offset >> 3;
    const before = this.page[i]!;
    this.page[i] = value;
    if (before !== value) this.vncrChanges.push({ offset, key, before, after: value });
  }

  /** An access that reached a hardware EL1 register directly. */
  protected hwAccess(m: Exclude<Meaning, { kind: 'undefined' }>, value: bigint | undefined): bigint | undefined {
    return match(m)
      .with({ kind: 'timer' }, (tm) => {
        const h = tm.timer as HwTimer;
        const t = this.hw.timer[h];
        return this.timerViewAccess(t, tm.view, this.hwOffset(tm.offset), this.hwTimerOffset(h), value, 'hw');
      })
      .with({ kind: 'sysreg' }, () => {
        // Only CNTKCTL_EL1 is reachable at EL1; the physical register keeps every bit written.
        if (value !== undefined) this.hw.cntkctl = value;
        return value === undefined ? this.hw.cntkctl : undefined;
      })
      .with({ kind: 'counter' }, (c) => u64(this.count - this.hwOffset(c.offset)))
      .exhaustive();
  }

  /**
   * CTL/CVAL/TVAL semantics on one set of timer registers. `store` says how CTL keeps a write:
   * the hardware keeps ENABLE and IMASK only; the host keeps 32 bits less ISTATUS (as KVM does).
   */
  protected timerViewAccess(
    t: TimerRegs, view: View, accessOffset: bigint, condOffset: bigint, value: bigint | undefined, store: 'hw' | 'host',
  ): bigint | undefined {
    return match(view)
      .with('ctl', () => {
        if (value !== undefined) {
          t.ctl = store === 'hw' ? value & CTL_WRITABLE : value & MASK32 & ~CTL_ISTATUS;
          return undefined;
        }
        return this.ctlWithStatus(t, condOffset);
      })
      .with('cval', () => {
        if (value !== undefined) {
          t.cval = value;
          return undefined;
        }
        return t.cval;
      })
      .with('tval', () => {
        if (value !== undefined) {
          t.cval = u64(this.count - accessOffset + sext32(value));
          return undefined;
        }
        return low32(t.cval - (this.count - accessOffset));
      })
      .exhaustive();
  }

  /** CTL as read: stored bits with ISTATUS = ENABLE && condition met. */
  protected ctlWithStatus(t: TimerRegs, condOffset: bigint): bigint {
    const met = (t.ctl & CTL_ENABLE) !== 0n && conditionMet(this.count, condOffset, t.cval);
    return (t.ctl & ~CTL_ISTATUS) | (met ? CTL_ISTATUS : 0n);
  }

  /** The host's trap handler for an access from the guest hypervisor. */
  protected trapFromVel2(row: RegisterRow, value: bigint | undefined): Observation {
    this.hostEntry();
    const m = row.vel2[this.config.guest];
    if (m.kind === 'undefined' || (row.feature === 'ecv' && !this.guestEcv)) {
      this.note('inject UNDEFINED');
      this.afterHostWork();
      return { irq: this.irqMask(), fault: 'undefined' };
    }
    const out = this.emulate(m, value);
    this.afterHostWork();
    return out === undefined ? { irq: this.irqMask() } : { irq: this.irqMask(), value: out };
  }

  /** A nested-guest access trapped by the hardware: forward it to the guest hypervisor if its CNTHCTL_EL2 asks. */
  protected trapFromVel1(row: RegisterRow, value: bigint | undefined): Observation {
    const guestCnthctl = this.guestEffective('CNTHCTL_EL2');
    const guestWants = row.el1Traps.some((r) => trapFires(r, guestCnthctl, this.config.guest === 'vhe', this.guestEcv, false));
    if (guestWants) {
      this.note('forward trap to the guest hypervisor');
      this.switchTo(2);
      return { irq: this.irqMask(), fault: 'trap' };
    }
    this.hostEntry();
    const out = row.vel1.kind === 'undefined' ? undefined : this.emulate(row.vel1, value);
    this.afterHostWork();
    return out === undefined ? { irq: this.irqMask() } : { irq: this.irqMask(), value: out };
  }

  /** Emulate an access with its architectural meaning on the guest state (wherever it lives). */
  protected emulate(m: Exclude<Meaning, { kind: 'undefined' }>, value: bigint | undefined): bigint | undefined {
    return match(m)
      .with({ kind: 'timer' }, (tm) => {
        const i = TIMER_INDEX[tm.timer];
        const onHw = this.direct[i] !== undefined;
        const t = this.timerRegs(i);
        const cond = onHw ? this.hwTimerOffset(this.direct[i]!) : this.guestTimerOffset(tm.timer);
        return this.timerViewAccess(t, tm.view, this.emulatedAccessOffset(tm.offset), cond, value, onHw ? 'hw' : 'host');
      })
      .with({ kind: 'sysreg' }, (s) => {
        if (value === undefined) return this.ctxt.sys[s.reg];
        this.ctxt.sys[s.reg] = value & STORAGE[s.reg].writable(this.config.guest, this.guestEcv);
        if (s.reg === this.cntkctlHolds) this.hw.cntkctl = this.ctxt.sys[s.reg];
        this.reconfigure();
        return undefined;
      })
      .with({ kind: 'counter' }, (c) => u64(this.count - this.guestOffset(c.offset)))
      .exhaustive();
  }

  /** The offset an emulated TVAL access applies (a hook so that tests can break it). */
  protected emulatedAccessOffset(rule: OffsetRule): bigint {
    return this.guestOffset(rule);
  }

  // =====================================================================================
  // Host entries, emulated timers and the VNCR page
  // =====================================================================================

  protected note(what: string): void {
    this.actions.push({ kind: 'host', what });
  }

  /**
   * Entering the host from the running guest: take in what the guest hypervisor stored in the
   * VNCR page since the host last published it.
   */
  protected hostEntry(): void {
    if (this.el !== 2) return;
    this.syncHwResidentSysregs();
    for (const s of this.slots) {
      const v = this.page[s.offset >> 3]!;
      if (this.published.get(s.offset) === v) continue;
      this.mergeSlot(s, v);
    }
    this.reconfigure();
  }

  /** Re-derive the hardware configuration and timer placement from the guest's current state. */
  protected reconfigure(): void {
    this.saveContext();
    this.loadContext();
  }

  /** A value the guest stored in a slot becomes the guest's register value. */
  protected mergeSlot(s: Slot, v: bigint): void {
    const item = s.item;
    match(item)
      .with({ kind: 'orphan' }, () => undefined)
      .with({ kind: 'sysreg' }, (x) => {
        this.ctxt.sys[x.reg] = v;
      })
      .with({ kind: 'timer' }, (x) => {
        const i = TIMER_INDEX[x.timer];
        const onHw = this.direct[i] !== undefined;
        const t = this.timerRegs(i);
        match(x.view)
          .with('ctl', () => {
            t.ctl = onHw ? v & CTL_WRITABLE : v & MASK32 & ~CTL_ISTATUS;
          })
          .with('cval', () => {
            t.cval = v;
          })
          .with('tval', () => {
            // A TVAL slot's most sensible meaning: relative to the count when the host looks.
            t.cval = u64(this.count - this.guestOffset(x.offset) + sext32(v));
          })
          .exhaustive();
      })
      .exhaustive();
  }

  /** The guest register that hardware CNTKCTL_EL1 holds is read back from it. */
  protected syncHwResidentSysregs(): void {
    this.ctxt.sys[this.cntkctlHolds] = this.hw.cntkctl;
  }

  /** After the host handled something: re-evaluate emulated timers and publish into the page. */
  protected afterHostWork(): void {
    this.evaluate();
    this.publish();
  }

  /** Emulated timers: interrupt level and software timer from the guest's current registers. */
  protected evaluate(): void {
    for (let i = 0; i < 4; i++) {
      if (this.direct[i] !== undefined) {
        this.level[i] = false;
        this.soft[i] = undefined;
        continue;
      }
      const t = this.ctxt.timers[i]!;
      const off = this.guestTimerOffset(TIMERS[i]!);
      this.level[i] = lineAsserted(t.ctl, this.count, off, t.cval);
      this.soft[i] = this.softDeadline(t, off);
    }
  }

  /** When the software timer of an emulated timer must next fire: at its next condition change while enabled. */
  protected softDeadline(t: TimerRegs, off: bigint): bigint | undefined {
    if ((t.ctl & CTL_ENABLE) === 0n) return undefined;
    const delta = countsUntilConditionChanges(this.count, off, t.cval);
    // 2^64 counts away is further than any op can move time: nothing to arm.
    return delta > MASK64 ? undefined : u64(this.count + delta);
  }

  /** The value a slot should show for the guest's current state. */
  protected slotValue(s: Slot): bigint | undefined {
    return match(s.item)
      .with({ kind: 'orphan' }, () => undefined)
      .with({ kind: 'sysreg' }, (x) => this.ctxt.sys[x.reg])
      .with({ kind: 'timer' }, (x) => {
        const i = TIMER_INDEX[x.timer];
        const t = this.timerRegs(i);
        const h = this.direct[i];
        const cond = h ? this.hwTimerOffset(h) : this.guestTimerOffset(x.timer);
        return match(x.view)
          .with('ctl', () => this.publishedCtl(t, cond, i))
          .with('cval', () => t.cval)
          .with('tval', () => low32(t.cval - (this.count - this.guestOffset(x.offset))))
          .exhaustive();
      })
      .exhaustive();
  }

  /** CTL as published into the page: ISTATUS = ENABLE && condition met (architecturally, IMASK plays no part). */
  protected publishedCtl(t: TimerRegs, condOffset: bigint, _timer: number): bigint {
    return this.ctlWithStatus(t, condOffset);
  }

  /** Write the guest's current state into every slot (only while the guest hypervisor's page is live). */
  protected publish(): void {
    if (this.el !== 2) return;
    for (const s of this.slots) {
      const v = this.slotValue(s);
      if (v === undefined) continue;
      this.setSlot(s.offset, s.key, v);
      this.published.set(s.offset, v);
    }
  }

  /** Let `by` counts pass while the vCPU runs, firing software timers at their exact counts. */
  protected run(by: bigint): void {
    let remaining = by;
    for (;;) {
      let best: number | undefined;
      let bestDist = 0n;
      for (let i = 0; i < 4; i++) {
        const d = this.soft[i];
        if (d === undefined) continue;
        const dist = u64(d - this.count);
        if (dist <= remaining && (best === undefined || dist < bestDist)) {
          best = i;
          bestDist = dist;
        }
      }
      if (best === undefined) break;
      this.count = u64(this.count + bestDist);
      remaining -= bestDist;
      this.note(`software timer of ${TIMERS[best]} fired`);
      this.softTimerFired(best);
    }
    this.count = u64(this.count + remaining);
  }

  /** A software timer expired: the host runs (an exit), re-reads the guest's state, updates lines and the page. */
  protected softTimerFired(_i: number): void {
    this.hostEntry();
    this.afterHostWork();
  }

  /** How long a blocked vCPU sleeps: until the earliest of its four timers can fire, at most `limit`. */
  protected blockUntil(limit: bigint): bigint {
    let best = limit;
    for (let i = 0; i < 4; i++) {
      const t = this.ctxt.timers[i]!;
      const d = countsUntilAsserted(t.ctl, this.count, this.guestTimerOffset(TIMERS[i]!), t.cval);
      if (d !== undefined && d < best) best = d;
    }
    return best;
  }

  // =====================================================================================
  // Context switch
  // =====================================================================================

  protected switchTo(el: El): void {
    this.hostEntry();
    this.saveContext();
    this.el = el;
    this.note(el === 1 ? 'switch timers to the nested guest' : 'switch timers to the guest hypervisor');
    this.loadContext();
    this.evaluate();
    this.publish();
  }

  /** Hardware timers and registers back into the host's copy of the guest state. */
  protected saveContext(): void {
    this.syncHwResidentSysregs();
    for (let i = 0; i < 4; i++) {
      const h = this.direct[i];
      if (!h) continue;
      this.ctxt.timers[i] = { ctl: this.hw.timer[h].ctl & CTL_WRITABLE, cval: this.hw.timer[h].cval };
    }
    this.direct = [undefined, undefined, undefined, undefined];
  }

  /** Choose what runs on the hardware in the current context, and load it. */
  protected loadContext(): void {
    this.applyHwConfig();
    this.direct = this.placement();
    for (let i = 0; i < 4; i++) {
      const h = this.direct[i];
      if (!h) continue;
      const t = this.ctxt.timers[i]!;
      this.hw.timer[h] = { ctl: t.ctl & CTL_WRITABLE, cval: t.cval };
    }
    this.applyHwConfig();
    this.hw.cntkctl = this.ctxt.sys[this.cntkctlHolds];
  }

  /**
   * Which guest timer goes on which hardware timer: the one whose names, routed with the
   * context's trap configuration, reach that hardware timer. Derived from the table, so a
   * layout that leaves a register out changes the placement by itself.
   */
  protected placement(): (HwTimer | undefined)[] {
    const out: (HwTimer | undefined)[] = [undefined, undefined, undefined, undefined];
    const ctx = this.routeContext();
    for (const row of REGISTERS) {
      const m = this.el === 2 ? row.vel2[this.config.guest] : row.vel1;
      if (m.kind !== 'timer') continue;
      for (const write of [false, true]) {
        const r = route(row, write, ctx);
        if (r.kind === 'hw' && r.meaning.kind === 'timer') out[TIMER_INDEX[m.timer]] = r.meaning.timer as HwTimer;
      }
    }
    return out;
  }

  /** Program the hardware CNTHCTL_EL2, offsets and CNTKCTL_EL1 for the current context. */
  protected applyHwConfig(): void {
    if (this.el === 2) {
      this.cntkctlHolds = this.config.guest === 'vhe' ? 'CNTHCTL_EL2' : 'CNTKCTL_EL1';
      const trapPhys = this.config.guest === 'nvhe' && this.guestPhysOffset() !== 0n;
      this.hw.cnthctl = vel2HostCnthctl(this.config.guest, this.hostEcvTraps, this.physEcv, trapPhys);
      this.hw.cntpoff = 0n;
      // The hardware virtual offset is what the timer on the hardware virtual timer needs:
      // none for the EL2 virtual timer, CNTVOFF_EL2 for the EL1 one (and for CNTVCT_EL0 with E2H=0).
      const onV = this.direct.findIndex((h) => h === 'vtimer');
      const needsVoff = onV >= 0 ? TIMERS[onV] === 'vtimer' : this.config.guest === 'nvhe';
      this.hw.cntvoff = needsVoff ? this.ctxt.sys.CNTVOFF_EL2 : 0n;
    } else {
      this.cntkctlHolds = 'CNTKCTL_EL1';
      // The nested guest: mirror the guest hypervisor's own EL1 trap bits, in the hardware's E2H layout.
      const guest = this.guestEffective('CNTHCTL_EL2');
      const e2h = this.config.guest === 'vhe';
      let cnthctl = 0n;
      for (const rule of GUEST_TRAP_RULES) {
        if (rule.e2hBit === undefined) continue;
        // The hardware bit takes the value that makes the same rule fire exactly when the guest's does.
        if (trapFires(rule, guest, e2h, this.guestEcv, false) === (rule.trapsWhen === 1)) cnthctl |= b(rule.e2hBit);
      }
      if (this.guestEcv && ((guest >> BigInt(CNTHCTL_ECV_BIT)) & 1n) === 1n) cnthctl |= b(CNTHCTL_E2H.ECV);
      this.hw.cnthctl = cnthctl;
      this.hw.cntvoff = this.ctxt.sys.CNTVOFF_EL2;
      this.hw.cntpoff = this.ctxt.sys.CNTPOFF_EL2;
    }
  }
}

export { HW_TIMERS };
