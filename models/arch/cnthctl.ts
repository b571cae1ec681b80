/**
 * CNTHCTL_EL2 as data: one row per field, with its bit position in the E2H=1 layout and in the
 * E2H=0 layout (facts §1.5). Trap rules, writable masks and the host's hardware settings are all
 * derived from this table, so no bit position is written anywhere else.
 *
 * With FEAT_VHE and HCR_EL2.E2H=1, EL1PCTEN/EL1PTEN move from [0]/[1] (where E2H=0 calls the
 * second one EL1PCEN) to [10]/[11], and [1:0] and [9:8] become the EL0 controls.
 */
import type { Feature } from './vocabulary.js';

export interface CnthctlField {
  readonly name: CnthctlFieldName;
  /** Its name in the E2H=0 layout, where it differs. */
  readonly e2h0Name?: string;
  /** Lowest bit in the E2H=1 layout; undefined: not in that layout. */
  readonly e2h1?: number;
  /** Lowest bit in the E2H=0 layout; undefined: RES0 there. */
  readonly e2h0?: number;
  /** Width in bits. Default 1. */
  readonly width?: number;
  /** The field exists only with this feature of the CPU. */
  readonly feature?: Feature;
}

export type CnthctlFieldName =
  | 'EL0PCTEN' | 'EL0VCTEN' | 'EVNTEN' | 'EVNTDIR' | 'EVNTI' | 'EL0VTEN' | 'EL0PTEN' | 'EL1PCTEN' | 'EL1PTEN'
  | 'ECV' | 'EL1TVT' | 'EL1TVCT' | 'EL1NVPCT' | 'EL1NVVCT' | 'EVNTIS';

export const CNTHCTL_FIELDS: readonly CnthctlField[] = [
  { name: 'EL0PCTEN', e2h1: 0 },
  { name: 'EL0VCTEN', e2h1: 1 },
  { name: 'EVNTEN', e2h1: 2, e2h0: 2 },
  { name: 'EVNTDIR', e2h1: 3, e2h0: 3 },
  { name: 'EVNTI', e2h1: 4, e2h0: 4, width: 4 },
  { name: 'EL0VTEN', e2h1: 8 },
  { name: 'EL0PTEN', e2h1: 9 },
  { name: 'EL1PCTEN', e2h1: 10, e2h0: 0 },
  { name: 'EL1PTEN', e2h0Name: 'EL1PCEN', e2h1: 11, e2h0: 1 },
  { name: 'ECV', e2h1: 12, e2h0: 12, feature: 'ecv-poff' },
  { name: 'EL1TVT', e2h1: 13, e2h0: 13, feature: 'ecv' },
  { name: 'EL1TVCT', e2h1: 14, e2h0: 14, feature: 'ecv' },
  { name: 'EL1NVPCT', e2h1: 15, e2h0: 15, feature: 'ecv' },
  { name: 'EL1NVVCT', e2h1: 16, e2h0: 16, feature: 'ecv' },
  { name: 'EVNTIS', e2h1: 17, e2h0: 17, feature: 'ecv' },
];

const BY_NAME: ReadonlyMap<CnthctlFieldName, CnthctlField> = new Map(CNTHCTL_FIELDS.map((f) => [f.name, f]));

export function cnthctlField(name: CnthctlFieldName): CnthctlField {
  return BY_NAME.get(name)!;
}

/** The field's lowest bit in the layout of `e2h`, or undefined where the layout has no such field. */
export function fieldBit(f: CnthctlField, e2h: boolean): number | undefined {
  return e2h ? f.e2h1 : f.e2h0;
}

/** The field's bits as a mask in the layout of `e2h` (0n where the layout has no such field). */
export function fieldMask(f: CnthctlField, e2h: boolean): bigint {
  const b = fieldBit(f, e2h);
  return b === undefined ? 0n : ((1n << BigInt(f.width ?? 1)) - 1n) << BigInt(b);
}

/** The field's name as the Arm ARM writes it, both layouts' names where they differ ("EL1PTEN/EL1PCEN"). */
export function fieldLabel(f: CnthctlField): string {
  return f.e2h0Name && f.e2h0Name !== f.name ? `${f.name}/${f.e2h0Name}` : f.name;
}

/** Bits of CNTHCTL_EL2 that hold state in the layout of `e2h` on a CPU with `has(feature)`. */
export function cnthctlWritable(e2h: boolean, has: (f: Feature) => boolean): bigint {
  let m = 0n;
  for (const f of CNTHCTL_FIELDS) if (!f.feature || has(f.feature)) m |= fieldMask(f, e2h);
  return m;
}

/** The single bit of a one-bit field in the E2H=1 layout (the layout of the host's hardware register). */
export function e2h1Bit(name: CnthctlFieldName): bigint {
  return fieldMask(cnthctlField(name), true);
}
