/**
 * Mutants of the NV2 host and hardware model: each is Nv2Model with ONE named hook replaced
 * (Nv2Options.hooks) by a bug a host author could plausibly write. MUTANT_REGISTRY offers every
 * mutant as a built-in implementation `mutant-<name>`, so `check` drives it synchronously like `nv2`.
 *
 * Each mutant names the property that must refute it and a configuration under which the correct
 * model (`nv2`) holds that property (see test/check/no-false-alarms.test.ts):
 * - DEFERRED_VHE: `deferred`, layout architected, guest vhe (the VNCR page is used: publishing and
 *   merging matter);
 * - EXACT_ECV: `architectural`, layout timers-only, host ECV traps, a non-VHE guest hypervisor whose
 *   virtual CPU has ECV (every guest-hypervisor timer access traps, emulated and hardware timers
 *   must both be exact); EXACT_VHE the same for a VHE one without ECV (with ECV no host is exact:
 *   CNTKCTL_EL1 reaches CNTHCTL_EL2.ECV untrapped, README's findings);
 * - VERBATIM: `vncr-verbatim`, layout architected.
 */
import { MASK64, low32, u64 } from '../../models/arch/bits.js';
import { CTL_ENABLE, CTL_IMASK, CTL_ISTATUS } from '../../models/arch/registers.js';
import { conditionMet, countsUntilAsserted } from '../../models/arch/timer-math.js';
import { e2h1Bit } from '../../models/arch/cnthctl.js';
import { TIMERS, TIMER_INDEX, type GuestMode } from '../../models/arch/vocabulary.js';
import { DEFAULT_HOOKS, type HookName, type Nv2Hooks } from '../../models/nv2/hooks.js';
import { guestTimerOffset } from '../../models/nv2/host/guest.js';
import { hostEntry } from '../../models/nv2/host/entry.js';
import { evaluate } from '../../models/nv2/host/soft-timers.js';
import { Nv2Model, type Nv2Options } from '../../models/nv2/model.js';
import type { PropertyName } from '../../properties/index.js';
import { hostModelOptions, withBuiltins, type BuiltinFactory, type Registry } from '../../src/engine/registry.js';
import type { HostFeature } from '../../models/arch/implementation.js';

const D = DEFAULT_HOOKS;

// ---------------------------------------------------------------------------------------------
// Publishing ISTATUS into the VNCR page
// ---------------------------------------------------------------------------------------------

/** Publishes the interrupt level (ISTATUS && !IMASK) as ISTATUS, as KVM's kvm_timer_update_status does. */
const publishLevel: Partial<Nv2Hooks> = {
  publishedCtl: (m, t, off) => {
    const v = D.publishedCtl(m, t, off);
    return (v & CTL_IMASK) !== 0n ? v & ~CTL_ISTATUS : v;
  },
};

/** Never publishes ISTATUS: the page shows the stored CTL only. */
const publishNever: Partial<Nv2Hooks> = { publishedCtl: (m, t, off) => D.publishedCtl(m, t, off) & ~CTL_ISTATUS };

// ---------------------------------------------------------------------------------------------
// Software timers of emulated guest timers
// ---------------------------------------------------------------------------------------------

/** Never arms a software timer: an emulated timer only fires when something else enters the host. */
const softNeverArmed: Partial<Nv2Hooks> = { softDeadline: () => undefined };

/** Arms the software timer one count late (deadline computed as CVAL + 1: a `>` for a `>=`). */
const softLate: Partial<Nv2Hooks> = {
  softDeadline: (m, t, off) => {
    const d = D.softDeadline(m, t, off);
    // (A deadline 2^64 - 1 counts away stays put: one later would wrap to now and spin.)
    return d === undefined || u64(d - m.state.count) === MASK64 ? d : u64(d + 1n);
  },
};

/** A software timer fires, the host updates the line but forgets to publish ISTATUS into the page. */
const firedNotPublished: Partial<Nv2Hooks> = {
  softTimerFired: (m) => {
    hostEntry(m);
    evaluate(m);
  },
};

/** Fence-post in the run loop: a software timer due exactly at the end of a tick is not fired. */
const runFencePost: Partial<Nv2Hooks> = {
  runTime: (m, by) => {
    if (by === 0n) return D.runTime(m, by);
    D.runTime(m, by - 1n);
    m.state.count = u64(m.state.count + 1n);
  },
};

/** The emulated interrupt level ignores IMASK. */
const levelIgnoresImask: Partial<Nv2Hooks> = {
  emulatedLevel: (m, t, off) => (t.ctl & CTL_ENABLE) !== 0n && conditionMet(m.state.count, off, t.cval),
};

/** A blocked vCPU only wakes for its EL1 timers: the EL2 timers (hptimer, hvtimer) are forgotten. */
const wfiIgnoresEl2Timers: Partial<Nv2Hooks> = {
  blockUntil: (m, limit) => {
    let best = limit;
    for (let i = 0; i < TIMERS.length; i++) {
      if (TIMERS[i] === 'hptimer' || TIMERS[i] === 'hvtimer') continue; // BUG
      const t = m.state.host.timers[i]!;
      const d = countsUntilAsserted(t.ctl, m.state.count, guestTimerOffset(m, i), t.cval);
      if (d !== undefined && d < best) best = d;
    }
    return best;
  },
};

// ---------------------------------------------------------------------------------------------
// Emulating timer register accesses
// ---------------------------------------------------------------------------------------------

/** An emulated TVAL access forgets CNTVOFF (and CNTPOFF): TVAL relative to the physical count. */
const tvalForgetsOffset: Partial<Nv2Hooks> = { emulatedAccessOffset: () => 0n };

/** A TVAL write adds the value zero-extended instead of sign-extended. */
const tvalZeroExtend: Partial<Nv2Hooks> = {
  viewAccess: (m, t, view, accessOffset, condOffset, value, store) => {
    if (view === 'tval' && value !== undefined) {
      t.cval = u64(m.state.count - accessOffset + low32(value));
      return undefined;
    }
    return D.viewAccess(m, t, view, accessOffset, condOffset, value, store);
  },
};

/** A TVAL read returns CVAL - (count - offset) in 64 bits, not truncated to TimerValue's 32. */
const tvalReadUntruncated: Partial<Nv2Hooks> = {
  viewAccess: (m, t, view, accessOffset, condOffset, value, store) => {
    if (view === 'tval' && value === undefined) return u64(t.cval - (m.state.count - accessOffset));
    return D.viewAccess(m, t, view, accessOffset, condOffset, value, store);
  },
};

/** ISTATUS as read compares CVAL with the physical count: the timer's offset is forgotten. */
const istatusForgetsOffset: Partial<Nv2Hooks> = { ctlRead: (m, t) => D.ctlRead(m, t, 0n) };

/**
 * ISTATUS as read ignores ENABLE. NOT a bug: with ENABLE=0 the architecture makes ISTATUS UNKNOWN,
 * so this is an equivalent mutant, kept to show that the checker does not flag it.
 */
const istatusIgnoresEnable: Partial<Nv2Hooks> = {
  ctlRead: (m, t, off) => (D.ctlRead(m, { ctl: t.ctl | CTL_ENABLE, cval: t.cval }, off) & ~CTL_ENABLE) | (t.ctl & CTL_ENABLE),
};

// ---------------------------------------------------------------------------------------------
// The VNCR page: merging and storing
// ---------------------------------------------------------------------------------------------

/** The host ignores a CVAL the guest stored into the page. */
const mergeIgnoresCval: Partial<Nv2Hooks> = {
  mergeSlot: (m, s, v) => {
    if (s.item.kind === 'timer' && s.item.view === 'cval') return;
    D.mergeSlot(m, s, v);
  },
};

/** The host never takes in what the guest stored into the page (everything else on entry still happens). */
const neverMerge: Partial<Nv2Hooks> = { mergePage: () => undefined };

/** The hardware masks the RES0 bits of a CTL stored into the page: the store is not verbatim. */
const slotMasksRes0: Partial<Nv2Hooks> = {
  writeSlot: (m, slot, value) =>
    D.writeSlot(m, slot, /_CTL_EL0$/.test(m.setup.slots[slot]!.key) ? value & (CTL_ENABLE | CTL_IMASK | CTL_ISTATUS) : value),
};

// ---------------------------------------------------------------------------------------------
// Context switches and hardware configuration
// ---------------------------------------------------------------------------------------------

/** Entering the nested guest, the host leaves the hardware CNTVOFF at 0 instead of the guest's CNTVOFF_EL2. */
const vel1CntvoffZero: Partial<Nv2Hooks> = {
  loadHwConfig: (m) => {
    D.loadHwConfig(m);
    if (m.state.host.el === 1) m.state.hw.cntvoff = 0n;
  },
};

/** Saving a context takes CTL back from the hardware timers but not CVAL. */
const saveLosesCval: Partial<Nv2Hooks> = {
  saveTimer: (m, i, h) => {
    m.state.host.timers[i]!.ctl = m.state.hw.timers[h]!.ctl & (CTL_ENABLE | CTL_IMASK);
  },
};


// ---------------------------------------------------------------------------------------------
// Restatements of fixes in KVM, QEMU and Xen, and the classes a uniform random generator met
// that the focused one did not (issue 11). Each cites what it restates; none copies any code.
// ---------------------------------------------------------------------------------------------

/** The CNTHCTL_EL2 trap bits for the nested guest's physical timer and counter, in the E2H=1 layout. */
const EL1P_BITS = e2h1Bit('EL1PTEN') | e2h1Bit('EL1PCTEN');

/**
 * The host writes the nested guest's EL1PCEN/EL1PCTEN traps at their E2H=0 positions into its E2H=1
 * hardware register, so the hardware never traps the nested guest's physical timer and counter.
 * Restates Linux 0fa9b9343e65 (Jintack Lim, 2016, "Access CNTHCTL_EL2 bit fields correctly on VHE
 * systems": wrong bits "may allow guest OS to access physical timer").
 */
const mirrorWrongLayout: Partial<Nv2Hooks> = {
  loadHwConfig: (m) => {
    D.loadHwConfig(m);
    if (m.state.host.el === 1) m.state.hw.cnthctl |= EL1P_BITS;
  },
};

/** While the guest hypervisor runs, the host leaves the hardware CNTVOFF_EL2 at 0: a non-VHE guest hypervisor's CNTVCT_EL0 and virtual timer lose their offset (a counter read at vEL2 with a non-zero offset). */
const vel2CntvoffZero: Partial<Nv2Hooks> = {
  loadHwConfig: (m) => {
    D.loadHwConfig(m);
    if (m.state.host.el === 2) m.state.hw.cntvoff = 0n;
  },
};

/**
 * The host gives the EL2 virtual timer the guest's CNTVOFF_EL2 while it runs on the hardware
 * virtual timer. Restates QEMU's 2025 fix that stopped applying CNTVOFF_EL2 to the EL2 virtual
 * timer (facts §10 and issue 13).
 */
const hvtimerGetsCntvoff: Partial<Nv2Hooks> = {
  loadHwConfig: (m) => {
    D.loadHwConfig(m);
    const vOn = m.state.host.map?.on[TIMER_INDEX.hvtimer];
    if (m.state.host.el === 2 && vOn !== undefined && vOn >= 0) m.state.hw.cntvoff = m.state.host.sys[m.setup.table.core.cntvoff]!;
  },
};

/**
 * The software timer's physical deadline is CVAL + offset computed without wrapping; when it
 * reaches 2^64 no software timer is armed. Restates Xen 48e7440e (Jiamei Xie, 2022, "avoid overflow
 * when setting vtimer in context switch") and what QEMU 10 does with CVAL + CNTVOFF >= 2^64
 * (measured by the QEMU cross-check, xcheck/NOTES.md).
 */
const softDeadlineOverflow: Partial<Nv2Hooks> = {
  softDeadline: (m, t, off) => ((t.ctl & CTL_ENABLE) !== 0n && t.cval + off > MASK64 ? undefined : D.softDeadline(m, t, off)),
};

/** A blocked vCPU's wake-up ignores a timer whose physical deadline (CVAL + offset) lies beyond a counter wrap. */
const wfiDeadlineOverflow: Partial<Nv2Hooks> = {
  blockUntil: (m, limit) => {
    let best = limit;
    for (let i = 0; i < TIMERS.length; i++) {
      const t = m.state.host.timers[i]!;
      const off = guestTimerOffset(m, i);
      if (t.cval + off > MASK64) continue; // BUG: the deadline wrapped
      const d = countsUntilAsserted(t.ctl, m.state.count, off, t.cval);
      if (d !== undefined && d < best) best = d;
    }
    return best;
  },
};

/**
 * When an emulated timer's level changes, the host updates the line and returns without arming a
 * software timer, so a timer whose CVAL moved into the future never fires. Restates Linux
 * b450dcce (2025; facts §10: "armed no soft timer when the level dropped because CVAL moved into
 * the future").
 */
const noRearmOnLevelChange: Partial<Nv2Hooks> = {
  emulateTimer: (m, i) => {
    const host = m.state.host;
    const was = host.level[i];
    D.emulateTimer(m, i);
    if (host.level[i] !== was) host.soft[i] = undefined;
  },
};

/**
 * The host never reads back the hardware CNTKCTL_EL1, which the guest reaches directly (no trap, no
 * slot): what it wrote there is lost at the next context switch. Restates Linux fe769e6c1f80
 * ("CNTKCTL_EL1 doesn't trap, nor ends up in the VNCR page ... ends up losing some state").
 */
const cntkctlNotSynced: Partial<Nv2Hooks> = { syncHwResident: () => undefined };

/**
 * A trapped write of CNTHCTL_EL2 is stored but does not re-evaluate the timers, so flipping ECV
 * leaves the EL1 physical timer on its old offset. Restates what QEMU 10's gt_cnthctl_write does
 * (it updates interrupts only for CNTVMASK/CNTPMASK changes; confirmed by the QEMU cross-check).
 */
const cnthctlNoReeval: Partial<Nv2Hooks> = {
  storageWritten: (m, si) => {
    if (si === m.setup.table.core.cnthctl) return;
    D.storageWritten(m, si);
  },
};

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

/** A configuration of `check` under which the correct model passes `property`. */
export interface MutantConfig {
  readonly property: PropertyName;
  readonly layout: string;
  readonly hostEcvTraps: boolean;
  readonly guest?: GuestMode;
  readonly ecv?: boolean;
  /** The physical CPU's features, when not the default (the most capable). */
  readonly hostCpu?: readonly HostFeature[];
}

/**
 * A CPU without FEAT_ECV. On one with ECV, a virtual CPU without it reads CNTPOFF_EL2 from the
 * page (a finding of its own, suites/default.json): the configurations judged without ECV traps
 * use this CPU so that the mutants are judged on what they break.
 */
export const NO_ECV_CPU: readonly HostFeature[] = ['wfxt', 'vhe', 'nv2p1'];

export const DEFERRED_VHE: MutantConfig = { property: 'deferred', layout: 'architected', hostEcvTraps: false, guest: 'vhe', hostCpu: NO_ECV_CPU };
export const EXACT_ECV: MutantConfig = { property: 'architectural', layout: 'timers-only', hostEcvTraps: true, guest: 'nvhe', ecv: true };
export const VERBATIM: MutantConfig = { property: 'vncr-verbatim', layout: 'architected', hostEcvTraps: false };
/** `architectural` for a non-VHE guest hypervisor on the trap-all layout (every slot gone: its EL1 timers run on the hardware). */
export const NVHE_TRAP_ALL: MutantConfig = { property: 'architectural', layout: 'trap-all', hostEcvTraps: false, guest: 'nvhe' };
/** `architectural` for a VHE guest hypervisor, exact with ECV traps when its virtual CPU has no FEAT_ECV. */
export const EXACT_VHE: MutantConfig = { property: 'architectural', layout: 'timers-only', hostEcvTraps: true, guest: 'vhe', ecv: false };

export interface Mutant {
  readonly name: string;
  /** The one hook replaced. */
  readonly hook: HookName;
  readonly bug: string;
  /** Where it must be caught: `deferred` on the architected page, `architectural` with exact ECV traps, ... */
  readonly caughtBy: readonly MutantConfig[];
  /** The replaced hook. */
  readonly hooks: Partial<Nv2Hooks>;
}

/** The mutant as a model. */
export const makeMutant = (m: Mutant, o: Nv2Options): Nv2Model => new Nv2Model({ ...o, hooks: m.hooks });

/** The check options of a configuration's host. */
export const hostOf = (c: MutantConfig) => (c.hostCpu ? { host: { cpu: c.hostCpu } } : {});

export const MUTANTS: readonly Mutant[] = [
  { name: 'publish-level', hook: 'publishedCtl', bug: 'publishes ISTATUS && !IMASK as ISTATUS', caughtBy: [DEFERRED_VHE], hooks: publishLevel },
  { name: 'publish-never', hook: 'publishedCtl', bug: 'never publishes ISTATUS into the page', caughtBy: [DEFERRED_VHE], hooks: publishNever },
  { name: 'soft-never-armed', hook: 'softDeadline', bug: 'never arms a software timer', caughtBy: [DEFERRED_VHE, EXACT_ECV, EXACT_VHE], hooks: softNeverArmed },
  { name: 'soft-late', hook: 'softDeadline', bug: 'arms the software timer one count late', caughtBy: [DEFERRED_VHE, EXACT_ECV, EXACT_VHE], hooks: softLate },
  { name: 'fired-not-published', hook: 'softTimerFired', bug: 'a fired software timer does not publish ISTATUS', caughtBy: [DEFERRED_VHE], hooks: firedNotPublished },
  { name: 'run-fence-post', hook: 'runTime', bug: 'a software timer due at the last count of a tick is not fired', caughtBy: [DEFERRED_VHE, EXACT_ECV, EXACT_VHE], hooks: runFencePost },
  { name: 'level-ignores-imask', hook: 'emulatedLevel', bug: 'the emulated line ignores IMASK', caughtBy: [DEFERRED_VHE, EXACT_ECV, EXACT_VHE], hooks: levelIgnoresImask },
  { name: 'wfi-ignores-el2-timers', hook: 'blockUntil', bug: 'a blocked vCPU is not woken by hptimer/hvtimer', caughtBy: [EXACT_ECV, EXACT_VHE], hooks: wfiIgnoresEl2Timers },
  { name: 'tval-forgets-offset', hook: 'emulatedAccessOffset', bug: 'an emulated TVAL access ignores CNTVOFF/CNTPOFF', caughtBy: [EXACT_ECV, EXACT_VHE], hooks: tvalForgetsOffset },
  { name: 'tval-zero-extend', hook: 'viewAccess', bug: 'a TVAL write is zero-extended (Xen 3c601c5f)', caughtBy: [EXACT_ECV, EXACT_VHE], hooks: tvalZeroExtend },
  { name: 'tval-read-untruncated', hook: 'viewAccess', bug: 'a TVAL read is not truncated to 32 bits', caughtBy: [EXACT_ECV, EXACT_VHE], hooks: tvalReadUntruncated },
  { name: 'istatus-forgets-offset', hook: 'ctlRead', bug: 'ISTATUS compares CVAL with the physical count', caughtBy: [EXACT_ECV, EXACT_VHE], hooks: istatusForgetsOffset },
  { name: 'merge-ignores-cval', hook: 'mergeSlot', bug: "ignores the guest's CVAL store into the page", caughtBy: [DEFERRED_VHE], hooks: mergeIgnoresCval },
  { name: 'never-merge', hook: 'mergePage', bug: 'never takes in the page on a host entry', caughtBy: [DEFERRED_VHE], hooks: neverMerge },
  { name: 'slot-masks-res0', hook: 'writeSlot', bug: 'a CTL store into the page drops RES0 bits', caughtBy: [VERBATIM], hooks: slotMasksRes0 },
  { name: 'vel1-cntvoff-zero', hook: 'loadHwConfig', bug: 'hardware CNTVOFF left 0 while the nested guest runs', caughtBy: [EXACT_ECV, EXACT_VHE], hooks: vel1CntvoffZero },
  { name: 'save-loses-cval', hook: 'saveTimer', bug: 'a context save does not read CVAL back from the hardware', caughtBy: [EXACT_ECV, EXACT_VHE], hooks: saveLosesCval },
  { name: 'mirror-wrong-layout', hook: 'loadHwConfig', bug: "the nested guest's physical timer/counter traps written at their E2H=0 positions (Linux 0fa9b9343e65)", caughtBy: [EXACT_ECV, EXACT_VHE], hooks: mirrorWrongLayout },
  { name: 'vel2-cntvoff-zero', hook: 'loadHwConfig', bug: 'hardware CNTVOFF left 0 while a non-VHE guest hypervisor runs', caughtBy: [NVHE_TRAP_ALL], hooks: vel2CntvoffZero },
  { name: 'hvtimer-gets-cntvoff', hook: 'loadHwConfig', bug: 'the EL2 virtual timer gets CNTVOFF_EL2 (QEMU 2025 fix)', caughtBy: [DEFERRED_VHE, EXACT_VHE], hooks: hvtimerGetsCntvoff },
  { name: 'soft-deadline-overflow', hook: 'softDeadline', bug: 'no software timer when CVAL + offset wraps (Xen 48e7440e, QEMU 10)', caughtBy: [DEFERRED_VHE, EXACT_ECV, EXACT_VHE], hooks: softDeadlineOverflow },
  { name: 'wfi-deadline-overflow', hook: 'blockUntil', bug: 'a wake-up ignores a deadline beyond a counter wrap', caughtBy: [EXACT_ECV], hooks: wfiDeadlineOverflow },
  { name: 'no-rearm-on-level-change', hook: 'emulateTimer', bug: 'no software timer armed when the level changes (Linux b450dcce)', caughtBy: [DEFERRED_VHE, EXACT_ECV, EXACT_VHE], hooks: noRearmOnLevelChange },
  { name: 'cntkctl-not-synced', hook: 'syncHwResident', bug: 'the hardware CNTKCTL_EL1 is never read back (Linux fe769e6c1f80)', caughtBy: [EXACT_VHE], hooks: cntkctlNotSynced },
  { name: 'cnthctl-no-reeval', hook: 'storageWritten', bug: 'a CNTHCTL_EL2 write does not re-evaluate the timers (QEMU 10 gt_cnthctl_write)', caughtBy: [NVHE_TRAP_ALL], hooks: cnthctlNoReeval },
];

/** Equivalent mutants: they differ from the model only where the architecture leaves a result UNKNOWN. */
export const EQUIVALENT_MUTANTS: readonly Mutant[] = [
  { name: 'istatus-ignores-enable', hook: 'ctlRead', bug: 'ISTATUS ignores ENABLE (UNKNOWN when ENABLE=0)', caughtBy: [], hooks: istatusIgnoresEnable },
];

/** Every mutant as a built-in implementation `mutant-<name>`, beside nv2 and nv. */
export const MUTANT_REGISTRY: Registry = withBuiltins([...MUTANTS, ...EQUIVALENT_MUTANTS].map((m) => [
  `mutant-${m.name}`, (o: Parameters<BuiltinFactory>[0]) => makeMutant(m, { layout: o.layout, hostEcvTraps: o.hostEcvTraps, ...hostModelOptions(o.host) }),
] as const));
