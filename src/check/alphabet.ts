/**
 * The exhaustive phase's alphabet, as data (documented in docs/exhaustive.md). A letter is an
 * abstract op whose value is a class relative to the state (CVAL one count before now, TVAL -1,
 * an offset beyond the count, a tick to the next deadline), resolved against the reference where
 * it stands. The alphabet is split into families, one per timer and name family plus the controls
 * and counters every family shares; the exhaustive search explores every trace over each family.
 */
import { MASK64 } from '../../models/arch/bits.js';
import { HCR_E2H, HCR_TGE, REGISTERS, type RegisterRow, type ValueClass } from '../../models/arch/registers.js';
import {
  FEATURES, VOCABULARIES, VOCABULARY, type Feature, type GuestMode, type OpKind, type TraceConfig, type Vocabulary,
} from '../../models/arch/vocabulary.js';
import type { GenOp, ValueSpec } from '../engine/abstract-ops.js';

export interface Letter {
  /** How the docs and reports name it: `msr CNTV_CVAL_EL02 now+1`. */
  readonly name: string;
  /** One op, or (a macro letter) a few ops that guest hypervisors do together, such as arming a timer. */
  readonly ops: readonly GenOp[];
}

export interface Family {
  readonly name: string;
  readonly letters: readonly Letter[];
}

export interface Alphabet {
  /** Its version, named in every exhaustive claim. */
  readonly name: string;
  readonly families: readonly Family[];
}

const abs = (v: bigint): ValueSpec => ({ k: 'abs', v });
const now = (d: bigint): ValueSpec => ({ k: 'now', d });
const byGuest = (vhe: bigint, nvhe: bigint): ValueSpec => ({ k: 'guest', vhe, nvhe });

/** The value classes written to each kind of register, each with its name. */
export const VALUE_CLASSES: Readonly<Record<ValueClass, readonly (readonly [string, ValueSpec])[]>> = {
  // disabled; enabled; enabled and masked; ISTATUS written with ENABLE; a RES0 bit with ENABLE.
  ctl: [['0x0', abs(0n)], ['0x1', abs(1n)], ['0x3', abs(3n)], ['0x5', abs(5n)], ['0x1|1<<40', abs(1n | (1n << 40n))]],
  // one count before, at, one after the timer's count; far in the future; the largest value.
  cval: [['now-1', now(-1n)], ['now', now(0n)], ['now+1', now(1n)], ['now+2^40', now(1n << 40n)], ['2^64-1', abs(MASK64)]],
  // 0, 1, -1, the largest positive, the most negative (bits [63:32] of a write are ignored).
  tval: [['0x0', abs(0n)], ['0x1', abs(1n)], ['0xffffffff', abs(0xffff_ffffn)], ['0x7fffffff', abs(0x7fff_ffffn)], ['0x80000000', abs(0x8000_0000n)]],
  // 0; small; larger than the count (so that count - offset wraps).
  offset: [['0x0', abs(0n)], ['0x10', abs(0x10n)], ['count+0x10', now(0x10n)]],
  // CNTHCTL_EL2 trap patterns, in the layout of the guest's E2H (E2H=1: EL1PCTEN [10], EL1PTEN [11];
  // E2H=0: EL1PCTEN [0], EL1PCEN [1]); ECV [12]; EL1TVT [13] and EL1TVCT [14] with FEAT_ECV.
  cnthctl: [
    ['open', byGuest(0xc00n, 0x3n)], ['physical timer trapped', byGuest(0x400n, 0x1n)], ['physical counter trapped', byGuest(0x800n, 0x2n)],
    ['all trapped', abs(0n)], ['open, ECV', byGuest(0x1c00n, 0x1003n)], ['open, EL1TVT|EL1TVCT', byGuest(0x6c00n, 0x6003n)],
  ],
  // At vEL2 with E2H=1 CNTKCTL_EL1 is CNTHCTL_EL2 (open; with ECV); with E2H=0 the EL0 controls.
  cntkctl: [['open', byGuest(0xc00n, 0x3n)], ['open, ECV', byGuest(0x1c00n, 0x0n)], ['closed', byGuest(0x0n, 0x303n)]],
  // HCR_EL2: the guest hypervisor as its own host (TGE=1), and entering its guest (TGE=0); E2H as the mode has it.
  hcr: [['TGE=1', byGuest(HCR_E2H | HCR_TGE, HCR_TGE)], ['TGE=0', byGuest(HCR_E2H, 0n)]],
  // a write to a counter is UNDEFINED: one letter is enough.
  counter: [['0x0', abs(0n)]],
};

const TIME: readonly Letter[] = [
  { name: 'tick to the next deadline', ops: [{ k: 'tickTo', rel: 0n }] },
  { name: 'tick to one before the next deadline', ops: [{ k: 'tickTo', rel: -1n }] },
  { name: 'tick 0x1', ops: [{ k: 'tick', by: 1n }] },
  { name: 'tick 2^32', ops: [{ k: 'tick', by: 1n << 32n }] },
  { name: 'wfi (limit 0x2)', ops: [{ k: 'wfi', limit: 2n }] },
  { name: 'wfi (limit 2^36)', ops: [{ k: 'wfi', limit: 1n << 36n }] },
  { name: 'wfit (deadline now+0x2)', ops: [{ k: 'wfit', deadline: now(2n) }] },
  { name: 'preempt 0x1', ops: [{ k: 'preempt', by: 1n }] },
  { name: 'eret', ops: [{ k: 'eret' }] },
  { name: 'exit', ops: [{ k: 'exit' }] },
];

/** The registers every family shares: the trap controls of the nested guest and the counters. */
const SHARED = ['CNTHCTL_EL2', 'CNTPCT_EL0', 'CNTVCT_EL0'];

interface FamilySpec {
  readonly name: string;
  readonly family: string;
  /** The `_EL02` aliases (true), the `_EL0` names (false), or whatever the family has. */
  readonly alias02?: boolean;
  /** Registers that change this family's behaviour: its offset, CNTKCTL_EL1 (the E2H alias of CNTHCTL_EL2), HCR_EL2 (TGE), its counter's SS view. */
  readonly with: readonly string[];
}

const FAMILY_SPECS: readonly FamilySpec[] = [
  { name: 'EL1 virtual timer by its _EL02 names', family: 'CNTV', alias02: true, with: ['CNTVOFF_EL2', 'CNTKCTL_EL12'] },
  { name: 'EL1 physical timer by its _EL02 names', family: 'CNTP', alias02: true, with: ['CNTPOFF_EL2', 'CNTKCTL_EL1', 'HCR_EL2'] },
  { name: 'CNTV_*_EL0 names', family: 'CNTV', alias02: false, with: ['CNTVOFF_EL2', 'CNTVCTSS_EL0'] },
  { name: 'CNTP_*_EL0 names', family: 'CNTP', alias02: false, with: ['CNTPOFF_EL2', 'CNTKCTL_EL1', 'HCR_EL2', 'CNTPCTSS_EL0'] },
  { name: 'EL2 virtual timer (CNTHV_*)', family: 'CNTHV', with: [] },
  { name: 'EL2 physical timer (CNTHP_*)', family: 'CNTHP', with: [] },
];

function registerLetters(r: RegisterRow): Letter[] {
  // At vEL1 an _EL02 name is the nested guest's _EL0 name for the same timer view (as the generator does).
  const out: Letter[] = [{ name: `mrs ${r.name}`, ops: [{ k: 'mrs', reg: r.name, alias: true }] }];
  for (const [label, val] of VALUE_CLASSES[r.values]) out.push({ name: `msr ${r.name} ${label}`, ops: [{ k: 'msr', reg: r.name, val, alias: true }] });
  return out;
}

const familyRows = (spec: FamilySpec): RegisterRow[] => REGISTERS.filter((r) =>
  (r.family === spec.family && (spec.alias02 === undefined || !!r.alias02 === spec.alias02)) || spec.with.includes(r.name) || SHARED.includes(r.name));

function family(spec: FamilySpec): Family {
  return { name: spec.name, letters: [...familyRows(spec).flatMap(registerLetters), ...TIME] };
}

/**
 * Macro letters: what a guest hypervisor does in one go, so that deeper behaviour is within a few
 * letters — arming the family's timer (CVAL, then CTL) and polling it (time to the deadline, then
 * a CTL read).
 */
function macros(spec: FamilySpec): Letter[] {
  const rows = familyRows(spec).filter((r) => r.family === spec.family);
  const cval = rows.find((r) => r.values === 'cval'), ctl = rows.find((r) => r.values === 'ctl'), tval = rows.find((r) => r.values === 'tval');
  if (!cval || !ctl) return [];
  const arm = (d: bigint, c: bigint): GenOp[] => [{ k: 'msr', reg: cval.name, val: now(d), alias: true }, { k: 'msr', reg: ctl.name, val: abs(c), alias: true }];
  return [
    { name: `arm ${spec.family} now+1`, ops: arm(1n, 1n) },
    { name: `arm ${spec.family} now`, ops: arm(0n, 1n) },
    { name: `arm ${spec.family} masked now`, ops: arm(0n, 3n) },
    { name: `poll ${spec.family} CTL`, ops: [{ k: 'tickTo', rel: 0n }, { k: 'mrs', reg: ctl.name, alias: true }] },
    ...(tval ? [{ name: `poll ${spec.family} TVAL`, ops: [{ k: 'tickTo', rel: -1n }, { k: 'mrs', reg: tval.name, alias: true }] as GenOp[] }] : []),
  ];
}

/** The alphabet of this version of nvconform: one op per letter, so a depth is a number of ops. */
export const ALPHABET: Alphabet = { name: 'nvconform-alphabet/2', families: FAMILY_SPECS.map(family) };

/** The same with macro letters (arm, poll) added to every family: `layouts --explore` verifies its answers with it. */
export const MACRO_ALPHABET: Alphabet = {
  name: 'nvconform-alphabet/2+macros',
  families: FAMILY_SPECS.map((spec) => ({ name: spec.name, letters: [...family(spec).letters, ...macros(spec)] })),
};

/** The counts the exhaustive search starts from: near 0 and near 2^64 (so that a large tick wraps). */
export const ROOT_COUNTS: readonly bigint[] = [0n, MASK64 - 0xfn];

/**
 * The configs the exhaustive search starts from, within the pinned guest mode and FEAT_ECV: a
 * virtual CPU with FEAT_WFxT, without and with FEAT_ECV (and so FEAT_ECV_POFF), among the features
 * the implementation offers (`offer`, default all).
 */
export function roots(o: { readonly guest?: GuestMode; readonly ecv?: boolean; readonly offer?: readonly Feature[] }): TraceConfig[] {
  const guests: GuestMode[] = o.guest ? [o.guest] : ['vhe', 'nvhe'];
  const offer = o.offer ?? FEATURES;
  const ecvs = (o.ecv === undefined ? [false, true] : [o.ecv]).filter((e) => !e || offer.includes('ecv'));
  const cpu = (ecv: boolean): Pick<TraceConfig, 'features' | 'absent'> => {
    const features: Feature[] = [...(ecv ? ['ecv' as const] : []), ...(offer.includes('wfxt') ? ['wfxt' as const] : [])];
    return ecv && !offer.includes('ecv-poff') ? { features, absent: ['ecv-poff'] } : { features };
  };
  return guests.flatMap((guest) => ecvs.flatMap((e) => ROOT_COUNTS.map((count): TraceConfig => ({ guest, ...cpu(e), count, init: {} }))));
}

/** One line: the alphabet's name, families and letters. */
export function alphabetSummary(a: Alphabet = ALPHABET): string {
  return `${a.name} (${a.families.length} families, ${Math.min(...a.families.map((f) => f.letters.length))}-${Math.max(...a.families.map((f) => f.letters.length))} letters each)`;
}

/** The registers an abstract op touches (its name, and at vEL1 the alias it may take). */
export function opRegisters(g: GenOp): readonly string[] {
  return g.k === 'msr' || g.k === 'mrs' ? [g.reg] : [];
}

/**
 * The alphabet an implementation of trace vocabulary `vocabulary` can be asked, without the letters
 * that touch `exclude` (registers a user has set aside to look past a known divergence). Its name
 * says both, so every claim made over it does.
 */
export function restrictAlphabet(a: Alphabet, o: { readonly exclude?: readonly string[]; readonly vocabulary?: Vocabulary }): Alphabet {
  const exclude = o.exclude ?? [];
  const v = o.vocabulary ?? VOCABULARY;
  if (!exclude.length && v === VOCABULARY) return a;
  const newer = new Set(REGISTERS.filter((r) => (r.since ?? 1) > v).map((r) => r.name));
  const ops = VOCABULARIES[v].ops;
  const keep = (l: Letter): boolean =>
    l.ops.every((g) => ops.includes(genOpKind(g)) && opRegisters(g).every((r) => !exclude.includes(r) && !newer.has(r)));
  const name = `${a.name}${v !== VOCABULARY ? ` in trace vocabulary ${v}` : ''}${exclude.length ? ` without ${[...exclude].sort().join(', ')}` : ''}`;
  return { name, families: a.families.map((f) => ({ name: f.name, letters: f.letters.filter(keep) })) };
}

/** The concrete op kind an abstract op becomes. */
export function genOpKind(g: GenOp): OpKind {
  return g.k === 'tickTo' ? 'tick' : g.k;
}
