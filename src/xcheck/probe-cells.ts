/**
 * The routing probe's standard cells: every register name × read/write × NV1 0/1 × a set of
 * hardware CNTHCTL_EL2 trap settings (E2H=1 layout) × SCR_EL3.ECVEn 0/1.
 */
import type { ProbeCellInput } from './format.js';
import { TRACE_ENCODINGS } from './registers.js';

const EL1PCTEN = 1n << 10n, EL1PTEN = 1n << 11n, EL1TVT = 1n << 13n, EL1TVCT = 1n << 14n, EL1NVPCT = 1n << 15n, EL1NVVCT = 1n << 16n;
/** "Nothing trapped" in the E2H=1 layout: EL1PCTEN and EL1PTEN set (they trap when 0). */
const OPEN = EL1PCTEN | EL1PTEN;

/**
 * Trap settings: all traps off; each trap bit on by itself (for EL1PCTEN/EL1PTEN, which trap
 * when 0: each cleared by itself); everything trapping; and KVM's two ECV settings (VHE guest:
 * EL1NVPCT|EL1NVVCT; non-VHE guest: EL1TVT with EL1PTEN cleared).
 */
export const PROBE_TRAP_SETS: Readonly<Record<string, bigint>> = {
  'none': OPEN,
  'EL1PCTEN=0': EL1PTEN,
  'EL1PTEN=0': EL1PCTEN,
  'EL1TVT': OPEN | EL1TVT,
  'EL1TVCT': OPEN | EL1TVCT,
  'EL1NVPCT': OPEN | EL1NVPCT,
  'EL1NVVCT': OPEN | EL1NVVCT,
  'all': EL1TVT | EL1TVCT | EL1NVPCT | EL1NVVCT,
  'kvm-vhe-ecv': OPEN | EL1NVPCT | EL1NVVCT,
  'kvm-nvhe-ecv': EL1PCTEN | EL1TVT,
};

export function standardProbeCells(options: { readonly hostE2h?: boolean; readonly names?: readonly string[] } = {}): ProbeCellInput[] {
  const cells: ProbeCellInput[] = [];
  for (const reg of options.names ?? [...TRACE_ENCODINGS.keys()]) {
    for (const write of [false, true]) {
      for (const nv1 of [0, 1] as const) {
        for (const cnthctl of Object.values(PROBE_TRAP_SETS)) {
          for (const ecvEn of [false, true]) cells.push({ reg, write, nv1, cnthctl, ecvEn, hostE2h: options.hostE2h ?? true });
        }
      }
    }
  }
  return cells;
}
