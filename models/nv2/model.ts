/**
 * The NV2 implementation model: FEAT_NV2 hardware, a VNCR page, and a host hypervisor (L0)
 * modelled on Linux KVM's nested timer design.
 *
 * The guest hypervisor runs at real EL1 with HCR_EL2.{NV2,NV1,NV} = {1,0,1} (vhe) or {1,1,1}
 * (nvhe); its nested guest at EL1 with NV=0. Every guest access is routed by routing.ts under the
 * hardware configuration of the host's timer map (host/timer-map.ts): a VNCR slot (a verbatim
 * 64-bit load/store, nothing else happens), a hardware EL1 timer register, or a trap into the host,
 * which emulates it (host/emulate.ts). The host switches contexts on eret/exit (host/context.ts),
 * merges the page and publishes ISTATUS at every entry (host/page.ts), and runs software timers for
 * the timers it emulates (host/soft-timers.ts). The whole state is one plain record (machine.ts).
 *
 * With `nv2: false` the same host runs on FEAT_NV alone (no page): the trap-cost baseline.
 */
import { InputError, unreachable } from '../arch/errors.js';
import { HOST_FEATURES, type Declaration, type HostFeature, type Implementation, type StepDetail } from '../arch/implementation.js';
import type { Layout } from '../arch/layout.js';
import { MASK32, u64 } from '../arch/bits.js';
import { CTL_ISTATUS, REGISTER_TABLE, featureTest, res1Bits, writableBits, type RegisterTable } from '../arch/registers.js';
import { NTIMERS } from '../arch/timers.js';
import { FEATURES, cpuFeatures, setupKey, type Feature, type Observation, type Op, type TraceConfig } from '../arch/vocabulary.js';
import { hwAccess, hwCntkctlBits, hwLine } from './hardware.js';
import { DEFAULT_HOOKS, type Nv2Hooks } from './hooks.js';
import { loadContext, saveContext } from './host/context.js';
import { trapFromVel1, trapFromVel2 } from './host/emulate.js';
import { note, poffEcvBit } from './host/guest.js';
import { afterHostWork, hostEntry, switchTo } from './host/entry.js';
import { hostPolicy, type HostPolicy, type HostProfile } from './host/policy.js';
import { wfitCounts } from './host/soft-timers.js';
import { describeTimerMap, type TimerMap } from './host/timer-map.js';
import type { Nv2Machine, Nv2Setup, Nv2State, OpLog, Slot, SlotItem, TimerRegs, TrapCounters } from './machine.js';
import { layoutSlots, routeTable } from './routing.js';

export { RUN_FIRING_LIMIT } from './host/soft-timers.js';
export type { TrapCounters } from './machine.js';

export interface Nv2Options {
  /** The VNCR layout. Ignored when `nv2` is false. */
  readonly layout: Layout;
  /** HCR_EL2.NV2: false gives the FEAT_NV-only host (every EL2 access traps). Default true. */
  readonly nv2?: boolean;
  /** The `exact` host uses FEAT_ECV's traps (the physical CPU must have ECV) to make VNCR-held timers exact. Default false. */
  readonly hostEcvTraps?: boolean;
  /** The host's policy: `exact` (nvconform's idealised host) or `kvm` (mainline KVM's, host/policy.ts). Default `exact`. */
  readonly host?: HostProfile;
  /** The physical CPU's features. Default HOST_FEATURES (the most capable machine). */
  readonly hostCpu?: readonly HostFeature[];
  /** The VM's counter offset (KVM_ARM_SET_COUNTER_OFFSET): hardware count = guest count + this. Default 0. */
  readonly counterOffset?: bigint;
  /** Name in reports. Default "nv2" or "nv". */
  readonly name?: string;
  /** The register table the machine implements. Default: REGISTER_TABLE. */
  readonly table?: RegisterTable;
  /** Replace some of the model's named behaviours (for test mutants). Default: none replaced. */
  readonly hooks?: Partial<Nv2Hooks>;
}

/** A snapshot of the model: its state without the (derived, shared) timer map, plus the map by reference. */
interface Nv2Snapshot {
  readonly state: Nv2State;
  readonly config: TraceConfig;
}

/** The one constructor of a timer's registers (one hidden class for every TimerRegs of the model). */
const timerRegsOf = (ctl: bigint, cval: bigint): TimerRegs => ({ ctl, cval });

/** NTIMERS cleared timers (a packed array, as every copy is). */
function newTimers(): TimerRegs[] {
  const ts: TimerRegs[] = [];
  for (let i = 0; i < NTIMERS; i++) ts.push(timerRegsOf(0n, 0n));
  return ts;
}

/** `n` copies of `v` (a packed array, as slice() gives). */
function filled<T>(n: number, v: T): T[] {
  const a: T[] = [];
  for (let i = 0; i < n; i++) a.push(v);
  return a;
}

function copyTimers(ts: readonly TimerRegs[]): TimerRegs[] {
  const out: TimerRegs[] = [];
  for (let i = 0; i < ts.length; i++) out.push(timerRegsOf(ts[i]!.ctl, ts[i]!.cval));
  return out;
}

/** Copy `s` into `t` (a state of the same setup) without allocating. */
function copyInto(t: Nv2State, s: Nv2State): void {
  t.count = s.count;
  const th = t.hw, sh = s.hw, tt = t.host, st = s.host;
  for (let i = 0; i < sh.timers.length; i++) {
    th.timers[i]!.ctl = sh.timers[i]!.ctl;
    th.timers[i]!.cval = sh.timers[i]!.cval;
    tt.timers[i]!.ctl = st.timers[i]!.ctl;
    tt.timers[i]!.cval = st.timers[i]!.cval;
    tt.level[i] = st.level[i]!;
    tt.soft[i] = st.soft[i];
  }
  th.cntvoff = sh.cntvoff;
  th.cntpoff = sh.cntpoff;
  th.cnthctl = sh.cnthctl;
  th.cntkctl = sh.cntkctl;
  for (let i = 0; i < sh.page.length; i++) {
    th.page[i] = sh.page[i]!;
    tt.published[i] = st.published[i];
  }
  tt.el = st.el;
  for (let i = 0; i < st.sys.length; i++) tt.sys[i] = st.sys[i]!;
  tt.map = st.map;
}

/** A copy of the state; the timer map is shared (it is an immutable, derived value). */
function copyState(s: Nv2State): Nv2State {
  const hw = s.hw, host = s.host;
  return {
    count: s.count,
    hw: { timers: copyTimers(hw.timers), cntvoff: hw.cntvoff, cntpoff: hw.cntpoff, cnthctl: hw.cnthctl, cntkctl: hw.cntkctl, page: hw.page.slice() },
    host: {
      el: host.el, timers: copyTimers(host.timers), sys: host.sys.slice(), level: host.level.slice(), soft: host.soft.slice(),
      published: host.published.slice(), map: host.map,
    },
  };
}

export class Nv2Model implements Implementation, Nv2Machine {
  readonly name: string;
  readonly declaration: Declaration;
  readonly hooks: Nv2Hooks;
  readonly counters: TrapCounters = { accesses: 0, traps: 0, vncr: 0, hw: 0 };
  log: OpLog = { actions: [], vncr: [] };
  setup!: Nv2Setup;
  state!: Nv2State;
  /** The trace being run. */
  config!: TraceConfig;
  private readonly layout: Layout;
  private readonly nv2: boolean;
  private readonly hostEcvTraps: boolean;
  private readonly policy: HostPolicy;
  private readonly hostCpu: readonly HostFeature[];
  private readonly counterOffset: bigint;
  private readonly table: RegisterTable;
  /** Setups by guest mode and features: the timer maps and routes derived for one are reused by every trace of it. */
  private readonly setups = new Map<number, Nv2Setup>();
  private readonly irq = (m: Nv2Machine): number => (m as Nv2Model).irqMask();

  constructor(opts: Nv2Options) {
    this.layout = opts.layout;
    this.nv2 = opts.nv2 ?? true;
    this.hostEcvTraps = opts.hostEcvTraps ?? false;
    this.policy = hostPolicy(opts.host ?? 'exact', this.hostEcvTraps);
    this.hostCpu = opts.hostCpu ?? HOST_FEATURES;
    this.counterOffset = opts.counterOffset ?? 0n;
    this.table = opts.table ?? REGISTER_TABLE;
    this.name = opts.name ?? (this.nv2 ? 'nv2' : 'nv');
    this.hooks = { ...DEFAULT_HOOKS, ...opts.hooks };
    if (this.hostEcvTraps && !this.hostCpu.includes('ecv')) {
      throw new InputError(`--host-ecv-traps: the physical CPU must have FEAT_ECV (--host-cpu ${this.hostCpu.join(',') || 'none'})`);
    }
    if (!this.hostCpu.includes('vhe')) throw new InputError(`--host-cpu: a host running nested virtualization needs FEAT_VHE (got ${this.hostCpu.join(',') || 'none'})`);
    this.declaration = {
      kind: 'builtin', sync: true, layout: this.layout, page: this.nv2, detail: true,
      host: {
        ecvTraps: this.hostEcvTraps, profile: this.policy.profile, cpu: this.hostCpu, counterOffset: this.counterOffset,
        vcpuFeatures: offerable(this.hostCpu, this.policy),
      },
    };
  }

  // =====================================================================================
  // Implementation interface
  // =====================================================================================

  reset(config: TraceConfig): void {
    this.config = config;
    this.setup = this.setupFor(config);
    const s = this.setup;
    const nslots = s.slots.length;
    const host = {
      el: 2 as const,
      timers: newTimers(),
      sys: s.res1.slice(),
      level: filled(NTIMERS, false),
      soft: filled<bigint | undefined>(NTIMERS, undefined),
      published: filled<bigint | undefined>(nslots, undefined),
      map: undefined,
    };
    const init = config.init, byName = this.table.byName;
    for (const name in init) {
      const value = init[name]!;
      const mn = byName.get(name)!.vel2[config.guest];
      if (mn.kind === 'timer' && mn.view !== 'tval') {
        const t = host.timers[mn.ti]!;
        if (mn.view === 'ctl') t.ctl = value & MASK32 & ~CTL_ISTATUS;
        else t.cval = value;
      } else if (mn.kind === 'storage') host.sys[mn.si] = (value & s.kept[mn.si]!) | s.res1[mn.si]!;
    }
    this.state = {
      count: config.count,
      hw: { timers: newTimers(), cntvoff: 0n, cntpoff: 0n, cnthctl: 0n, cntkctl: 0n, page: filled(nslots, 0n) },
      host,
    };
    this.counters.accesses = this.counters.traps = this.counters.vncr = this.counters.hw = 0;
    this.log = { actions: [], vncr: [] };
    loadContext(this);
    afterHostWork(this, 'load');
    this.log = { actions: [], vncr: [] };
  }

  step(op: Op): Observation {
    this.log = { actions: [], vncr: [] };
    switch (op.op) {
      case 'msr': return this.access(op.reg, op.value);
      case 'mrs': return this.access(op.reg, undefined);
      case 'tick':
        this.hooks.runTime(this, op.by);
        return { irq: this.irqMask() };
      case 'preempt':
        note(this, 'vcpu put (preempted)');
        hostEntry(this);
        saveContext(this);
        this.state.count = u64(this.state.count + op.by);
        note(this, 'vcpu load');
        loadContext(this);
        afterHostWork(this, 'load');
        return { irq: this.irqMask() };
      case 'wfi':
        this.log.actions.push({ kind: 'trap', why: 'WFI (HCR_EL2.TWI)' });
        return this.block(() => op.limit);
      case 'wfit': {
        if (!this.setup.phys.includes('wfxt')) {
          this.log.actions.push({ kind: 'undefined' });
          return { irq: this.irqMask(), fault: 'undefined' };
        }
        this.log.actions.push({ kind: 'trap', why: 'WFIT (HCR_EL2.TWI)' });
        if (!this.setup.guestHas('wfxt')) {
          hostEntry(this);
          note(this, 'inject UNDEFINED');
          afterHostWork(this, 'trap-read');
          return { irq: this.irqMask(), fault: 'undefined' };
        }
        // The deadline is read against the guest's state once the host has taken in the page.
        return this.block(() => wfitCounts(this, op.deadline));
      }
      case 'eret':
        this.log.actions.push({ kind: 'trap', why: 'ERET (HCR_EL2.NV)' });
        switchTo(this, 1);
        return { irq: this.irqMask() };
      case 'exit':
        note(this, 'exception from the nested guest, injected into vEL2');
        switchTo(this, 2);
        return { irq: this.irqMask() };
      default:
        return unreachable(op, 'op');
    }
  }

  /** WFI/WFIT: the vCPU is put, blocks at most `limit()` counts (less when a timer can fire first), and is loaded again. */
  private block(limit: () => bigint): Observation {
    hostEntry(this);
    const most = limit();
    saveContext(this);
    const elapsed = this.hooks.blockUntil(this, most);
    this.state.count = u64(this.state.count + elapsed);
    note(this, `vcpu blocked ${elapsed} counts, then loaded`);
    loadContext(this);
    afterHostWork(this, 'load');
    return { irq: this.irqMask(), elapsed };
  }

  detail(): StepDetail {
    return { actions: this.log.actions, vncr: this.log.vncr };
  }

  /** The host's timer map now, one line. */
  describeHost(): string {
    const map = this.state.host.map;
    return map ? describeTimerMap(map, this.setup) : 'no context loaded';
  }

  /** The current timer map (undefined only inside a context switch). */
  timerMap(): TimerMap | undefined {
    return this.state.host.map;
  }

  /** The VNCR page's slots of the layout, for inspection. */
  pageSlots(): { key: string; offset: number; value: bigint }[] {
    return this.setup.slots.map((s, i) => ({ key: s.key, offset: s.offset, value: this.state.hw.page[i]! }));
  }

  /** A copy of the whole state, for restore() (the timer map is shared: it is immutable). */
  snapshot(): Nv2Snapshot {
    return { state: copyState(this.state), config: this.config };
  }

  /** Return to a snapshot (which stays valid: it is copied again). */
  restore(snap: Nv2Snapshot): void {
    if (this.config !== snap.config) {
      this.config = snap.config;
      this.setup = this.setupFor(snap.config);
      this.state = copyState(snap.state);
      return;
    }
    copyInto(this.state, snap.state);
  }

  /** Write the state into `buf` from word `at` (a binary key; the timer map is derived from the rest and left out); returns the next free word. */
  keyInto(buf: BigUint64Array, at: number): number {
    const { count, hw, host } = this.state;
    buf[at++] = count;
    // The el (bit 0), which soft timers are armed and which lines are high (a bit per timer each), made a word once.
    let flags = host.el - 1;
    for (let i = 0; i < hw.timers.length; i++) {
      buf[at++] = hw.timers[i]!.ctl;
      buf[at++] = hw.timers[i]!.cval;
      buf[at++] = host.timers[i]!.ctl;
      buf[at++] = host.timers[i]!.cval;
      const soft = host.soft[i];
      buf[at++] = soft ?? 0n;
      if (soft !== undefined) flags |= 1 << (1 + i);
      if (host.level[i]) flags |= 1 << (1 + NTIMERS + i);
    }
    buf[at++] = BigInt(flags);
    buf[at++] = hw.cntvoff;
    buf[at++] = hw.cntpoff;
    buf[at++] = hw.cnthctl;
    buf[at++] = hw.cntkctl;
    // Each slot, what was last published into it, and after every 32 slots which of them were published at all.
    let published = 0;
    const slots = hw.page.length;
    for (let i = 0; i < slots; i++) {
      buf[at++] = hw.page[i]!;
      const p = host.published[i];
      buf[at++] = p ?? 0n;
      if (p !== undefined) published |= 1 << (i & 31);
      if ((i & 31) === 31 || i === slots - 1) {
        buf[at++] = BigInt(published >>> 0);
        published = 0;
      }
    }
    for (let i = 0; i < host.sys.length; i++) buf[at++] = host.sys[i]!;
    return at;
  }

  /** A canonical text of the state (the timer map is derived from the rest, so it is left out). */
  key(): string {
    const { count, hw, host } = this.state;
    const t = (ts: readonly TimerRegs[]): string => ts.map((x) => `${x.ctl.toString(16)}:${x.cval.toString(16)}`).join(',');
    return `${host.el}|${count.toString(16)}|${t(hw.timers)}|${hw.cntvoff.toString(16)},${hw.cntpoff.toString(16)},${hw.cnthctl.toString(16)},${hw.cntkctl.toString(16)}|` +
      `${hw.page.join(',')}|${t(host.timers)}|${host.sys.join(',')}|${host.level.map(Number).join('')}|${host.soft.join(',')}|${host.published.join(',')}`;
  }

  // =====================================================================================
  // Guest accesses
  // =====================================================================================

  irqMask(): number {
    const map = this.state.host.map;
    let mask = 0;
    for (let i = 0; i < NTIMERS; i++) {
      const h = map ? map.on[i]! : -1;
      if (h >= 0 ? hwLine(this, h) : this.state.host.level[i]) mask |= 1 << i;
    }
    return mask;
  }

  private access(name: string, value: bigint | undefined): Observation {
    const row = this.table.byName.get(name)!;
    const write = value !== undefined;
    const el = this.state.host.el;
    if (el === 2) this.counters.accesses++;
    // The hardware routes by its own CNTHCTL_EL2 (the map's, unless a hook changed it).
    const map = this.state.host.map!;
    const routes = map.cnthctl === this.state.hw.cnthctl ? map.routes : routeTable({ ...map.routes.ctx, cnthctl: this.state.hw.cnthctl });
    const r = routes.route(row, write);
    switch (r.kind) {
      case 'undefined':
        this.log.actions.push({ kind: 'undefined' });
        return { irq: this.irqMask(), fault: 'undefined' };
      case 'vncr':
        if (el === 2) this.counters.vncr++;
        this.log.actions.push({ kind: 'vncr', offset: r.offset, key: r.key, write });
        if (write) {
          this.hooks.writeSlot(this, r.slot, value);
          return { irq: this.irqMask() };
        }
        return { irq: this.irqMask(), value: this.state.hw.page[r.slot]! };
      case 'hw': {
        if (el === 2) this.counters.hw++;
        this.log.actions.push({ kind: 'hw', reg: name, write });
        const out = hwAccess(this, r.meaning, value);
        return out === undefined ? { irq: this.irqMask() } : { irq: this.irqMask(), value: out };
      }
      case 'trap':
        this.log.actions.push({ kind: 'trap', why: r.why });
        if (el === 2) {
          this.counters.traps++;
          return trapFromVel2(this, row, value, this.irq);
        }
        return trapFromVel1(this, row, value, this.irq);
      default:
        return unreachable(r, 'route');
    }
  }

  // =====================================================================================
  // Per-trace setup
  // =====================================================================================

  private setupFor(config: TraceConfig): Nv2Setup {
    const k = setupKey(config);
    const hit = this.setups.get(k);
    if (hit) return hit;
    const features = cpuFeatures(config);
    const offer = this.declaration.host.vcpuFeatures ?? [];
    const missing = features.filter((f) => !offer.includes(f));
    if (missing.length) {
      throw new InputError(`${this.name}: the trace's virtual CPU has ${missing.join(', ')}, which this host cannot offer a guest hypervisor ` +
        `(physical CPU ${this.hostCpu.join(',')}${this.policy.hides.length ? `; the ${this.policy.profile} host hides ${this.policy.hides.join(', ')}` : ''})`);
    }
    const guestHas = featureTest(features);
    const writable = this.table.storage.map((st) => writableBits(st, config.guest, guestHas));
    const setup: Nv2Setup = {
      table: this.table, guest: config.guest, guestHas, phys: this.hostCpu, nv2: this.nv2, layout: this.layout, policy: this.policy,
      counterOffset: this.counterOffset, name: this.name, nv1: config.guest === 'nvhe' ? 1 : 0,
      physPoff: this.hostCpu.includes('ecv-poff'), hwCntkctl: hwCntkctlBits(this.hostCpu), notHwCntkctl: ~hwCntkctlBits(this.hostCpu),
      writable, poffEcv: poffEcvBit(guestHas, writable[this.table.core.cnthctl]!),
      kept: this.table.storage.map((st) => writableBits(st, config.guest, guestHas) | res1Bits(st, config.guest, guestHas)),
      res1: this.table.storage.map((st) => res1Bits(st, config.guest, guestHas)),
      slots: this.nv2 ? deriveSlots(this.table, this.layout, config.guest, guestHas) : [],
    };
    this.setups.set(k, setup);
    return setup;
  }
}

/** The virtual-CPU features a host can give a guest hypervisor: the physical CPU's, less what its policy hides. */
export function offerable(cpu: readonly HostFeature[], policy: HostPolicy): Feature[] {
  return FEATURES.filter((f) => cpu.includes(f) && !(policy.hides as readonly Feature[]).includes(f));
}

/** The slots of the layout and the guest state each holds while vEL2 runs (from the register table). */
function deriveSlots(table: RegisterTable, layout: Layout, guest: TraceConfig['guest'], guestHas: (f: Feature) => boolean): Slot[] {
  const nv1 = guest === 'nvhe' ? 1 : 0;
  return layoutSlots(layout).map(([key, offset]): Slot => {
    const row = table.rows.find((r) => r.slot?.key === key && (r.slot.nv1 === 'any' || r.slot.nv1 === nv1));
    const m = row ? row.vel2[guest] : undefined;
    const usable = row && !(row.feature && !guestHas(row.feature));
    const item: SlotItem = !m || !usable ? { kind: 'orphan' }
      : m.kind === 'timer' ? { kind: 'timer', ti: m.ti, view: m.view, offset: m.offset }
      : m.kind === 'storage' ? { kind: 'storage', si: m.si } : { kind: 'orphan' };
    return { key, offset, item };
  });
}

