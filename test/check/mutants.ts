/**
 * Mutants of the NV2 host and hardware model: each is Nv2Model with ONE protected hook overridden
 * by a bug a host author could plausibly write. Importing this module registers every mutant as
 * a built-in implementation `mutant-<name>`, so `check` drives it synchronously like `nv2`.
 *
 * Each mutant names the property that must refute it and a configuration under which the correct
 * model (`nv2`) holds that property (see test/check/no-false-alarms.test.ts):
 * - DEFERRED_VHE: `deferred`, layout architected, guest vhe (the VNCR page is used: publishing and
 *   merging matter);
 * - EXACT_ECV: `architectural`, layout timers-only, host ECV traps, virtual CPU with ECV (every
 *   guest-hypervisor timer access traps, emulated and hardware timers must both be exact);
 * - VERBATIM: `vncr-verbatim`, layout architected.
 */
import { registerBuiltin, type ImplOptions } from '../../src/engine/registry.js';
import { loadLayout } from '../../models/layout-load.js';
import { Nv2Model, type Nv2Options } from '../../models/nv2/nv2.js';
import { CTL_ENABLE, CTL_IMASK, CTL_ISTATUS, type OffsetRule, type View } from '../../models/registers.js';
import { conditionMet, countsUntilAsserted } from '../../models/timer.js';
import { MASK64, low32, u64 } from '../../src/bits.js';
import { TIMERS, type GuestMode } from '../../src/trace/types.js';
import type { PropertyName } from '../../properties/index.js';

/** The registers of one timer as the model passes them to its hooks. */
type Regs = { ctl: bigint; cval: bigint };
type MergeSlotArgs = Parameters<Nv2Model['mergeSlot']>;

// ---------------------------------------------------------------------------------------------
// Publishing ISTATUS into the VNCR page
// ---------------------------------------------------------------------------------------------

/** Publishes the interrupt level (ISTATUS && !IMASK) as ISTATUS, as KVM's kvm_timer_update_status once did. */
class PublishLevel extends Nv2Model {
  protected override publishedCtl(t: Regs, condOffset: bigint, timer: number): bigint {
    const v = super.publishedCtl(t, condOffset, timer);
    return (v & CTL_IMASK) !== 0n ? v & ~CTL_ISTATUS : v;
  }
}

/** Never publishes ISTATUS: the page shows the stored CTL only. */
class PublishNever extends Nv2Model {
  protected override publishedCtl(t: Regs, condOffset: bigint, timer: number): bigint {
    return super.publishedCtl(t, condOffset, timer) & ~CTL_ISTATUS;
  }
}

// ---------------------------------------------------------------------------------------------
// Software timers of emulated guest timers
// ---------------------------------------------------------------------------------------------

/** Never arms a software timer: an emulated timer only fires when something else enters the host. */
class SoftNeverArmed extends Nv2Model {
  protected override softDeadline(_t: Regs, _off: bigint): bigint | undefined {
    return undefined;
  }
}

/** Arms the software timer one count late (deadline computed as CVAL + 1: a `>` for a `>=`). */
class SoftLate extends Nv2Model {
  protected override softDeadline(t: Regs, off: bigint): bigint | undefined {
    const d = super.softDeadline(t, off);
    // (A deadline 2^64 - 1 counts away stays put: one later would wrap to now and spin.)
    return d === undefined || u64(d - this.count) === MASK64 ? d : u64(d + 1n);
  }
}

/** A software timer fires, the host updates the line but forgets to publish ISTATUS into the page. */
class FiredNotPublished extends Nv2Model {
  protected override softTimerFired(_i: number): void {
    this.hostEntry();
    this.evaluate();
  }
}

/** Fence-post in the run loop: a software timer due exactly at the end of a tick is not fired. */
class RunFencePost extends Nv2Model {
  protected override run(by: bigint): void {
    if (by === 0n) return super.run(by);
    super.run(by - 1n);
    this.count = u64(this.count + 1n);
  }
}

/** The emulated interrupt level ignores IMASK. */
class LevelIgnoresImask extends Nv2Model {
  protected override evaluate(): void {
    super.evaluate();
    for (let i = 0; i < 4; i++) {
      if (this.direct[i] !== undefined) continue;
      const t = this.ctxt.timers[i]!;
      this.level[i] = (t.ctl & CTL_ENABLE) !== 0n && conditionMet(this.count, this.guestTimerOffset(TIMERS[i]!), t.cval);
    }
  }
}

/** A blocked vCPU only wakes for its EL1 timers: the EL2 timers (hptimer, hvtimer) are forgotten. */
class WfiIgnoresEl2Timers extends Nv2Model {
  protected override blockUntil(limit: bigint): bigint {
    let best = limit;
    for (let i = 0; i < 4; i++) {
      if (TIMERS[i] === 'hptimer' || TIMERS[i] === 'hvtimer') continue; // BUG
      const t = this.ctxt.timers[i]!;
      const d = countsUntilAsserted(t.ctl, this.count, this.guestTimerOffset(TIMERS[i]!), t.cval);
      if (d !== undefined && d < best) best = d;
    }
    return best;
  }
}

// ---------------------------------------------------------------------------------------------
// Emulating timer register accesses
// ---------------------------------------------------------------------------------------------

/** An emulated TVAL access forgets CNTVOFF (and CNTPOFF): TVAL relative to the physical count. */
class TvalForgetsOffset extends Nv2Model {
  protected override emulatedAccessOffset(_rule: OffsetRule): bigint {
    return 0n;
  }
}

/** A TVAL write adds the value zero-extended instead of sign-extended. */
class TvalZeroExtend extends Nv2Model {
  protected override timerViewAccess(
    t: Regs, view: View, accessOffset: bigint, condOffset: bigint, value: bigint | undefined, store: 'hw' | 'host',
  ): bigint | undefined {
    if (view === 'tval' && value !== undefined) {
      t.cval = u64(this.count - accessOffset + low32(value));
      return undefined;
    }
    return super.timerViewAccess(t, view, accessOffset, condOffset, value, store);
  }
}

/** A TVAL read returns CVAL - (count - offset) in 64 bits, not truncated to TimerValue's 32. */
class TvalReadUntruncated extends Nv2Model {
  protected override timerViewAccess(
    t: Regs, view: View, accessOffset: bigint, condOffset: bigint, value: bigint | undefined, store: 'hw' | 'host',
  ): bigint | undefined {
    if (view === 'tval' && value === undefined) return u64(t.cval - (this.count - accessOffset));
    return super.timerViewAccess(t, view, accessOffset, condOffset, value, store);
  }
}

/** ISTATUS as read compares CVAL with the physical count: the timer's offset is forgotten. */
class IstatusForgetsOffset extends Nv2Model {
  protected override ctlWithStatus(t: Regs, _condOffset: bigint): bigint {
    return super.ctlWithStatus(t, 0n);
  }
}

/**
 * ISTATUS as read ignores ENABLE. NOT a bug: with ENABLE=0 the architecture makes ISTATUS UNKNOWN,
 * so this is an equivalent mutant, kept to show that the checker does not flag it.
 */
class IstatusIgnoresEnable extends Nv2Model {
  protected override ctlWithStatus(t: Regs, condOffset: bigint): bigint {
    return super.ctlWithStatus({ ctl: t.ctl | CTL_ENABLE, cval: t.cval }, condOffset) & ~CTL_ENABLE | (t.ctl & CTL_ENABLE);
  }
}

// ---------------------------------------------------------------------------------------------
// The VNCR page: merging and storing
// ---------------------------------------------------------------------------------------------

/** The host ignores a CVAL the guest stored into the page. */
class MergeIgnoresCval extends Nv2Model {
  protected override mergeSlot(...[s, v]: MergeSlotArgs): void {
    if (s.item.kind === 'timer' && s.item.view === 'cval') return;
    super.mergeSlot(s, v);
  }
}

/** The host never takes in what the guest stored into the page (everything else on entry still happens). */
class NeverMerge extends Nv2Model {
  protected override hostEntry(): void {
    const slots = this.slots;
    this.slots = [];
    try {
      super.hostEntry();
    } finally {
      this.slots = slots;
    }
  }
}

/** The hardware masks the RES0 bits of a CTL stored into the page: the store is not verbatim. */
class SlotMasksRes0 extends Nv2Model {
  protected override setSlot(offset: number, key: string, value: bigint): void {
    super.setSlot(offset, key, /_CTL_EL0$/.test(key) ? value & (CTL_ENABLE | CTL_IMASK | CTL_ISTATUS) : value);
  }
}

// ---------------------------------------------------------------------------------------------
// Context switches and hardware configuration
// ---------------------------------------------------------------------------------------------

/** Entering the nested guest, the host leaves the hardware CNTVOFF at 0 instead of the guest's CNTVOFF_EL2. */
class Vel1CntvoffZero extends Nv2Model {
  protected override applyHwConfig(): void {
    super.applyHwConfig();
    if (this.el === 1) this.hw.cntvoff = 0n;
  }
}

/** Saving a context takes CTL back from the hardware timers but not CVAL. */
class SaveLosesCval extends Nv2Model {
  protected override saveContext(): void {
    const stale = this.direct.map((h, i) => (h ? this.ctxt.timers[i]!.cval : undefined));
    super.saveContext();
    stale.forEach((cval, i) => {
      if (cval !== undefined) this.ctxt.timers[i] = { ctl: this.ctxt.timers[i]!.ctl, cval };
    });
  }
}

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
  /** The one hook overridden. */
  readonly hook: string;
  readonly bug: string;
  /** Where it must be caught: `deferred` on the architected page, `architectural` with exact ECV traps, ... */
  readonly caughtBy: readonly MutantConfig[];
  readonly make: (o: Nv2Options) => Nv2Model;
}

export const MUTANTS: readonly Mutant[] = [
  { name: 'publish-level', hook: 'publishedCtl', bug: 'publishes ISTATUS && !IMASK as ISTATUS', caughtBy: [DEFERRED_VHE], make: (o) => new PublishLevel(o) },
  { name: 'publish-never', hook: 'publishedCtl', bug: 'never publishes ISTATUS into the page', caughtBy: [DEFERRED_VHE], make: (o) => new PublishNever(o) },
  { name: 'soft-never-armed', hook: 'softDeadline', bug: 'never arms a software timer', caughtBy: [DEFERRED_VHE, EXACT_ECV], make: (o) => new SoftNeverArmed(o) },
  { name: 'soft-late', hook: 'softDeadline', bug: 'arms the software timer one count late', caughtBy: [DEFERRED_VHE, EXACT_ECV], make: (o) => new SoftLate(o) },
  { name: 'fired-not-published', hook: 'softTimerFired', bug: 'a fired software timer does not publish ISTATUS', caughtBy: [DEFERRED_VHE], make: (o) => new FiredNotPublished(o) },
  { name: 'run-fence-post', hook: 'run', bug: 'a software timer due at the last count of a tick is not fired', caughtBy: [DEFERRED_VHE, EXACT_ECV], make: (o) => new RunFencePost(o) },
  { name: 'level-ignores-imask', hook: 'evaluate', bug: 'the emulated line ignores IMASK', caughtBy: [DEFERRED_VHE, EXACT_ECV], make: (o) => new LevelIgnoresImask(o) },
  { name: 'wfi-ignores-el2-timers', hook: 'blockUntil', bug: 'a blocked vCPU is not woken by hptimer/hvtimer', caughtBy: [EXACT_ECV], make: (o) => new WfiIgnoresEl2Timers(o) },
  { name: 'tval-forgets-offset', hook: 'emulatedAccessOffset', bug: 'an emulated TVAL access ignores CNTVOFF/CNTPOFF', caughtBy: [EXACT_ECV], make: (o) => new TvalForgetsOffset(o) },
  { name: 'tval-zero-extend', hook: 'timerViewAccess', bug: 'a TVAL write is zero-extended', caughtBy: [EXACT_ECV], make: (o) => new TvalZeroExtend(o) },
  { name: 'tval-read-untruncated', hook: 'timerViewAccess', bug: 'a TVAL read is not truncated to 32 bits', caughtBy: [EXACT_ECV], make: (o) => new TvalReadUntruncated(o) },
  { name: 'istatus-forgets-offset', hook: 'ctlWithStatus', bug: 'ISTATUS compares CVAL with the physical count', caughtBy: [EXACT_ECV], make: (o) => new IstatusForgetsOffset(o) },
  { name: 'merge-ignores-cval', hook: 'mergeSlot', bug: "ignores the guest's CVAL store into the page", caughtBy: [DEFERRED_VHE], make: (o) => new MergeIgnoresCval(o) },
  { name: 'never-merge', hook: 'hostEntry', bug: 'never takes in the page on a host entry', caughtBy: [DEFERRED_VHE], make: (o) => new NeverMerge(o) },
  { name: 'slot-masks-res0', hook: 'setSlot', bug: 'a CTL store into the page drops RES0 bits', caughtBy: [VERBATIM], make: (o) => new SlotMasksRes0(o) },
  { name: 'vel1-cntvoff-zero', hook: 'applyHwConfig', bug: 'hardware CNTVOFF left 0 while the nested guest runs', caughtBy: [EXACT_ECV], make: (o) => new Vel1CntvoffZero(o) },
  { name: 'save-loses-cval', hook: 'saveContext', bug: 'a context save does not read CVAL back from the hardware', caughtBy: [EXACT_ECV], make: (o) => new SaveLosesCval(o) },
];

/** Equivalent mutants: they differ from the model only where the architecture leaves a result UNKNOWN. */
export const EQUIVALENT_MUTANTS: readonly Mutant[] = [
  { name: 'istatus-ignores-enable', hook: 'ctlWithStatus', bug: 'ISTATUS ignores ENABLE (UNKNOWN when ENABLE=0)', caughtBy: [], make: (o) => new IstatusIgnoresEnable(o) },
];

const factory = (m: Mutant) => (o: ImplOptions): Nv2Model =>
  m.make({ layout: typeof o.layout === 'string' ? loadLayout(o.layout) : o.layout, hostEcvTraps: o.hostEcvTraps });

for (const m of [...MUTANTS, ...EQUIVALENT_MUTANTS]) registerBuiltin(`mutant-${m.name}`, factory(m));
