/**
 * Mutants of the NV2 host and hardware model: each is Nv2Model with ONE named hook replaced
 * (Nv2Options.hooks) by a bug a host author could plausibly write. MUTANT_REGISTRY offers every
 * mutant as a built-in implementation `mutant-<name>`, so `check` drives it synchronously like `nv2`.
 *
 * Each mutant names the property that must refute it and a configuration under which the correct
 * model (`nv2`) holds that property (see test/check/no-false-alarms.test.ts):
 * - DEFERRED_VHE: `deferred`, layout architected, guest vhe (the VNCR page is used: publishing and
 *   merging matter);
 * - EXACT_ECV: `architectural`, layout timers-only, host ECV traps, virtual CPU with ECV (every
 *   guest-hypervisor timer access traps, emulated and hardware timers must both be exact);
 * - VERBATIM: `vncr-verbatim`, layout architected.
 */
import { MASK64, low32, u64 } from '../../models/arch/bits.js';
import { CTL_ENABLE, CTL_IMASK, CTL_ISTATUS } from '../../models/arch/registers.js';
import { conditionMet, countsUntilAsserted } from '../../models/arch/timer-math.js';
import { TIMERS, type GuestMode } from '../../models/arch/vocabulary.js';
import { DEFAULT_HOOKS, type HookName, type Nv2Hooks } from '../../models/nv2/hooks.js';
import { guestTimerOffset } from '../../models/nv2/host/guest.js';
import { hostEntry } from '../../models/nv2/host/entry.js';
import { evaluate } from '../../models/nv2/host/soft-timers.js';
import { Nv2Model, type Nv2Options } from '../../models/nv2/model.js';
import type { PropertyName } from '../../properties/index.js';
import { withBuiltins, type Registry } from '../../src/engine/registry.js';

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
// The catalogue
// ---------------------------------------------------------------------------------------------

/** A configuration of `check` under which the correct model passes `property`. */
export interface MutantConfig {
  readonly property: PropertyName;
  readonly layout: string;
  readonly hostEcvTraps: boolean;
  readonly guest?: GuestMode;
  readonly ecv?: boolean;
}

export const DEFERRED_VHE: MutantConfig = { property: 'deferred', layout: 'architected', hostEcvTraps: false, guest: 'vhe' };
export const EXACT_ECV: MutantConfig = { property: 'architectural', layout: 'timers-only', hostEcvTraps: true, ecv: true };
export const VERBATIM: MutantConfig = { property: 'vncr-verbatim', layout: 'architected', hostEcvTraps: false };

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

export const MUTANTS: readonly Mutant[] = [
  { name: 'publish-level', hook: 'publishedCtl', bug: 'publishes ISTATUS && !IMASK as ISTATUS', caughtBy: [DEFERRED_VHE], hooks: publishLevel },
  { name: 'publish-never', hook: 'publishedCtl', bug: 'never publishes ISTATUS into the page', caughtBy: [DEFERRED_VHE], hooks: publishNever },
  { name: 'soft-never-armed', hook: 'softDeadline', bug: 'never arms a software timer', caughtBy: [DEFERRED_VHE, EXACT_ECV], hooks: softNeverArmed },
  { name: 'soft-late', hook: 'softDeadline', bug: 'arms the software timer one count late', caughtBy: [DEFERRED_VHE, EXACT_ECV], hooks: softLate },
  { name: 'fired-not-published', hook: 'softTimerFired', bug: 'a fired software timer does not publish ISTATUS', caughtBy: [DEFERRED_VHE], hooks: firedNotPublished },
  { name: 'run-fence-post', hook: 'runTime', bug: 'a software timer due at the last count of a tick is not fired', caughtBy: [DEFERRED_VHE, EXACT_ECV], hooks: runFencePost },
  { name: 'level-ignores-imask', hook: 'emulatedLevel', bug: 'the emulated line ignores IMASK', caughtBy: [DEFERRED_VHE, EXACT_ECV], hooks: levelIgnoresImask },
  { name: 'wfi-ignores-el2-timers', hook: 'blockUntil', bug: 'a blocked vCPU is not woken by hptimer/hvtimer', caughtBy: [EXACT_ECV], hooks: wfiIgnoresEl2Timers },
  { name: 'tval-forgets-offset', hook: 'emulatedAccessOffset', bug: 'an emulated TVAL access ignores CNTVOFF/CNTPOFF', caughtBy: [EXACT_ECV], hooks: tvalForgetsOffset },
  { name: 'tval-zero-extend', hook: 'viewAccess', bug: 'a TVAL write is zero-extended', caughtBy: [EXACT_ECV], hooks: tvalZeroExtend },
  { name: 'tval-read-untruncated', hook: 'viewAccess', bug: 'a TVAL read is not truncated to 32 bits', caughtBy: [EXACT_ECV], hooks: tvalReadUntruncated },
  { name: 'istatus-forgets-offset', hook: 'ctlRead', bug: 'ISTATUS compares CVAL with the physical count', caughtBy: [EXACT_ECV], hooks: istatusForgetsOffset },
  { name: 'merge-ignores-cval', hook: 'mergeSlot', bug: "ignores the guest's CVAL store into the page", caughtBy: [DEFERRED_VHE], hooks: mergeIgnoresCval },
  { name: 'never-merge', hook: 'mergePage', bug: 'never takes in the page on a host entry', caughtBy: [DEFERRED_VHE], hooks: neverMerge },
  { name: 'slot-masks-res0', hook: 'writeSlot', bug: 'a CTL store into the page drops RES0 bits', caughtBy: [VERBATIM], hooks: slotMasksRes0 },
  { name: 'vel1-cntvoff-zero', hook: 'loadHwConfig', bug: 'hardware CNTVOFF left 0 while the nested guest runs', caughtBy: [EXACT_ECV], hooks: vel1CntvoffZero },
  { name: 'save-loses-cval', hook: 'saveTimer', bug: 'a context save does not read CVAL back from the hardware', caughtBy: [EXACT_ECV], hooks: saveLosesCval },
];

/** Equivalent mutants: they differ from the model only where the architecture leaves a result UNKNOWN. */
export const EQUIVALENT_MUTANTS: readonly Mutant[] = [
  { name: 'istatus-ignores-enable', hook: 'ctlRead', bug: 'ISTATUS ignores ENABLE (UNKNOWN when ENABLE=0)', caughtBy: [], hooks: istatusIgnoresEnable },
];

/** Every mutant as a built-in implementation `mutant-<name>`, beside nv2 and nv. */
export const MUTANT_REGISTRY: Registry = withBuiltins([...MUTANTS, ...EQUIVALENT_MUTANTS].map((m) => [
  `mutant-${m.name}`, (o: { layout: Nv2Options['layout']; hostEcvTraps: boolean }) => makeMutant(m, { layout: o.layout, hostEcvTraps: o.hostEcvTraps }),
] as const));
