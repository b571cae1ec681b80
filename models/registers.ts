/**
 * The register table: the machine as data.
 *
 * One row per register name of the trace format. A row says what the name means when the
 * vCPU executes it at vEL2 (for a `vhe` and an `nvhe` guest hypervisor) and at vEL1 (the nested
 * guest, HCR_EL2.TGE=0, NV=0), and which CNTHCTL_EL2 bits trap it from EL1. The NV2 hardware
 * model uses the same rows: a guest hypervisor runs at real EL1, so a name means there what its
 * `vel1` column says, except that a name UNDEFINED at EL1 is trapped by HCR_EL2.NV, and a name
 * the VNCR layout gives a slot is served from memory.
 *
 * Sources (shared/reference/arm-timer-nv2-facts.md): §1.1 encodings and fields, §1.2 TVAL
 * offsets, §1.4 counters, §1.5 CNTHCTL_EL2 layouts, §2 E2H redirection, §3 NV/NV2 routing.
 */
import type { Feature, GuestMode, TimerId } from '../src/trace/types.js';

export type View = 'ctl' | 'cval' | 'tval';
export const VIEWS: readonly View[] = ['ctl', 'cval', 'tval'];

/** A register that is plain storage (not a timer view, not a counter). */
export type SysRegId = 'CNTVOFF_EL2' | 'CNTPOFF_EL2' | 'CNTHCTL_EL2' | 'CNTKCTL_EL1';

/**
 * Which offset an access applies (for TVAL: the count it is relative to; for a counter: what
 * is subtracted from the physical count).
 * - `none`: the physical count itself;
 * - `cntvoff`: CNTVOFF_EL2;
 * - `cntpoff`: CNTPOFF_EL2 when the CPU has FEAT_ECV and CNTHCTL_EL2.ECV is 1, else none.
 */
export type OffsetRule = 'none' | 'cntvoff' | 'cntpoff';

/** What a register name designates at one EL. */
export type Meaning =
  | { readonly kind: 'timer'; readonly timer: TimerId; readonly view: View; readonly offset: OffsetRule }
  | { readonly kind: 'sysreg'; readonly reg: SysRegId }
  | { readonly kind: 'counter'; readonly offset: OffsetRule }
  | { readonly kind: 'undefined' };

/**
 * A CNTHCTL_EL2 bit that traps an EL1 access to EL2. `e2hBit`/`nvheBit` give the bit's position
 * in the E2H=1 and E2H=0 layouts of CNTHCTL_EL2 (undefined: the layout has no such bit).
 * `nv101Only`: the bit applies only while HCR_EL2.{NV2,NV1,NV} = {1,0,1} (EL1NVPCT, EL1NVVCT).
 */
export interface TrapRule {
  readonly field: string;
  readonly e2hBit?: number;
  readonly nvheBit?: number;
  readonly trapsWhen: 0 | 1;
  readonly feature?: Feature;
  readonly nv101Only?: boolean;
}

export type Encoding = readonly [op0: number, op1: number, crn: number, crm: number, op2: number];

export interface RegisterRow {
  readonly name: string;
  readonly enc: Encoding;
  /** `ro`: an MSR to it is UNDEFINED. */
  readonly access: 'rw' | 'ro';
  /** The name exists only with this feature of the (virtual or physical) CPU. */
  readonly feature?: Feature;
  readonly vel2: Readonly<Record<GuestMode, Meaning>>;
  /** Meaning at EL1 with NV=0 (the nested guest; also the real-EL1 meaning for the NV2 hardware). */
  readonly vel1: Meaning;
  /** CNTHCTL_EL2 bits that trap the access from EL1, checked in this order, before any VNCR redirect. */
  readonly el1Traps: readonly TrapRule[];
  /** The VNCR layout key whose slot may serve this name, and the HCR_EL2.NV1 value under which it does. */
  readonly slot?: { readonly key: string; readonly nv1: 0 | 1 | 'any' };
}

// ---- trap rules (facts §1.5, §3) ----
const EL1PTEN: TrapRule = { field: 'EL1PTEN/EL1PCEN', e2hBit: 11, nvheBit: 1, trapsWhen: 0 };
const EL1PCTEN: TrapRule = { field: 'EL1PCTEN', e2hBit: 10, nvheBit: 0, trapsWhen: 0 };
const EL1TVT: TrapRule = { field: 'EL1TVT', e2hBit: 13, nvheBit: 13, trapsWhen: 1, feature: 'ecv' };
const EL1TVCT: TrapRule = { field: 'EL1TVCT', e2hBit: 14, nvheBit: 14, trapsWhen: 1, feature: 'ecv' };
const EL1NVPCT: TrapRule = { field: 'EL1NVPCT', e2hBit: 15, trapsWhen: 1, feature: 'ecv', nv101Only: true };
const EL1NVVCT: TrapRule = { field: 'EL1NVVCT', e2hBit: 16, trapsWhen: 1, feature: 'ecv', nv101Only: true };

const UNDEF: Meaning = { kind: 'undefined' };
const timer = (t: TimerId, view: View, offset: OffsetRule = 'none'): Meaning => ({ kind: 'timer', timer: t, view, offset });
const sysreg = (reg: SysRegId): Meaning => ({ kind: 'sysreg', reg });

const VIEW_OP2: Readonly<Record<View, number>> = { tval: 0, ctl: 1, cval: 2 };
const VIEW_NAME: Readonly<Record<View, string>> = { ctl: 'CTL', cval: 'CVAL', tval: 'TVAL' };

/** The timer view rows of one family: CNTP/CNTV (EL0 names and EL02 aliases), CNTHP/CNTHV (EL2). */
function timerRows(): RegisterRow[] {
  const rows: RegisterRow[] = [];
  for (const view of VIEWS) {
    const V = VIEW_NAME[view];
    const op2 = VIEW_OP2[view];
    const tvalOnly = <T>(a: T): T | undefined => (view === 'tval' ? a : undefined);
    // CNTP_<V>_EL0 (3,3,14,2,op2)
    rows.push({
      name: `CNTP_${V}_EL0`, enc: [3, 3, 14, 2, op2], access: 'rw',
      vel2: { vhe: timer('hptimer', view), nvhe: timer('ptimer', view) },
      vel1: timer('ptimer', view, 'cntpoff'),
      el1Traps: [EL1PTEN],
      slot: { key: `CNTP_${V}_EL0`, nv1: 1 },
    });
    // CNTV_<V>_EL0 (3,3,14,3,op2)
    rows.push({
      name: `CNTV_${V}_EL0`, enc: [3, 3, 14, 3, op2], access: 'rw',
      vel2: { vhe: timer('hvtimer', view), nvhe: timer('vtimer', view, 'cntvoff') },
      vel1: timer('vtimer', view, 'cntvoff'),
      el1Traps: [EL1TVT],
      slot: { key: `CNTV_${V}_EL0`, nv1: 1 },
    });
    // CNTP_<V>_EL02 (3,5,14,2,op2): EL1 physical timer from a VHE EL2; TVAL_EL02 applies no CNTPOFF.
    rows.push({
      name: `CNTP_${V}_EL02`, enc: [3, 5, 14, 2, op2], access: 'rw',
      vel2: { vhe: timer('ptimer', view), nvhe: UNDEF },
      vel1: UNDEF,
      el1Traps: tvalOnly([]) ?? [EL1NVPCT],
      slot: { key: `CNTP_${V}_EL0`, nv1: 0 },
    });
    // CNTV_<V>_EL02 (3,5,14,3,op2): TVAL_EL02 always applies CNTVOFF_EL2.
    rows.push({
      name: `CNTV_${V}_EL02`, enc: [3, 5, 14, 3, op2], access: 'rw',
      vel2: { vhe: timer('vtimer', view, 'cntvoff'), nvhe: UNDEF },
      vel1: UNDEF,
      el1Traps: tvalOnly([]) ?? [EL1NVVCT],
      slot: { key: `CNTV_${V}_EL0`, nv1: 0 },
    });
    // CNTHP_<V>_EL2 (3,4,14,2,op2), CNTHV_<V>_EL2 (3,4,14,3,op2): EL2 timers, no offset.
    // CNTHV_* exist with FEAT_VHE (always present here) and are accessible at EL2 whatever E2H is.
    rows.push({
      name: `CNTHP_${V}_EL2`, enc: [3, 4, 14, 2, op2], access: 'rw',
      vel2: { vhe: timer('hptimer', view), nvhe: timer('hptimer', view) },
      vel1: UNDEF, el1Traps: [],
    });
    rows.push({
      name: `CNTHV_${V}_EL2`, enc: [3, 4, 14, 3, op2], access: 'rw',
      vel2: { vhe: timer('hvtimer', view), nvhe: timer('hvtimer', view) },
      vel1: UNDEF, el1Traps: [],
    });
  }
  return rows;
}

export const REGISTERS: readonly RegisterRow[] = [
  ...timerRows(),
  {
    name: 'CNTVOFF_EL2', enc: [3, 4, 14, 0, 3], access: 'rw',
    vel2: { vhe: sysreg('CNTVOFF_EL2'), nvhe: sysreg('CNTVOFF_EL2') }, vel1: UNDEF, el1Traps: [],
    slot: { key: 'CNTVOFF_EL2', nv1: 'any' },
  },
  {
    name: 'CNTPOFF_EL2', enc: [3, 4, 14, 0, 6], access: 'rw', feature: 'ecv',
    vel2: { vhe: sysreg('CNTPOFF_EL2'), nvhe: sysreg('CNTPOFF_EL2') }, vel1: UNDEF, el1Traps: [],
    slot: { key: 'CNTPOFF_EL2', nv1: 'any' },
  },
  {
    name: 'CNTHCTL_EL2', enc: [3, 4, 14, 1, 0], access: 'rw',
    vel2: { vhe: sysreg('CNTHCTL_EL2'), nvhe: sysreg('CNTHCTL_EL2') }, vel1: UNDEF, el1Traps: [],
  },
  {
    // At EL2 with E2H=1, CNTKCTL_EL1 is redirected to CNTHCTL_EL2 (facts §1.4, §2).
    name: 'CNTKCTL_EL1', enc: [3, 0, 14, 1, 0], access: 'rw',
    vel2: { vhe: sysreg('CNTHCTL_EL2'), nvhe: sysreg('CNTKCTL_EL1') }, vel1: sysreg('CNTKCTL_EL1'), el1Traps: [],
  },
  {
    name: 'CNTPCT_EL0', enc: [3, 3, 14, 0, 1], access: 'ro',
    vel2: { vhe: { kind: 'counter', offset: 'none' }, nvhe: { kind: 'counter', offset: 'none' } },
    vel1: { kind: 'counter', offset: 'cntpoff' }, el1Traps: [EL1PCTEN],
  },
  {
    // CNTVOFF_EL2 does not apply at EL2 with E2H=1; it does with E2H=0 and at EL1 (facts §1.4).
    name: 'CNTVCT_EL0', enc: [3, 3, 14, 0, 2], access: 'ro',
    vel2: { vhe: { kind: 'counter', offset: 'none' }, nvhe: { kind: 'counter', offset: 'cntvoff' } },
    vel1: { kind: 'counter', offset: 'cntvoff' }, el1Traps: [EL1TVCT],
  },
];

export const REGISTER_BY_NAME: ReadonlyMap<string, RegisterRow> = new Map(REGISTERS.map((r) => [r.name, r]));
export const REGISTER_NAMES: readonly string[] = REGISTERS.map((r) => r.name);

/** Slot keys a layout may use: the EL0 names of the EL1 timer registers, CNTVOFF_EL2, CNTPOFF_EL2. */
export const SLOT_KEYS: readonly string[] = [...new Set(REGISTERS.flatMap((r) => (r.slot ? [r.slot.key] : [])))];

// ---- storage registers: writable and RES0 bits ----

/** Bits of CTL: ENABLE [0], IMASK [1], ISTATUS [2] (read-only); [63:3] RES0. */
export const CTL_ENABLE = 1n;
export const CTL_IMASK = 2n;
export const CTL_ISTATUS = 4n;
export const CTL_WRITABLE = CTL_ENABLE | CTL_IMASK;
export const CTL_RES0 = ~7n & ((1n << 64n) - 1n);
/** TVAL: TimerValue [31:0]; [63:32] RES0 (ignored on write, zero on read). */

export interface StorageRow {
  readonly reg: SysRegId;
  /** Bits that hold state, as a function of the guest's E2H and whether the CPU has FEAT_ECV. */
  readonly writable: (guest: GuestMode, ecv: boolean) => bigint;
}

const ALL = (1n << 64n) - 1n;
const CNTHCTL_ECV_BITS = 0x3f000n; // [17:12] EVNTIS, EL1NVVCT, EL1NVPCT, EL1TVCT, EL1TVT, ECV

export const STORAGE: Readonly<Record<SysRegId, StorageRow>> = {
  CNTVOFF_EL2: { reg: 'CNTVOFF_EL2', writable: () => ALL },
  CNTPOFF_EL2: { reg: 'CNTPOFF_EL2', writable: () => ALL },
  // E2H=1: [11:0] (EL1PTEN, EL1PCTEN, EL0PTEN, EL0VTEN, EVNTI, EVNTDIR, EVNTEN, EL0VCTEN, EL0PCTEN);
  // E2H=0: [7:0] ([1] EL1PCEN, [0] EL1PCTEN), [11:8] RES0. [17:12] with FEAT_ECV. [19:18] need RME: RES0.
  CNTHCTL_EL2: {
    reg: 'CNTHCTL_EL2',
    writable: (g, ecv) => (g === 'vhe' ? 0xfffn : 0xffn) | (ecv ? CNTHCTL_ECV_BITS : 0n),
  },
  // [9:0] EL0PTEN..EL0PCTEN; [17] EVNTIS with FEAT_ECV.
  CNTKCTL_EL1: { reg: 'CNTKCTL_EL1', writable: (_g, ecv) => 0x3ffn | (ecv ? 1n << 17n : 0n) },
};

/** CNTHCTL_EL2.ECV (bit 12, both layouts): CNTPOFF_EL2 applies to EL1 physical timer and counter. */
export const CNTHCTL_ECV_BIT = 12;

/** Is `rule` trapping, given CNTHCTL_EL2 value `cnthctl` in the layout of `e2h`? */
export function trapFires(rule: TrapRule, cnthctl: bigint, e2h: boolean, ecv: boolean, nv101: boolean): boolean {
  if (rule.feature === 'ecv' && !ecv) return false;
  if (rule.nv101Only && !nv101) return false;
  const b = e2h ? rule.e2hBit : rule.nvheBit;
  if (b === undefined) return false;
  return Number((cnthctl >> BigInt(b)) & 1n) === rule.trapsWhen;
}

/** The meaning of `name` at `el` for the given guest, or undefined if the name is not in the table. */
export function meaningOf(row: RegisterRow, el: 1 | 2, guest: GuestMode): Meaning {
  return el === 2 ? row.vel2[guest] : row.vel1;
}
