/**
 * The host's timer map: which of the guest's four timers runs on which of the two hardware EL1
 * timers in the current context, which the host emulates with software timers, and which keep
 * their CTL/CVAL in the VNCR page — KVM's `get_timer_map()` as a value. The hardware
 * configuration follows from the map, never the other way round:
 *
 *  1. the *natural* placement comes from the register table: a guest timer G can run on hardware
 *     timer H when some name of G at the current EL designates H at real EL1;
 *  2. the host policy, and the offsets, decide which timers the host emulates instead: with ECV
 *     traps (KVM's timer_set_traps) the guest's EL1 timers while vEL2 runs; and any timer whose
 *     uses need different values in one hardware offset register (a non-VHE guest hypervisor's
 *     EL1 physical timer compares against count - CNTPOFF_EL2 while its TVAL view and CNTPCT_EL0
 *     at EL2 use the raw count);
 *  3. the traps: for every emulated timer, the first CNTHCTL_EL2 rule of each of its names that
 *     the physical CPU implements, and the counters that read its offset; at vEL1 the guest
 *     hypervisor's own trap bits, mirrored;
 *  4. the routing under those traps says where each name goes; the map records what reaches the
 *     hardware (a timer the host could not trap stays on the hardware, and the map says so), and
 *     checks that each hardware timer serves one guest timer;
 *  5. each hardware offset register holds the one value its untrapped uses need.
 *
 * A map is a pure function of the host setup, the EL and a few facts about the guest's offsets
 * and trap bits, so maps are derived once per distinct context and shared.
 */
import { hex } from '../../arch/bits.js';
import { CNTHCTL_FIELDS, cnthctlField, e2h1Bit, fieldBit, fieldMask } from '../../arch/cnthctl.js';
import type { HostFeature } from '../../arch/implementation.js';
import type { Layout } from '../../arch/layout.js';
import type { OffsetRule } from '../../arch/offsets.js';
import { trapFires, type RegisterRow, type RegisterTable, type TrapRule } from '../../arch/registers.js';
import { HW_TIMER_INDICES, NTIMERS, TIMERS, TIMER_CONDITION, TIMER_INDEX, TIMER_ROWS, type TimerId } from '../../arch/timers.js';
import type { El, Feature, GuestMode } from '../../arch/vocabulary.js';
import { routeTable, type RouteTable } from '../routing.js';
import type { FixedPlacement, HostPolicy } from './policy.js';

export { EXACT_POLICY, type HostPolicy } from './policy.js';

/** Everything fixed for one trace that the map depends on. */
export interface HostSetup {
  readonly table: RegisterTable;
  readonly guest: GuestMode;
  /** Features of the virtual CPU. */
  readonly guestHas: (f: Feature) => boolean;
  /** The physical CPU's features. */
  readonly phys: readonly HostFeature[];
  /** HCR_EL2.NV2 while the guest hypervisor runs (false: the FEAT_NV-only host). */
  readonly nv2: boolean;
  readonly layout: Layout;
  readonly policy: HostPolicy;
  /**
   * The VM's counter offset (KVM_ARM_SET_COUNTER_OFFSET): the hardware count is the guest's
   * physical count plus this. The hardware offset registers hold it on top of the guest's offsets.
   */
  readonly counterOffset: bigint;
}

/** The guest state the map depends on. */
export interface GuestFacts {
  /** CNTVOFF_EL2. */
  readonly cntvoff: bigint;
  /** CNTPOFF_EL2 where it is in force, else 0. */
  readonly poff: bigint;
  /** The guest hypervisor's effective CNTHCTL_EL2 (in the layout of its E2H). */
  readonly cnthctl: bigint;
}

/** Where a hardware offset register's value comes from. */
export type OffsetSource = 'zero' | 'guest';

export interface TimerMap {
  readonly el: El;
  /** Per guest timer (TIMERS order): the index of the hardware EL1 timer it runs on, or -1 when the host emulates it. */
  readonly on: readonly number[];
  /** Per guest timer: its CTL or CVAL is served from the VNCR page in this context. */
  readonly pageHeld: readonly boolean[];
  /** Per guest timer: the host wanted to emulate it but some name of it reaches the hardware anyway. */
  readonly forced: readonly boolean[];
  /** The hardware CNTHCTL_EL2 (E2H=1 layout) in this context. */
  readonly cnthctl: bigint;
  /** What the hardware CNTVOFF_EL2 and CNTPOFF_EL2 hold. */
  readonly cntvoff: OffsetSource;
  readonly cntpoff: OffsetSource;
  /** Per hardware timer index (TIMERS order; 0 for the EL2 ones): what the host adds to CVAL on load and takes off on save. */
  readonly cvalBias: readonly bigint[];
  /** The storage index of the guest register the hardware CNTKCTL_EL1 holds. */
  readonly cntkctl: number;
  /** How the hardware routes accesses in this context. */
  readonly routes: RouteTable;
}

const ECV = e2h1Bit('ECV');
const bitOf = (rule: TrapRule): bigint => 1n << BigInt(fieldBit(cnthctlField(rule.field), true)!);

/** Rows meaning a timer at `el`, as [row, guest timer index]. */
function timerRows(s: HostSetup, el: El): (readonly [RegisterRow, number])[] {
  return s.table.rows.flatMap((r) => {
    const m = el === 2 ? r.vel2[s.guest] : r.vel1;
    return m.kind === 'timer' ? [[r, m.ti] as const] : [];
  });
}

/** Is a trap rule usable on this physical CPU in this NV mode? */
function usable(s: HostSetup, rule: TrapRule, nv1: 0 | 1): boolean {
  const f = cnthctlField(rule.field);
  return (!f.feature || s.phys.includes(f.feature)) && (!rule.nv101Only || (s.nv2 && nv1 === 0));
}

/** A symbolic value a use of a hardware offset register needs: a guest offset by rule. */
type Want = OffsetRule;

/** Maps derived so far, per setup: for vEL2 by which guest offsets are zero or equal (8 cases), for vEL1 by the guest's trap bits. */
interface MapCache {
  readonly vel2: (TimerMap | undefined)[];
  readonly vel1: Map<bigint, TimerMap>;
}
const MAPS = new WeakMap<HostSetup, MapCache>();

/** The last setup asked for and its cache: a trace asks for the maps of one setup many times in a row. */
let lastSetup: HostSetup | undefined;
let lastCache: MapCache | undefined;

function cacheOf(s: HostSetup): MapCache {
  if (s === lastSetup) return lastCache!;
  let c = MAPS.get(s);
  if (!c) MAPS.set(s, (c = { vel2: [], vel1: new Map<bigint, TimerMap>() }));
  lastSetup = s;
  lastCache = c;
  return c;
}

/** The timer map of context `el` for the guest state `g`. */
export function timerMap(s: HostSetup, el: El, g: GuestFacts): TimerMap {
  return timerMapOf(s, el, g.cntvoff, g.poff, g.cnthctl);
}

/** timerMap with the guest facts as arguments (the host's context load asks without building a GuestFacts). */
export function timerMapOf(s: HostSetup, el: El, cntvoff: bigint, poff: bigint, cnthctl: bigint): TimerMap {
  const c = cacheOf(s);
  // The facts the derivation looks at: which guest offsets are zero or equal (vEL2), the trap bits (vEL1).
  if (el === 2) {
    const k = (cntvoff === 0n ? 1 : 0) | (poff === 0n ? 2 : 0) | (cntvoff === poff ? 4 : 0);
    return c.vel2[k] ??= deriveTimerMap(s, el, { cntvoff, poff, cnthctl });
  }
  let m = c.vel1.get(cnthctl);
  if (!m) c.vel1.set(cnthctl, (m = deriveTimerMap(s, el, { cntvoff, poff, cnthctl })));
  return m;
}

function deriveTimerMap(s: HostSetup, el: El, g: GuestFacts): TimerMap {
  return s.policy.placement === 'derived' ? derivedMap(s, el, g) : fixedMap(s, el, g, s.policy.placement);
}

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** The placement, traps and offsets derived from the register table, the guest's state and the policy (steps 1-5 above). */
function derivedMap(s: HostSetup, el: El, g: GuestFacts): TimerMap {
  const nv1: 0 | 1 = s.guest === 'nvhe' ? 1 : 0;
  const e2h = s.guest === 'vhe';
  const value = (w: Want): bigint => (w === 'none' ? 0n : w === 'cntvoff' ? g.cntvoff : g.poff);
  const rows = timerRows(s, el);

  // 1. natural placement: G -> H when a name of G designates hardware timer H at real EL1.
  const natural = new Array<number>(NTIMERS).fill(-1);
  for (const [r, gi] of rows) if (r.vel1.kind === 'timer') natural[gi] = r.vel1.ti;

  const emulate = new Array<boolean>(NTIMERS).fill(false);
  let cnthctl: bigint;
  if (el === 2) {
    // 2a. policy: with ECV traps, the guest's EL1 timers are emulated while vEL2 runs.
    if (s.policy.ecvTraps && s.phys.includes('ecv')) for (const i of HW_TIMER_INDICES) emulate[i] = true;
    // 3. traps for what is emulated so far; 2b then checks the offsets of what is left.
    cnthctl = baseCnthctl(s);
    const trapCounters = (rule: OffsetRule): void => {
      for (const r of s.table.rows) {
        const m = r.vel2[s.guest];
        if (m.kind === 'counter' && r.vel1.kind === 'counter' && m.offset === rule) cnthctl = applyFirstRule(s, r, cnthctl, nv1);
      }
    };
    const trap = (i: number): void => {
      for (const [r, gi] of rows) if (gi === i) cnthctl = applyFirstRule(s, r, cnthctl, nv1);
      trapCounters(TIMER_CONDITION[i]!);
    };
    for (let i = 0; i < NTIMERS; i++) if (emulate[i]) trap(i);
    cnthctl = trapMissing(s, cnthctl, nv1);
    // 2b. offsets: every untrapped use of a hardware offset register must need the same effective
    // offset, and one the register can give: the hardware count is the guest's plus the VM's
    // counter offset, so an offset the hardware applies no register to is minus that.
    const fixed = (hw: OffsetRule): bigint | undefined =>
      hw === 'none' || (hw === 'cntpoff' && !s.phys.includes('ecv-poff')) ? u64(-s.counterOffset) : undefined;
    const consistent = (hw: OffsetRule, l: readonly Want[]): boolean => {
      const f = fixed(hw) ?? value(l[0]!);
      return l.every((w) => value(w) === f);
    };
    const wants = new Map<OffsetRule, Want[]>();
    const want = (hw: OffsetRule, w: Want, into = wants): void => {
      const l = into.get(hw) ?? [];
      l.push(w);
      into.set(hw, l);
    };
    const counterWants = (): Map<OffsetRule, Want[]> => {
      const routes0 = routesFor(s, el, cnthctl, nv1);
      const ws = new Map<OffsetRule, Want[]>();
      for (const r of s.table.rows) {
        const m = r.vel2[s.guest];
        if (m.kind === 'counter' && r.vel1.kind === 'counter' && routes0.route(r, false).kind === 'hw') want(r.vel1.offset, m.offset, ws);
      }
      return ws;
    };
    // Counters whose hardware offset cannot be right are trapped (the host computes them).
    for (const [hw, l] of counterWants()) if (!consistent(hw, l)) for (const w of new Set(l)) trapCounters(w);
    for (const [hw, l] of counterWants()) wants.set(hw, l);
    for (let i = 0; i < NTIMERS; i++) {
      const h = natural[i]!;
      if (h < 0 || emulate[i]) continue;
      const mine = new Map<OffsetRule, Want[]>([...wants].map(([k, l]) => [k, [...l]]));
      want(TIMER_CONDITION[h]!, TIMER_CONDITION[i]!, mine);
      for (const [r, gi] of rows) {
        const m = r.vel2[s.guest];
        if (gi === i && m.kind === 'timer' && m.view === 'tval' && r.vel1.kind === 'timer') want(r.vel1.offset, m.offset, mine);
      }
      if ([...mine].every(([hw, l]) => consistent(hw, l))) for (const [k, l] of mine) wants.set(k, l);
      else {
        emulate[i] = true;
        trap(i);
      }
    }
    const pick = (hw: OffsetRule): OffsetSource => ((wants.get(hw) ?? []).some((w) => w !== 'none' && value(w) !== 0n) ? 'guest' : 'zero');
    // CNTPOFF_EL2 applies at EL1 only with CNTHCTL_EL2.ECV set (and it must, to carry the VM's offset).
    if (s.phys.includes('ecv-poff') && (pick('cntpoff') === 'guest' || s.counterOffset !== 0n)) cnthctl |= ECV;
    return finish(s, el, cnthctl, nv1, emulate, pick('cntvoff'), pick('cntpoff'), NO_BIAS);
  }
  // vEL1: the nested guest's accesses trap exactly when the guest hypervisor's own CNTHCTL_EL2 says.
  cnthctl = 0n;
  for (const rule of s.table.trapRules) {
    if (rule.nv101Only) continue;
    const f = cnthctlField(rule.field);
    if (fieldBit(f, true) === undefined) continue;
    // The hardware bit takes the value that makes the same rule fire exactly when the guest's does.
    if (trapFires(rule, g.cnthctl, e2h, s.guestHas, false) === (rule.trapsWhen === 1)) cnthctl |= bitOf(rule);
  }
  cnthctl = trapMissing(s, cnthctl, nv1);
  if (s.guestHas('ecv-poff') && (g.cnthctl & ECV) !== 0n) cnthctl |= ECV;
  else if (s.phys.includes('ecv-poff') && s.counterOffset !== 0n) cnthctl |= ECV;
  if (s.counterOffset !== 0n && !s.phys.includes('ecv-poff')) {
    // No CNTPOFF_EL2 to carry the VM's offset: the physical timer and counter are emulated.
    cnthctl &= ~(bitOfField('EL1PTEN') | bitOfField('EL1PCTEN'));
    emulate[TIMER_INDEX.ptimer] = true;
  }
  return finish(s, el, cnthctl, nv1, emulate, 'guest', 'guest', NO_BIAS);
}

/** A fixed placement (KVM's get_timer_map) with KVM's traps (timer_set_traps) and offsets (timer_restore_state). */
function fixedMap(s: HostSetup, el: El, g: GuestFacts, placement: FixedPlacement): TimerMap {
  const nv1: 0 | 1 = s.guest === 'nvhe' ? 1 : 0;
  const e2h = s.guest === 'vhe';
  const onHw = placement[el];
  const emulate = TIMERS.map((t) => !Object.values(onHw).includes(t));
  const cntpoff = s.phys.includes('ecv-poff');
  // The physical offset of every context is the VM's (KVM hides CNTPOFF_EL2 from a guest hypervisor);
  // the EL1 virtual timer adds the guest's CNTVOFF_EL2 in the nested guest's context.
  const poff = s.counterOffset;
  let tpt = false, tpc = false, tvt = false, tvt02 = false, tpt02 = false;
  if (el === 2 && s.phys.includes('ecv')) {
    if (e2h) tvt02 = tpt02 = true;
    else tvt = tpt = true;
  }
  if (!cntpoff && poff !== 0n) tpt = tpc = true;
  if (el === 1) {
    // The guest hypervisor's own controls, in the E2H=1 layout.
    const v = e2h ? g.cnthctl : (g.cnthctl & 3n) << 10n;
    tpt ||= (v & bitOfField('EL1PTEN')) === 0n;
    tpc ||= (v & bitOfField('EL1PCTEN')) === 0n;
    tpt02 ||= (v & bitOfField('EL1NVPCT')) !== 0n;
    tvt02 ||= (v & bitOfField('EL1NVVCT')) !== 0n;
  }
  let cnthctl = 0n;
  if (!tpt) cnthctl |= bitOfField('EL1PTEN');
  if (!tpc) cnthctl |= bitOfField('EL1PCTEN');
  if (tvt) cnthctl |= bitOfField('EL1TVT');
  if (tvt02) cnthctl |= bitOfField('EL1NVVCT');
  if (tpt02) cnthctl |= bitOfField('EL1NVPCT');
  if (cntpoff) cnthctl |= ECV;
  const bias = NO_BIAS.slice();
  if (!cntpoff) bias[TIMER_INDEX.ptimer] = poff;
  return finish(s, el, cnthctl, nv1, emulate, el === 1 ? 'guest' : 'zero', 'zero', bias, onHw);
}

const NO_BIAS: readonly bigint[] = TIMERS.map(() => 0n);
const bitOfField = (name: Parameters<typeof cnthctlField>[0]): bigint => 1n << BigInt(fieldBit(cnthctlField(name), true)!);

/** Every trap rule at its no-trap value: the guest hypervisor reaches the hardware timers and counters. */
function baseCnthctl(s: HostSetup): bigint {
  let v = 0n;
  for (const rule of s.table.trapRules) if (rule.trapsWhen === 0 && fieldBit(cnthctlField(rule.field), true) !== undefined) v |= bitOf(rule);
  return v;
}

/**
 * Registers the physical CPU has and the virtual CPU lacks (CNTPCTSS_EL0 without FEAT_ECV) must be
 * UNDEFINED for the guest: trap them wherever a trap control exists, so that the host can say so.
 */
function trapMissing(s: HostSetup, cnthctl: bigint, nv1: 0 | 1): bigint {
  for (const r of s.table.rows) if (r.feature && !s.guestHas(r.feature) && s.phys.includes(r.feature)) cnthctl = applyFirstRule(s, r, cnthctl, nv1);
  return cnthctl;
}

/** Set the first rule of `r` the hardware can use to its trapping value. */
function applyFirstRule(s: HostSetup, r: RegisterRow, cnthctl: bigint, nv1: 0 | 1): bigint {
  const rule = r.el1Traps.find((t) => usable(s, t, nv1));
  if (!rule) return cnthctl;
  return rule.trapsWhen === 1 ? cnthctl | bitOf(rule) : cnthctl & ~bitOf(rule);
}

function routesFor(s: HostSetup, el: El, cnthctl: bigint, nv1: 0 | 1): RouteTable {
  return routeTable({ nv: el === 2, nv2: el === 2 && s.nv2, nv1, cnthctl, phys: s.phys, layout: s.layout });
}

function finish(
  s: HostSetup, el: El, cnthctl: bigint, nv1: 0 | 1, emulate: readonly boolean[], cntvoff: OffsetSource, cntpoff: OffsetSource,
  cvalBias: readonly bigint[], fixed?: FixedPlacement[El],
): TimerMap {
  const routes = routesFor(s, el, cnthctl, nv1);
  const on = new Array<number>(NTIMERS).fill(-1);
  const pageHeld = new Array<boolean>(NTIMERS).fill(false);
  for (const [r, gi] of timerRows(s, el)) {
    const m = el === 2 ? r.vel2[s.guest] : r.vel1;
    for (const write of [false, true]) {
      const rt = routes.route(r, write);
      if (rt.kind === 'hw' && rt.meaning.kind === 'timer' && !fixed) on[gi] = rt.meaning.ti;
      if (rt.kind === 'vncr' && m.kind === 'timer' && m.view !== 'tval') pageHeld[gi] = true;
    }
  }
  // A fixed placement puts its timers on the hardware whatever reaches it.
  if (fixed) for (const [h, t] of Object.entries(fixed)) on[TIMER_INDEX[t]] = TIMER_INDEX[h as TimerId];
  for (const h of HW_TIMER_INDICES) {
    const users = on.flatMap((x, gi) => (x === h ? [TIMERS[gi]!] : []));
    if (users.length > 1) throw new Error(`timer map: hardware ${TIMERS[h]} would serve ${users.join(' and ')}`);
  }
  const core = s.table.core;
  return {
    el, on, pageHeld, forced: emulate.map((e, i) => e && on[i]! >= 0), cnthctl, cntvoff, cntpoff, cvalBias,
    cntkctl: el === 2 && s.guest === 'vhe' ? core.cnthctl : core.cntkctl, routes,
  };
}

/** The map in one line: `vEL2: hptimer on hw ptimer, ...; soft: ...; hw CNTHCTL_EL2 0xc00 (EL1PTEN,EL1PCTEN), ...`. */
export function describeTimerMap(m: TimerMap, s: Pick<HostSetup, 'table'>): string {
  const parts: string[] = [];
  for (let i = 0; i < NTIMERS; i++) {
    const t = TIMERS[i]!;
    const page = m.pageHeld[i] ? ' (CTL/CVAL in the page)' : '';
    parts.push(m.on[i]! >= 0 ? `${t} on hw ${TIMERS[m.on[i]!]}${page}${m.forced[i] ? ' (cannot be trapped)' : ''}` : `${t} soft${page}`);
  }
  const set = CNTHCTL_FIELDS.filter((f) => (f.width ?? 1) === 1 && (m.cnthctl & fieldMask(f, true)) !== 0n).map((f) => f.name);
  const holds = s.table.storage[m.cntkctl]!.id;
  return `vEL${m.el}: ${parts.join(', ')}; hw CNTHCTL_EL2 ${hex(m.cnthctl)}${set.length ? ` (${set.join(',')})` : ''}, ` +
    `CNTVOFF_EL2 ${m.cntvoff === 'guest' ? "= guest's" : '0'}, CNTPOFF_EL2 ${m.cntpoff === 'guest' ? "= guest's" : '0'}, CNTKCTL_EL1 holds guest ${holds}`;
}

/** The timers whose TIMER_ROWS entry is an EL1 timer (the hardware ones). */
export const isHwTimer = (i: number): boolean => TIMER_ROWS[i]!.el === 1;
