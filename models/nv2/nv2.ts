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
import { ImplementationError, unreachable } from '../../src/errors.js';
import { MASK32, MASK64, low32, sext32, u64 } from '../../src/bits.js';
import type { HwAction, Implementation, SlotChange, StepDetail } from '../../src/engine/model.js';
import {
  TIMERS, TIMER_INDEX, hasFeature, type El, type GuestMode, type Observation, type Op, type TimerId, type TraceConfig,
} from '../../src/trace/types.js';
import type { Layout } from '../layout.js';
import {
  CNTHCTL_ECV_BIT, CTL_ENABLE, CTL_ISTATUS, CTL_WRITABLE, REGISTERS, REGISTER_BY_NAME, STORAGE,
  trapFires, type Meaning, type OffsetRule, type RegisterRow, type SysRegId, type TrapRule, type View,
} from '../registers.js';
import { conditionMet, countsUntilAsserted, countsUntilConditionChanges, lineAsserted } from '../timer.js';
import { routeTable, type Route, type RouteContext, type RouteTable } from './routing.js';
import { CNTHCTL_E2H, physicalEcv, vel2HostCnthctl } from './policy.js';

/** Software timer firings one tick may cause before the host is judged to be spinning. */
export const RUN_FIRING_LIMIT = 64;

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
const HW_ECV = b(CNTHCTL_E2H.ECV);
/** CTL bits the host keeps from a write: 32 bits less ISTATUS (as KVM does). */
const HOST_CTL_BITS = MASK32 & ~CTL_ISTATUS;
const NOT_ISTATUS = ~CTL_ISTATUS;

/** Every EL1 trap rule that a guest's own CNTHCTL_EL2 can set for its nested guest. */
const GUEST_TRAP_RULES: readonly TrapRule[] = [
  ...new Map(REGISTERS.flatMap((r) => r.el1Traps).filter((r) => !r.nv101Only).map((r) => [r.field, r])).values(),
];

/**
 * The slots of a layout for one (guest, NV1, guest ECV): a pure function of those, so computed once
 * per layout and kept (slots are read-only records).
 */
const SLOT_CACHE = new WeakMap<Layout, Map<string, readonly Slot[]>>();

/**
 * placement() for one routing table and guest mode, computed once. (The table fixes the EL through
 * its context: nv is true exactly at vEL2.)
 */
const PLACEMENT_CACHE = new WeakMap<RouteTable, Partial<Record<GuestMode, readonly (HwTimer | undefined)[]>>>();

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
  /** Value the host last wrote to each slot (index = offset/8), if any: a difference means the guest stored. */
  protected published: (bigint | undefined)[] = [];
  /** The guest storage register that hardware CNTKCTL_EL1 holds in this context. */
  protected cntkctlHolds: SysRegId = 'CNTKCTL_EL1';

  readonly counters: TrapCounters = { accesses: 0, traps: 0, vncr: 0, hw: 0 };
  protected actions: HwAction[] = [];
  protected vncrChanges: SlotChange[] = [];

  // ---- memoised derivations (pure functions of the fields named) ----
  /** Per EL (index el - 1), the routing table last used there; current while hw.cnthctl, nv1 and physEcv match its context. */
  private readonly routeTabs: (RouteTable | undefined)[] = [undefined, undefined];
  /** STORAGE[reg].writable(guest, guestEcv), per reset. */
  private writable: Record<SysRegId, bigint> = { CNTVOFF_EL2: 0n, CNTPOFF_EL2: 0n, CNTHCTL_EL2: 0n, CNTKCTL_EL1: 0n };
  /** CNTHCTL_EL2.ECV if the guest has FEAT_ECV, else 0n (the bit then has no effect), per reset. */
  private guestEcvBit = 0n;
  /** vel2HostCnthctl for this trace, without and with the physical-timer trap. */
  private vel2Cnthctl: readonly [bigint, bigint] = [0n, 0n];
  /** The last vEL1 hardware CNTHCTL_EL2 derived from the guest's effective CNTHCTL_EL2. */
  private vel1CnthctlFor: bigint | undefined;
  private vel1Cnthctl = 0n;

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
    const w = (reg: SysRegId): bigint => STORAGE[reg].writable(config.guest, this.guestEcv);
    this.writable = { CNTVOFF_EL2: w('CNTVOFF_EL2'), CNTPOFF_EL2: w('CNTPOFF_EL2'), CNTHCTL_EL2: w('CNTHCTL_EL2'), CNTKCTL_EL1: w('CNTKCTL_EL1') };
    this.guestEcvBit = this.guestEcv ? b(CNTHCTL_ECV_BIT) : 0n;
    this.vel2Cnthctl = [
      vel2HostCnthctl(config.guest, this.hostEcvTraps, this.physEcv, false),
      vel2HostCnthctl(config.guest, this.hostEcvTraps, this.physEcv, true),
    ];
    this.vel1CnthctlFor = undefined;
    this.count = config.count;
    this.page.fill(0n);
    this.published = [];
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
    switch (op.op) {
      case 'msr': return this.access(op.reg, op.value);
      case 'mrs': return this.access(op.reg, undefined);
      case 'tick':
        this.run(op.by);
        return { irq: this.irqMask() };
      case 'preempt':
        this.note('vcpu put (preempted)');
        this.hostEntry();
        this.saveContext();
        this.count = u64(this.count + op.by);
        this.note('vcpu load');
        this.loadContext();
        this.evaluate();
        this.publish();
        return { irq: this.irqMask() };
      case 'wfi': {
        this.actions.push({ kind: 'trap', why: 'WFI (HCR_EL2.TWI)' });
        this.hostEntry();
        this.saveContext();
        const elapsed = this.blockUntil(op.limit);
        this.count = u64(this.count + elapsed);
        this.note(`vcpu blocked ${elapsed} counts, then loaded`);
        this.loadContext();
        this.evaluate();
        this.publish();
        return { irq: this.irqMask(), elapsed };
      }
      case 'eret':
        this.actions.push({ kind: 'trap', why: 'ERET (HCR_EL2.NV)' });
        this.switchTo(1);
        return { irq: this.irqMask() };
      case 'exit':
        this.note('exception from the nested guest, injected into vEL2');
        this.switchTo(2);
        return { irq: this.irqMask() };
      default:
        return unreachable(op, 'op');
    }
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
    let byKey = SLOT_CACHE.get(this.layout);
    if (!byKey) SLOT_CACHE.set(this.layout, (byKey = new Map()));
    const key = `${this.config.guest} ${this.nv1} ${this.guestEcv}`;
    let slots = byKey.get(key);
    if (!slots) byKey.set(key, (slots = this.deriveSlots()));
    return slots.slice();
  }

  private deriveSlots(): Slot[] {
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

  /** The routing of the current context (routeContext()), memoised: looked up again only when the context changed. */
  protected routes(): RouteTable {
    const t = this.routeTabs[this.el - 1];
    if (t !== undefined && t.ctx.cnthctl === this.hw.cnthctl && t.ctx.nv1 === this.nv1 && t.ctx.physEcv === this.physEcv) return t;
    return (this.routeTabs[this.el - 1] = routeTable(this.routeContext()));
  }

  // =====================================================================================
  // Guest state: offsets and effective values
  // =====================================================================================

  protected guestEffective(reg: SysRegId): bigint {
    return this.ctxt.sys[reg] & this.writable[reg];
  }

  protected guestPhysOffset(): bigint {
    return (this.guestEffective('CNTHCTL_EL2') & this.guestEcvBit) !== 0n ? this.ctxt.sys.CNTPOFF_EL2 : 0n;
  }

  /** The offset in a guest timer's condition (architecture: CNTVOFF for vtimer, CNTPOFF-if-ECV for ptimer). */
  protected guestTimerOffset(t: TimerId): bigint {
    switch (t) {
      case 'vtimer': return this.ctxt.sys.CNTVOFF_EL2;
      case 'ptimer': return this.guestPhysOffset();
      case 'hptimer': case 'hvtimer': return 0n;
      default:
        return unreachable(t, 'timer');
    }
  }

  protected guestOffset(rule: OffsetRule): bigint {
    switch (rule) {
      case 'none': return 0n;
      case 'cntvoff': return this.ctxt.sys.CNTVOFF_EL2;
      case 'cntpoff': return this.guestPhysOffset();
      default:
        return unreachable(rule, 'offset rule');
    }
  }

  protected hwOffset(rule: OffsetRule): bigint {
    switch (rule) {
      case 'none': return 0n;
      case 'cntvoff': return this.hw.cntvoff;
      case 'cntpoff': return this.physEcv && (this.hw.cnthctl & HW_ECV) !== 0n ? this.hw.cntpoff : 0n;
      default:
        return unreachable(rule, 'offset rule');
    }
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
    const r: Route = this.routes().route(row, write);
    switch (r.kind) {
      case 'undefined':
        this.actions.push({ kind: 'undefined' });
        return { irq: this.irqMask(), fault: 'undefined' };
      case 'vncr':
        if (this.el === 2) this.counters.vncr++;
        this.actions.push({ kind: 'vncr', offset: r.offset, key: r.key, write });
        if (write) {
          this.setSlot(r.offset, r.key, value);
          return { irq: this.irqMask() };
        }
        return { irq: this.irqMask(), value: this.page[r.offset >> 3]! };
      case 'hw': {
        if (this.el === 2) this.counters.hw++;
        this.actions.push({ kind: 'hw', reg: name, write });
        const out = this.hwAccess(r.meaning, value);
        return out === undefined ? { irq: this.irqMask() } : { irq: this.irqMask(), value: out };
      }
      case 'trap':
        this.actions.push({ kind: 'trap', why: r.why });
        if (this.el === 2) {
          this.counters.traps++;
          return this.trapFromVel2(row, value);
        }
        return this.trapFromVel1(row, value);
      default:
        return unreachable(r, 'route');
    }
  }

  protected setSlot(offset: number, key: string, value: bigint): void {
    const i = offset >> 3;
    const before = this.page[i]!;
    this.page[i] = value;
    if (before !== value) this.vncrChanges.push({ offset, key, before, after: value });
  }

  /** An access that reached a hardware EL1 register directly. */
  protected hwAccess(m: Exclude<Meaning, { kind: 'undefined' }>, value: bigint | undefined): bigint | undefined {
    switch (m.kind) {
      case 'timer': {
        const h = m.timer as HwTimer;
        const t = this.hw.timer[h];
        return this.timerViewAccess(t, m.view, this.hwOffset(m.offset), this.hwTimerOffset(h), value, 'hw');
      }
      case 'sysreg':
        // Only CNTKCTL_EL1 is reachable at EL1; the physical register keeps every bit written.
        if (value !== undefined) {
          this.hw.cntkctl = value;
          return undefined;
        }
        return this.hw.cntkctl;
      case 'counter': return u64(this.count - this.hwOffset(m.offset));
      default:
        return unreachable(m, 'meaning');
    }
  }

  /**
   * CTL/CVAL/TVAL semantics on one set of timer registers. `store` says how CTL keeps a write:
   * the hardware keeps ENABLE and IMASK only; the host keeps 32 bits less ISTATUS (as KVM does).
   */
  protected timerViewAccess(
    t: TimerRegs, view: View, accessOffset: bigint, condOffset: bigint, value: bigint | undefined, store: 'hw' | 'host',
  ): bigint | undefined {
    switch (view) {
      case 'ctl':
        if (value !== undefined) {
          t.ctl = store === 'hw' ? value & CTL_WRITABLE : value & HOST_CTL_BITS;
          return undefined;
        }
        return this.ctlWithStatus(t, condOffset);
      case 'cval':
        if (value !== undefined) {
          t.cval = value;
          return undefined;
        }
        return t.cval;
      case 'tval':
        if (value !== undefined) {
          t.cval = u64(this.count - accessOffset + sext32(value));
          return undefined;
        }
        return low32(t.cval - (this.count - accessOffset));
      default:
        return unreachable(view, 'view');
    }
  }

  /** CTL as read: stored bits with ISTATUS = ENABLE && condition met. */
  protected ctlWithStatus(t: TimerRegs, condOffset: bigint): bigint {
    const met = (t.ctl & CTL_ENABLE) !== 0n && conditionMet(this.count, condOffset, t.cval);
    return (t.ctl & NOT_ISTATUS) | (met ? CTL_ISTATUS : 0n);
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
    const e2h = this.config.guest === 'vhe';
    let guestWants = false;
    for (const r of row.el1Traps) {
      if (trapFires(r, guestCnthctl, e2h, this.guestEcv, false)) {
        guestWants = true;
        break;
      }
    }
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
    switch (m.kind) {
      case 'timer': {
        const i = TIMER_INDEX[m.timer];
        const h = this.direct[i];
        const t = this.timerRegs(i);
        const cond = h !== undefined ? this.hwTimerOffset(h) : this.guestTimerOffset(m.timer);
        return this.timerViewAccess(t, m.view, this.emulatedAccessOffset(m.offset), cond, value, h !== undefined ? 'hw' : 'host');
      }
      case 'sysreg':
        if (value === undefined) return this.ctxt.sys[m.reg];
        this.ctxt.sys[m.reg] = value & this.writable[m.reg];
        if (m.reg === this.cntkctlHolds) this.hw.cntkctl = this.ctxt.sys[m.reg];
        this.reconfigure();
        return undefined;
      case 'counter': return u64(this.count - this.guestOffset(m.offset));
      default:
        return unreachable(m, 'meaning');
    }
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
      if (this.published[s.offset >> 3] === v) continue;
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
    switch (item.kind) {
      case 'orphan': return;
      case 'sysreg':
        this.ctxt.sys[item.reg] = v;
        return;
      case 'timer': {
        const i = TIMER_INDEX[item.timer];
        const onHw = this.direct[i] !== undefined;
        const t = this.timerRegs(i);
        switch (item.view) {
          case 'ctl':
            t.ctl = onHw ? v & CTL_WRITABLE : v & HOST_CTL_BITS;
            return;
          case 'cval':
            t.cval = v;
            return;
          case 'tval':
            // A TVAL slot's most sensible meaning: relative to the count when the host looks.
            t.cval = u64(this.count - this.guestOffset(item.offset) + sext32(v));
            return;
          default:
            return unreachable(item.view, 'view');
        }
      }
      default:
        return unreachable(item, 'slot item');
    }
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
    const item = s.item;
    switch (item.kind) {
      case 'orphan': return undefined;
      case 'sysreg': return this.ctxt.sys[item.reg];
      case 'timer': {
        const i = TIMER_INDEX[item.timer];
        const t = this.timerRegs(i);
        const h = this.direct[i];
        const cond = h ? this.hwTimerOffset(h) : this.guestTimerOffset(item.timer);
        switch (item.view) {
          case 'ctl': return this.publishedCtl(t, cond, i);
          case 'cval': return t.cval;
          case 'tval': return low32(t.cval - (this.count - this.guestOffset(item.offset)));
          default:
            return unreachable(item.view, 'view');
        }
      }
      default:
        return unreachable(item, 'slot item');
    }
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
      this.published[s.offset >> 3] = v;
    }
  }

  /** Let `by` counts pass while the vCPU runs, firing software timers at their exact counts. */
  protected run(by: bigint): void {
    let remaining = by;
    // No guest write happens during a tick, so each timer's condition changes at most twice
    // (at CVAL, and when count - offset wraps). Far more firings mean a software timer re-armed
    // for a count already passed: report it rather than spin.
    for (let fired = 0; ; fired++) {
      if (fired > RUN_FIRING_LIMIT) {
        throw new ImplementationError(`${this.name}: more than ${RUN_FIRING_LIMIT} software timer firings within one tick of ${by} counts (a timer re-armed for a count already passed?)`);
      }
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
      // In place: nothing keeps a reference to a context's registers across a context switch.
      const from = this.hw.timer[h];
      const to = this.ctxt.timers[i]!;
      to.ctl = from.ctl & CTL_WRITABLE;
      to.cval = from.cval;
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
      const from = this.ctxt.timers[i]!;
      const to = this.hw.timer[h];
      to.ctl = from.ctl & CTL_WRITABLE;
      to.cval = from.cval;
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
    // A pure function of the routing context and the guest mode: memoised per routing table.
    const table = this.routes();
    let byGuest = PLACEMENT_CACHE.get(table);
    if (!byGuest) PLACEMENT_CACHE.set(table, (byGuest = {}));
    const guest = this.config.guest;
    let p = byGuest[guest];
    if (!p) byGuest[guest] = p = this.derivePlacement(table);
    return p.slice();
  }

  private derivePlacement(table: RouteTable): (HwTimer | undefined)[] {
    const out: (HwTimer | undefined)[] = [undefined, undefined, undefined, undefined];
    for (const row of REGISTERS) {
      const m = this.el === 2 ? row.vel2[this.config.guest] : row.vel1;
      if (m.kind !== 'timer') continue;
      for (const write of [false, true]) {
        const r = table.route(row, write);
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
      // vel2HostCnthctl(guest, hostEcvTraps, physEcv, trapPhys), computed at reset.
      this.hw.cnthctl = this.vel2Cnthctl[trapPhys ? 1 : 0];
      this.hw.cntpoff = 0n;
      // The hardware virtual offset is what the timer on the hardware virtual timer needs:
      // none for the EL2 virtual timer, CNTVOFF_EL2 for the EL1 one (and for CNTVCT_EL0 with E2H=0).
      let onV = -1;
      for (let i = 0; i < 4; i++) {
        if (this.direct[i] === 'vtimer') {
          onV = i;
          break;
        }
      }
      const needsVoff = onV >= 0 ? TIMERS[onV] === 'vtimer' : this.config.guest === 'nvhe';
      this.hw.cntvoff = needsVoff ? this.ctxt.sys.CNTVOFF_EL2 : 0n;
    } else {
      this.cntkctlHolds = 'CNTKCTL_EL1';
      // The nested guest: mirror the guest hypervisor's own EL1 trap bits, in the hardware's E2H layout.
      const guest = this.guestEffective('CNTHCTL_EL2');
      if (guest !== this.vel1CnthctlFor) {
        // A function of the guest's CNTHCTL_EL2 (its E2H and ECV are fixed per trace): derived on change only.
        const e2h = this.config.guest === 'vhe';
        let cnthctl = 0n;
        for (const rule of GUEST_TRAP_RULES) {
          if (rule.e2hBit === undefined) continue;
          // The hardware bit takes the value that makes the same rule fire exactly when the guest's does.
          if (trapFires(rule, guest, e2h, this.guestEcv, false) === (rule.trapsWhen === 1)) cnthctl |= b(rule.e2hBit);
        }
        if (this.guestEcv && ((guest >> BigInt(CNTHCTL_ECV_BIT)) & 1n) === 1n) cnthctl |= HW_ECV;
        this.vel1CnthctlFor = guest;
        this.vel1Cnthctl = cnthctl;
      }
      this.hw.cnthctl = this.vel1Cnthctl;
      this.hw.cntvoff = this.ctxt.sys.CNTVOFF_EL2;
      this.hw.cntpoff = this.ctxt.sys.CNTPOFF_EL2;
    }
  }
}

export { HW_TIMERS };
