/**
 * The register table: the machine as data.
 *
 * One row per register name of the trace format. A row says what the name means when the vCPU
 * executes it at vEL2 (for a `vhe` and an `nvhe` guest hypervisor) and at vEL1 (the nested guest,
 * HCR_EL2.TGE=0, NV=0), which CNTHCTL_EL2 fields trap it from EL1, and which VNCR slot key may
 * serve it. The NV2 hardware model uses the same rows: a guest hypervisor runs at real EL1, so a
 * name means there what its `vel1` column says, except that a name UNDEFINED at EL1 is trapped by
 * HCR_EL2.NV, and a name the VNCR layout gives a slot is served from memory.
 *
 * Storage registers (offsets and controls: plain state, not a timer view or a counter) have a row
 * of their own in STORAGE_ROWS with their writable bits as data. Models keep their values in an
 * array indexed by the storage row, so a new storage register is one row here (plus its value
 * class for the generator), not an edit to every model.
 *
 * Sources: the Arm ARM (Arm DDI 0487) for the encodings and fields, the TVAL offsets, the counters,
 * the CNTHCTL_EL2 layouts, the E2H redirection and the NV/NV2 routing.
 */
import { cnthctlField, cnthctlWritable, fieldBit, type CnthctlFieldName } from './cnthctl.js';
import { unreachable } from './errors.js';
import type { OffsetRule } from './offsets.js';
import { TIMER_INDEX, type TimerId } from './timers.js';
import type { Feature, GuestMode, Vocabulary } from './vocabulary.js';

export type { OffsetRule } from './offsets.js';

export type View = 'ctl' | 'cval' | 'tval';
export const VIEWS: readonly View[] = ['ctl', 'cval', 'tval'];

/** What kind of register a row is: a view of a timer, a counter, an offset or a control register. */
export type RegClass = 'timer-view' | 'counter' | 'offset' | 'control';

/**
 * The class of values the generator writes to a register (src/check/generate.ts keys its
 * arbitraries by it): CTL bit patterns, CVAL near the count, TVAL edges, offsets near the count,
 * CNTHCTL_EL2 trap patterns, CNTKCTL_EL1 patterns, HCR_EL2 with and without TGE, or (read-only counters) anything.
 */
export type ValueClass = 'ctl' | 'cval' | 'tval' | 'offset' | 'cnthctl' | 'cntkctl' | 'hcr' | 'counter';

/** The id of a storage register: its own name (CNTVOFF_EL2, CNTHCTL_EL2, ...). */
export type StorageId = string;

/** What a register name designates at one EL, as written in a row. */
export type MeaningSpec =
  | { readonly kind: 'timer'; readonly timer: TimerId; readonly view: View; readonly offset: OffsetRule }
  | { readonly kind: 'storage'; readonly reg: StorageId }
  | { readonly kind: 'counter'; readonly offset: OffsetRule }
  | { readonly kind: 'undefined' };

/** A meaning with its indices resolved (timer index `ti`, storage index `si`) for the models' arrays. */
export type Meaning =
  | { readonly kind: 'timer'; readonly timer: TimerId; readonly ti: number; readonly view: View; readonly offset: OffsetRule }
  | { readonly kind: 'storage'; readonly reg: StorageId; readonly si: number }
  | { readonly kind: 'counter'; readonly offset: OffsetRule }
  | { readonly kind: 'undefined' };
export type DefinedMeaning = Exclude<Meaning, { kind: 'undefined' }>;

/**
 * A CNTHCTL_EL2 field that traps an EL1 access to EL2 when it equals `trapsWhen`. The field's bit
 * in each E2H layout, and the feature it needs, come from the field table (cnthctl.ts).
 * `nv101Only`: the field applies only while HCR_EL2.{NV2,NV1,NV} = {1,0,1} (EL1NVPCT, EL1NVVCT).
 */
export interface TrapRule {
  readonly field: CnthctlFieldName;
  readonly trapsWhen: 0 | 1;
  readonly nv101Only?: boolean;
}

export type Encoding = readonly [op0: number, op1: number, crn: number, crm: number, op2: number];

export interface RegisterRowSpec {
  readonly name: string;
  readonly enc: Encoding;
  readonly class: RegClass;
  /** What the generator writes to it. */
  readonly values: ValueClass;
  /** `ro`: an MSR to it is UNDEFINED. */
  readonly access: 'rw' | 'ro';
  /** The name exists only with this feature of the (virtual or physical) CPU. */
  readonly feature?: Feature;
  readonly vel2: Readonly<Record<GuestMode, MeaningSpec>>;
  /** Meaning at EL1 with NV=0 (the nested guest; also the real-EL1 meaning for the NV2 hardware). */
  readonly vel1: MeaningSpec;
  /** CNTHCTL_EL2 fields that trap the access from EL1, checked in this order, before any VNCR redirect. */
  readonly el1Traps: readonly TrapRule[];
  /** The VNCR layout key whose slot may serve this name, and the HCR_EL2.NV1 value under which it does. */
  readonly slot?: { readonly key: string; readonly nv1: 0 | 1 | 'any' };
  /** For a timer view: the timer family of the name (`CNTP`, `CNTV`, `CNTHP`, `CNTHV`) and whether it is an `_EL02` alias. */
  readonly family?: string;
  readonly alias02?: boolean;
  /** The trace vocabulary that added the name (vocabulary.ts VOCABULARIES). Default 1. */
  readonly since?: Vocabulary;
}

export interface RegisterRow extends Omit<RegisterRowSpec, 'vel2' | 'vel1'> {
  readonly vel2: Readonly<Record<GuestMode, Meaning>>;
  readonly vel1: Meaning;
}

/** A storage register's bits that hold state: the union of the parts whose condition holds. */
export interface WritablePart {
  readonly bits: bigint;
  /** Only for this guest mode (E2H). */
  readonly guest?: GuestMode;
  /** Only with this feature of the virtual CPU. */
  readonly feature?: Feature;
}

export interface StorageRow {
  readonly id: StorageId;
  readonly class: 'offset' | 'control';
  readonly writable: readonly WritablePart[];
  /**
   * RES1 bits where the part's condition holds (HCR_EL2.E2H for a VHE guest): they hold no state the
   * architecture gives meaning to and read as one, but a bit written with zero reads UNKNOWN. Default none.
   */
  readonly res1?: readonly WritablePart[];
}

// ---- trap rules (facts §1.5, §3) ----
const EL1PTEN: TrapRule = { field: 'EL1PTEN', trapsWhen: 0 };
const EL1PCTEN: TrapRule = { field: 'EL1PCTEN', trapsWhen: 0 };
const EL1TVT: TrapRule = { field: 'EL1TVT', trapsWhen: 1 };
const EL1TVCT: TrapRule = { field: 'EL1TVCT', trapsWhen: 1 };
const EL1NVPCT: TrapRule = { field: 'EL1NVPCT', trapsWhen: 1, nv101Only: true };
const EL1NVVCT: TrapRule = { field: 'EL1NVVCT', trapsWhen: 1, nv101Only: true };

const UNDEF: MeaningSpec = { kind: 'undefined' };
const timer = (t: TimerId, view: View, offset: OffsetRule = 'none'): MeaningSpec => ({ kind: 'timer', timer: t, view, offset });
const storage = (reg: StorageId): MeaningSpec => ({ kind: 'storage', reg });
const counter = (offset: OffsetRule): MeaningSpec => ({ kind: 'counter', offset });
const both = (m: MeaningSpec): Record<GuestMode, MeaningSpec> => ({ vhe: m, nvhe: m });

const VIEW_OP2: Readonly<Record<View, number>> = { tval: 0, ctl: 1, cval: 2 };
const VIEW_NAME: Readonly<Record<View, string>> = { ctl: 'CTL', cval: 'CVAL', tval: 'TVAL' };

/** The timer view rows: CNTP/CNTV (EL0 names and EL02 aliases), CNTHP/CNTHV (EL2), for each view. */
function timerRows(): RegisterRowSpec[] {
  const rows: RegisterRowSpec[] = [];
  for (const view of VIEWS) {
    const V = VIEW_NAME[view];
    const op2 = VIEW_OP2[view];
    const tv = { class: 'timer-view', values: view, access: 'rw' } as const;
    // CNTP_<V>_EL0 (3,3,14,2,op2)
    rows.push({
      ...tv, name: `CNTP_${V}_EL0`, enc: [3, 3, 14, 2, op2], family: 'CNTP',
      vel2: { vhe: timer('hptimer', view), nvhe: timer('ptimer', view) },
      vel1: timer('ptimer', view, 'cntpoff'),
      el1Traps: [EL1PTEN],
      slot: { key: `CNTP_${V}_EL0`, nv1: 1 },
    });
    // CNTV_<V>_EL0 (3,3,14,3,op2)
    rows.push({
      ...tv, name: `CNTV_${V}_EL0`, enc: [3, 3, 14, 3, op2], family: 'CNTV',
      vel2: { vhe: timer('hvtimer', view), nvhe: timer('vtimer', view, 'cntvoff') },
      vel1: timer('vtimer', view, 'cntvoff'),
      el1Traps: [EL1TVT],
      slot: { key: `CNTV_${V}_EL0`, nv1: 1 },
    });
    // CNTP_<V>_EL02 (3,5,14,2,op2): EL1 physical timer from a VHE EL2; TVAL_EL02 applies no CNTPOFF.
    rows.push({
      ...tv, name: `CNTP_${V}_EL02`, enc: [3, 5, 14, 2, op2], family: 'CNTP', alias02: true,
      vel2: { vhe: timer('ptimer', view), nvhe: UNDEF },
      vel1: UNDEF,
      el1Traps: view === 'tval' ? [] : [EL1NVPCT],
      slot: { key: `CNTP_${V}_EL0`, nv1: 0 },
    });
    // CNTV_<V>_EL02 (3,5,14,3,op2): TVAL_EL02 always applies CNTVOFF_EL2.
    rows.push({
      ...tv, name: `CNTV_${V}_EL02`, enc: [3, 5, 14, 3, op2], family: 'CNTV', alias02: true,
      vel2: { vhe: timer('vtimer', view, 'cntvoff'), nvhe: UNDEF },
      vel1: UNDEF,
      el1Traps: view === 'tval' ? [] : [EL1NVVCT],
      slot: { key: `CNTV_${V}_EL0`, nv1: 0 },
    });
    // CNTHP_<V>_EL2 (3,4,14,2,op2), CNTHV_<V>_EL2 (3,4,14,3,op2): EL2 timers, no offset.
    // CNTHV_* exist with FEAT_VHE and are accessible at EL2 whatever E2H is (facts §10).
    rows.push({ ...tv, name: `CNTHP_${V}_EL2`, enc: [3, 4, 14, 2, op2], family: 'CNTHP', vel2: both(timer('hptimer', view)), vel1: UNDEF, el1Traps: [] });
    rows.push({ ...tv, name: `CNTHV_${V}_EL2`, enc: [3, 4, 14, 3, op2], family: 'CNTHV', feature: 'vhe', vel2: both(timer('hvtimer', view)), vel1: UNDEF, el1Traps: [] });
  }
  return rows;
}

/** Every register name of the trace format, in the order the generator draws them. */
export const REGISTER_ROWS: readonly RegisterRowSpec[] = [
  ...timerRows(),
  {
    name: 'CNTVOFF_EL2', enc: [3, 4, 14, 0, 3], class: 'offset', values: 'offset', access: 'rw',
    vel2: both(storage('CNTVOFF_EL2')), vel1: UNDEF, el1Traps: [], slot: { key: 'CNTVOFF_EL2', nv1: 'any' },
  },
  {
    name: 'CNTPOFF_EL2', enc: [3, 4, 14, 0, 6], class: 'offset', values: 'offset', access: 'rw', feature: 'ecv-poff',
    vel2: both(storage('CNTPOFF_EL2')), vel1: UNDEF, el1Traps: [], slot: { key: 'CNTPOFF_EL2', nv1: 'any' },
  },
  {
    name: 'CNTHCTL_EL2', enc: [3, 4, 14, 1, 0], class: 'control', values: 'cnthctl', access: 'rw',
    vel2: both(storage('CNTHCTL_EL2')), vel1: UNDEF, el1Traps: [],
  },
  {
    // At EL2 with E2H=1, CNTKCTL_EL1 is redirected to CNTHCTL_EL2 (facts §1.4, §2).
    name: 'CNTKCTL_EL1', enc: [3, 0, 14, 1, 0], class: 'control', values: 'cntkctl', access: 'rw',
    vel2: { vhe: storage('CNTHCTL_EL2'), nvhe: storage('CNTKCTL_EL1') }, vel1: storage('CNTKCTL_EL1'), el1Traps: [],
  },
  {
    name: 'CNTPCT_EL0', enc: [3, 3, 14, 0, 1], class: 'counter', values: 'counter', access: 'ro',
    vel2: both(counter('none')), vel1: counter('cntpoff'), el1Traps: [EL1PCTEN],
  },
  {
    // CNTVOFF_EL2 does not apply at EL2 with E2H=1; it does with E2H=0 and at EL1 (facts §1.4).
    name: 'CNTVCT_EL0', enc: [3, 3, 14, 0, 2], class: 'counter', values: 'counter', access: 'ro',
    vel2: { vhe: counter('none'), nvhe: counter('cntvoff') }, vel1: counter('cntvoff'), el1Traps: [EL1TVCT],
  },
  // ---- added compatibly to nvconform-trace/1 (docs/trace-format.md) ----
  {
    // HCR_EL2 (3,4,1,1,0): the guest hypervisor's own; TGE modelled, E2H fixed by the guest mode, the
    // rest stored. VNCR page offset 0x078; UNDEFINED at EL1 (so under NV it traps).
    since: 2, name: 'HCR_EL2', enc: [3, 4, 1, 1, 0], class: 'control', values: 'hcr', access: 'rw',
    vel2: both(storage('HCR_EL2')), vel1: UNDEF, el1Traps: [], slot: { key: 'HCR_EL2', nv1: 'any' },
  },
  {
    // CNTKCTL_EL12 (3,5,14,1,0): with E2H=1 at EL2 it is CNTKCTL_EL1; UNDEFINED with E2H=0 and at EL1 (facts §10).
    since: 2, name: 'CNTKCTL_EL12', enc: [3, 5, 14, 1, 0], class: 'control', values: 'cntkctl', access: 'rw', feature: 'vhe',
    vel2: { vhe: storage('CNTKCTL_EL1'), nvhe: UNDEF }, vel1: UNDEF, el1Traps: [],
  },
  {
    // The self-synchronised views of the counters (FEAT_ECV), trapped like CNTPCT_EL0 and CNTVCT_EL0.
    since: 2, name: 'CNTPCTSS_EL0', enc: [3, 3, 14, 0, 5], class: 'counter', values: 'counter', access: 'ro', feature: 'ecv',
    vel2: both(counter('none')), vel1: counter('cntpoff'), el1Traps: [EL1PCTEN],
  },
  {
    since: 2, name: 'CNTVCTSS_EL0', enc: [3, 3, 14, 0, 6], class: 'counter', values: 'counter', access: 'ro', feature: 'ecv',
    vel2: { vhe: counter('none'), nvhe: counter('cntvoff') }, vel1: counter('cntvoff'), el1Traps: [EL1TVCT],
  },
];

const ALL = (1n << 64n) - 1n;
/** HCR_EL2.TGE [27] and E2H [34]. */
export const HCR_TGE = 1n << 27n;
export const HCR_E2H = 1n << 34n;

/** The storage registers: state the vCPU keeps, with the bits that hold it. */
export const STORAGE_ROWS: readonly StorageRow[] = [
  { id: 'CNTVOFF_EL2', class: 'offset', writable: [{ bits: ALL }] },
  { id: 'CNTPOFF_EL2', class: 'offset', writable: [{ bits: ALL }] },
  // From the field table: E2H=1 [11:0]; E2H=0 [7:0] ([11:8] RES0); [17:12] with FEAT_ECV; [19:18] need RME: RES0.
  {
    id: 'CNTHCTL_EL2', class: 'control',
    writable: [
      { bits: cnthctlWritable(true, () => false), guest: 'vhe' },
      { bits: cnthctlWritable(false, () => false), guest: 'nvhe' },
      { bits: cnthctlWritable(true, (f) => f === 'ecv') & ~cnthctlWritable(true, () => false), feature: 'ecv' },
      { bits: cnthctlWritable(true, (f) => f === 'ecv-poff') & ~cnthctlWritable(true, () => false), feature: 'ecv-poff' },
    ],
  },
  // [9:0] EL0PTEN..EL0PCTEN; [17] EVNTIS with FEAT_ECV.
  { id: 'CNTKCTL_EL1', class: 'control', writable: [{ bits: 0x3ffn }, { bits: 1n << 17n, feature: 'ecv' }] },
  // HCR_EL2: TGE [27] modelled, E2H [34] fixed by the guest mode, every other bit stored as written.
  { id: 'HCR_EL2', class: 'control', writable: [{ bits: ALL & ~HCR_E2H }], res1: [{ bits: HCR_E2H, guest: 'vhe' }] },
];

/** The storage registers every model relies on by name (indices into a table's storage rows). */
export interface CoreStorage {
  readonly cntvoff: number;
  readonly cntpoff: number;
  readonly cnthctl: number;
  readonly cntkctl: number;
  readonly hcr: number;
}

/** A register table built from rows: lookups and everything the models derive from the rows. */
export interface RegisterTable {
  readonly rows: readonly RegisterRow[];
  readonly byName: ReadonlyMap<string, RegisterRow>;
  readonly names: readonly string[];
  readonly storage: readonly StorageRow[];
  readonly storageIndex: ReadonlyMap<StorageId, number>;
  readonly core: CoreStorage;
  /** Slot keys a layout may use: the EL0 names of the EL1 timer registers, CNTVOFF_EL2, CNTPOFF_EL2. */
  readonly slotKeys: readonly string[];
  /** Every EL1 trap rule (by field), for mirroring a guest hypervisor's CNTHCTL_EL2 into hardware. */
  readonly trapRules: readonly TrapRule[];
}

/**
 * Build a register table from rows. Fails (a programming error, not bad input) on a duplicate
 * name, a meaning naming a storage register without a row, or a missing core storage register.
 */
export function buildRegisterTable(rowSpecs: readonly RegisterRowSpec[], storage: readonly StorageRow[]): RegisterTable {
  const storageIndex = new Map(storage.map((s, i) => [s.id, i]));
  if (storageIndex.size !== storage.length) throw new Error('register table: duplicate storage register');
  const resolve = (m: MeaningSpec, where: string): Meaning => {
    switch (m.kind) {
      case 'timer': return { ...m, ti: TIMER_INDEX[m.timer] };
      case 'storage': {
        const si = storageIndex.get(m.reg);
        if (si === undefined) throw new Error(`register table: ${where} names storage register ${m.reg}, which has no storage row`);
        return { ...m, si };
      }
      case 'counter': case 'undefined': return m;
      default:
        return unreachable(m, 'meaning');
    }
  };
  const rows: RegisterRow[] = rowSpecs.map((r) => ({
    ...r,
    vel2: { vhe: resolve(r.vel2.vhe, `${r.name}.vel2.vhe`), nvhe: resolve(r.vel2.nvhe, `${r.name}.vel2.nvhe`) },
    vel1: resolve(r.vel1, `${r.name}.vel1`),
  }));
  const byName = new Map(rows.map((r) => [r.name, r]));
  if (byName.size !== rows.length) throw new Error('register table: duplicate register name');
  const need = (id: string): number => {
    const i = storageIndex.get(id);
    if (i === undefined) throw new Error(`register table: no storage row for ${id}`);
    return i;
  };
  return {
    rows, byName, names: rows.map((r) => r.name), storage, storageIndex,
    core: { cntvoff: need('CNTVOFF_EL2'), cntpoff: need('CNTPOFF_EL2'), cnthctl: need('CNTHCTL_EL2'), cntkctl: need('CNTKCTL_EL1'), hcr: need('HCR_EL2') },
    slotKeys: [...new Set(rows.flatMap((r) => (r.slot ? [r.slot.key] : [])))],
    trapRules: [...new Map(rows.flatMap((r) => r.el1Traps).map((t) => [t.field, t])).values()],
  };
}

/** The machine's register table. */
export const REGISTER_TABLE: RegisterTable = buildRegisterTable(REGISTER_ROWS, STORAGE_ROWS);
export const REGISTERS: readonly RegisterRow[] = REGISTER_TABLE.rows;
export const REGISTER_BY_NAME: ReadonlyMap<string, RegisterRow> = REGISTER_TABLE.byName;
export const REGISTER_NAMES: readonly string[] = REGISTER_TABLE.names;
export const SLOT_KEYS: readonly string[] = REGISTER_TABLE.slotKeys;

/** The RES1 bits of storage row `s` for this guest mode and feature set. */
export function res1Bits(s: StorageRow, guest: GuestMode, has: (f: Feature) => boolean): bigint {
  let m = 0n;
  for (const p of s.res1 ?? []) if ((!p.guest || p.guest === guest) && (!p.feature || has(p.feature))) m |= p.bits;
  return m;
}

/** The bits of storage row `s` that hold state for this guest mode and feature set. */
export function writableBits(s: StorageRow, guest: GuestMode, has: (f: Feature) => boolean): bigint {
  let m = 0n;
  for (const p of s.writable) if ((!p.guest || p.guest === guest) && (!p.feature || has(p.feature))) m |= p.bits;
  return m;
}

// ---- CTL fields ----

/** Bits of CTL: ENABLE [0], IMASK [1], ISTATUS [2] (read-only); [63:3] RES0. */
export const CTL_ENABLE = 1n;
export const CTL_IMASK = 2n;
export const CTL_ISTATUS = 4n;
export const CTL_WRITABLE = CTL_ENABLE | CTL_IMASK;
export const CTL_RES0 = ~7n & ALL;

/**
 * Does `rule` trap, given a CNTHCTL_EL2 value in the layout of `e2h`, the CPU's features and
 * whether HCR_EL2.{NV2,NV1,NV} = {1,0,1}?
 */
export function trapFires(rule: TrapRule, cnthctl: bigint, e2h: boolean, has: (f: Feature) => boolean, nv101: boolean): boolean {
  const f = cnthctlField(rule.field);
  if (f.feature && !has(f.feature)) return false;
  if (rule.nv101Only && !nv101) return false;
  const b = fieldBit(f, e2h);
  if (b === undefined) return false;
  return Number((cnthctl >> BigInt(b)) & 1n) === rule.trapsWhen;
}

/** The meaning of `row` at `el` for the given guest. */
export function meaningOf(row: RegisterRow, el: 1 | 2, guest: GuestMode): Meaning {
  return el === 2 ? row.vel2[guest] : row.vel1;
}

/** A feature test over a fixed set (the `has` argument of the functions above). */
export const featureTest = (features: readonly Feature[]): ((f: Feature) => boolean) => (f) => features.includes(f);
