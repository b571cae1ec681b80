/**
 * The architected contents of the VNCR page: which system register FEAT_NV2 keeps at which byte
 * offset from VNCR_EL2.BADDR. Layout files are checked against this table so that a layout does not
 * put a timer register on a slot the architecture gives to some other register (unless the file
 * says `"allowArchitectedOffsets": true`).
 *
 * Sources (facts only, restated in this module's own format):
 * - The register -> offset assignments of the Linux header arch/arm64/include/asm/vncr_mapping.h
 *   (torvalds/linux, looked up for this table), which lists the offsets as byte displacements.
 * - CNTPOFF_EL2 at 0x1A8: the Arm ARM access pseudocode (NVMem[0x1A8]) and QEMU's
 *   `nv2_redirect_offset` for CNTPOFF_EL2. The Linux
 *   header has no entry for it.
 *
 * An offset missing from this table is "not assigned as far as nvconform knows"; it is not a claim
 * that the architecture leaves it unused (some gaps, e.g. after the translation table base
 * registers, may hold the upper halves of 128-bit registers).
 */

/** One architected slot: a register name and its byte offset in the VNCR page. */
export interface VncrSlot {
  readonly reg: string;
  readonly offset: number;
}

/** `count` numbered registers `${prefix}${i}${suffix}` on consecutive 8-byte slots from `base`. */
function numbered(prefix: string, suffix: string, base: number, count: number): Array<[number, string]> {
  return Array.from({ length: count }, (_, i): [number, string] => [base + 8 * i, `${prefix}${i}${suffix}`]);
}

/** [offset, register] pairs, grouped by what they are; the order does not matter. */
const PAIRS: ReadonlyArray<readonly [number, string]> = [
  // Generic timer (the registers nvconform models).
  [0x060, 'CNTVOFF_EL2'],
  [0x168, 'CNTV_CVAL_EL0'],
  [0x170, 'CNTV_CTL_EL0'],
  [0x178, 'CNTP_CVAL_EL0'],
  [0x180, 'CNTP_CTL_EL0'],
  [0x1a8, 'CNTPOFF_EL2'], // Arm ARM / QEMU; not in the Linux header.

  // EL2 virtualization controls.
  [0x020, 'VTTBR_EL2'],
  [0x040, 'VTCR_EL2'],
  [0x050, 'VMPIDR_EL2'],
  [0x078, 'HCR_EL2'],
  [0x080, 'HSTR_EL2'],
  [0x088, 'VPIDR_EL2'],
  [0x090, 'TPIDR_EL2'],
  [0x0a0, 'HCRX_EL2'],
  [0x0b0, 'VNCR_EL2'],

  // EL1 context.
  [0x100, 'CPACR_EL1'],
  [0x108, 'CONTEXTIDR_EL1'],
  [0x110, 'SCTLR_EL1'],
  [0x118, 'ACTLR_EL1'],
  [0x120, 'TCR_EL1'],
  [0x128, 'AFSR0_EL1'],
  [0x130, 'AFSR1_EL1'],
  [0x138, 'ESR_EL1'],
  [0x140, 'MAIR_EL1'],
  [0x148, 'AMAIR_EL1'],
  [0x158, 'MDSCR_EL1'],
  [0x160, 'SPSR_EL1'],
  [0x188, 'SCXTNUM_EL1'],
  [0x190, 'TFSR_EL1'],
  [0x1e0, 'ZCR_EL1'],
  [0x200, 'TTBR0_EL1'],
  [0x210, 'TTBR1_EL1'],
  [0x220, 'FAR_EL1'],
  [0x230, 'ELR_EL1'],
  [0x240, 'SP_EL1'],
  [0x250, 'VBAR_EL1'],
  [0x270, 'TCR2_EL1'],
  [0x290, 'PIRE0_EL1'],
  [0x2a0, 'PIR_EL1'],
  [0x2a8, 'POR_EL1'],

  // Fine-grained trap controls.
  [0x1a0, 'HDFGRTR2_EL2'],
  [0x1b0, 'HDFGWTR2_EL2'],
  [0x1b8, 'HFGRTR_EL2'],
  [0x1c0, 'HFGWTR_EL2'],
  [0x1c8, 'HFGITR_EL2'],
  [0x1d0, 'HDFGRTR_EL2'],
  [0x1d8, 'HDFGWTR_EL2'],
  [0x1e8, 'HAFGRTR_EL2'],
  [0x2c0, 'HFGRTR2_EL2'],
  [0x2c8, 'HFGWTR2_EL2'],
  [0x310, 'HFGITR2_EL2'],

  // GIC virtual CPU interface.
  ...numbered('ICH_LR', '_EL2', 0x400, 16),
  ...numbered('ICH_AP0R', '_EL2', 0x480, 4),
  ...numbered('ICH_AP1R', '_EL2', 0x4a0, 4),
  [0x4c0, 'ICH_HCR_EL2'],
  [0x4c8, 'ICH_VMCR_EL2'],

  // RAS.
  [0x500, 'VDISR_EL2'],
  [0x508, 'VSESR_EL2'],

  // Statistical profiling and trace.
  [0x800, 'PMBLIMITR_EL1'],
  [0x810, 'PMBPTR_EL1'],
  [0x820, 'PMBSR_EL1'],
  [0x828, 'PMSCR_EL1'],
  [0x830, 'PMSEVFR_EL1'],
  [0x838, 'PMSICR_EL1'],
  [0x840, 'PMSIRR_EL1'],
  [0x848, 'PMSLATFR_EL1'],
  [0x880, 'TRFCR_EL1'],

  // MPAM.
  [0x900, 'MPAM1_EL1'],
  [0x930, 'MPAMHCR_EL2'],
  [0x938, 'MPAMVPMV_EL2'],
  ...numbered('MPAMVPM', '_EL2', 0x940, 8),
];

/** The architected VNCR slots, sorted by offset. */
export const VNCR_OFFSETS: readonly VncrSlot[] = PAIRS.map(([offset, reg]) => ({ reg, offset })).sort((a, b) => a.offset - b.offset);

const BY_OFFSET: ReadonlyMap<number, string> = new Map(VNCR_OFFSETS.map((s) => [s.offset, s.reg]));
const BY_REG: ReadonlyMap<string, number> = new Map(VNCR_OFFSETS.map((s) => [s.reg, s.offset]));

if (BY_OFFSET.size !== VNCR_OFFSETS.length || BY_REG.size !== VNCR_OFFSETS.length) {
  throw new Error('nvconform: models/vncr-offsets.ts: the table has a duplicate offset or register');
}

/** The register the architecture keeps at `offset` in the VNCR page, if any. */
export function architectedRegisterAt(offset: number): string | undefined {
  return BY_OFFSET.get(offset);
}

/** The architected VNCR offset of `reg`, if it has one. */
export function architectedOffsetOf(reg: string): number | undefined {
  return BY_REG.get(reg);
}
