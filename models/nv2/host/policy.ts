/**
 * Host policies as data. A host profile is one row: which guest timer runs on which hardware
 * timer, which accesses it traps, when it re-evaluates the timers it emulates, what it publishes
 * as ISTATUS and how it times a WFIT. `exact` is nvconform's idealised host (every entry looks at
 * everything); `kvm` restates current mainline Linux KVM's nested timer code
 * (arch/arm64/kvm/arch_timer.c), each field citing the function it comes from. The model's code
 * reads these fields; a new host is a new row.
 */
import type { El } from '../../arch/vocabulary.js';
import type { TimerId } from '../../arch/timers.js';

/** The host profiles a user may name (`--host`). */
export type HostProfile = 'exact' | 'kvm';
export const HOST_PROFILES: readonly HostProfile[] = ['exact', 'kvm'];
export const isHostProfile = (s: string): s is HostProfile => (HOST_PROFILES as readonly string[]).includes(s);

/** Per context: the guest timer each hardware EL1 timer runs (`ptimer`, `vtimer`: the hardware's). */
export type FixedPlacement = Readonly<Record<El, Readonly<Partial<Record<'ptimer' | 'vtimer', TimerId>>>>>;

/** When the host re-evaluates the timers it emulates (their level and soft timer). */
export type Evaluation =
  /** At every host entry and after everything it handles (the idealised host). */
  | 'every-entry'
  /**
   * KVM: on vcpu load (kvm_timer_vcpu_load → timer_emulate: preempt, WFI wake, eret and exception
   * injection, which put and load the vcpu); on every exit from the guest hypervisor only without
   * FEAT_ECV (kvm_timer_sync_nested returns early with ECV); a trapped write re-evaluates the timer
   * written (kvm_arm_timer_write_sysreg), a trapped read nothing (kvm_arm_timer_read_sysreg); a soft
   * timer's expiry raises that timer's level (kvm_hrtimer_expire).
   */
  | 'kvm';

/** What the host writes as ISTATUS into a page-held CTL. */
export type IstatusPublication =
  /** ENABLE and the timer condition, as the architecture defines ISTATUS (IMASK plays no part). */
  | 'condition'
  /** The interrupt level (ENABLE ∧ ¬IMASK ∧ condition), written when the host evaluates the timer (kvm_timer_update_status). */
  | 'level';

/** The virtual count a WFIT deadline is compared with. */
export type WfitClock =
  /** CNTVCT_EL0 as the guest reads it at its current EL (the architecture's local timeout event). */
  | 'architectural'
  /** The count less the offset of the EL2 virtual timer in the guest hypervisor's context, of the EL1 one otherwise (KVM's wfit_delay_ns). */
  | 'kvm';

/** The traps the host programs. */
export type TrapPolicy =
  /** Derived: trap every access the placement needs trapped (host/timer-map.ts steps 2-3). */
  | 'derived'
  /**
   * KVM's timer_set_traps: in the guest hypervisor's context with FEAT_ECV, EL1NVVCT|EL1NVPCT for an
   * E2H=1 guest hypervisor, EL1TVT and EL1PCEN clear for an E2H=0 one; the physical timer and
   * counter trapped when the CPU has no CNTPOFF_EL2 and the physical timer's offset is non-zero;
   * in the nested guest's context the guest hypervisor's EL1PCEN/EL1PCTEN/EL1NVPCT/EL1NVVCT folded in.
   */
  | 'kvm';

/** What the host's policy decides, as data. */
export interface HostPolicy {
  /** Which profile this is (for reports). */
  readonly profile: HostProfile;
  /**
   * With FEAT_ECV in the physical CPU, emulate the guest's EL1 timers while the guest hypervisor
   * runs and trap every access to them with FEAT_ECV's trap bits, so that page-held timers are
   * exact (the `--host-ecv-traps` option of the `exact` host; KVM always does so with ECV).
   */
  readonly ecvTraps: boolean;
  /** 'derived', or the fixed placement (KVM's get_timer_map). */
  readonly placement: 'derived' | FixedPlacement;
  readonly traps: TrapPolicy;
  readonly evaluation: Evaluation;
  readonly istatus: IstatusPublication;
  readonly wfit: WfitClock;
  /**
   * Without CNTPOFF_EL2 in hardware, a hardware timer whose offset the hardware cannot apply is
   * 'emulated' in software (exact), or kept on the hardware with CVAL shifted by the offset on load
   * and back on save, all its accesses trapped (KVM's timer_restore_state / timer_save_state).
   */
  readonly unoffsetable: 'emulate' | 'shift-cval';
  /** The virtual CPU features the host hides from a guest hypervisor (KVM's limit_nv_id_reg hides ECV). */
  readonly hides: readonly ('ecv' | 'ecv-poff')[];
}

/** KVM's get_timer_map with NV: the guest hypervisor's EL2 timers on the hardware in its context, the EL1 ones in the nested guest's. */
const KVM_PLACEMENT: FixedPlacement = { 2: { vtimer: 'hvtimer', ptimer: 'hptimer' }, 1: { vtimer: 'vtimer', ptimer: 'ptimer' } };

/** The profiles, one row each. `ecvTraps` is the exact host's option (overridden by Nv2Options.hostEcvTraps). */
export const POLICIES: Readonly<Record<HostProfile, HostPolicy>> = {
  exact: {
    profile: 'exact', ecvTraps: false, placement: 'derived', traps: 'derived', evaluation: 'every-entry', istatus: 'condition',
    wfit: 'architectural', unoffsetable: 'emulate', hides: [],
  },
  kvm: {
    profile: 'kvm', ecvTraps: true, placement: KVM_PLACEMENT, traps: 'kvm', evaluation: 'kvm', istatus: 'level',
    wfit: 'kvm', unoffsetable: 'shift-cval', hides: ['ecv', 'ecv-poff'],
  },
};

/** The exact host without ECV traps: today's default. */
export const EXACT_POLICY: HostPolicy = POLICIES.exact;

/** A profile's policy with the exact host's ECV-trap option applied. */
export function hostPolicy(profile: HostProfile, ecvTraps: boolean): HostPolicy {
  const p = POLICIES[profile];
  return profile === 'exact' && ecvTraps !== p.ecvTraps ? { ...p, ecvTraps } : p;
}
