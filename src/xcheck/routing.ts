/**
 * `nvconform xcheck routing`: the FEAT_NV2 routing of every timer register name, as QEMU's NV2
 * does it at real EL1 (HCR_EL2.{NV, NV1, NV2} set, VNCR_EL2 pointing at a page observed from EL2,
 * traps caught in the EL2 vector with ESR_EL2), next to models/nv2/routing.ts with the architected
 * layout: one row per cell of register × read/write × NV1 × hardware trap setting × SCR_EL3.ECVEn
 * × host E2H.
 *
 * routing.ts is asked for a physical CPU with FEAT_ECV, which QEMU's `-cpu max` is. SCR_EL3.ECVEn
 * gates neither the CNTHCTL_EL2 trap bits nor the NVMem[0x1A8] access of CNTPOFF_EL2 in the Arm
 * ARM's accessors (they test the feature), so an ECVEn = 0 cell is the same question; the table
 * also marks the ECVEn = 0 cells where a CPU *without* FEAT_ECV (routing.ts asked about QEMU_MAX_CPU_WITHOUT_ECV)
 * would route differently: that CPU cannot be run in QEMU (a modelling choice, see
 * docs/qemu-crosscheck.md).
 */
import { REGISTER_BY_NAME } from '../../models/arch/registers.js';
import { loadLayout } from '../../models/layouts/load.js';
import type { HostFeature } from '../../models/arch/implementation.js';
import { route, type Route } from '../../models/nv2/routing.js';
import type { ProbeCellInput, ProbeOutcome } from './format.js';
import { PROBE_TRAP_SETS, standardProbeCells } from './probe-cells.js';
import { probeRouting, type QemuRunOptions } from './qemu.js';

export interface RoutingRow {
  readonly cell: ProbeCellInput;
  /** The name of the cell's trap setting (PROBE_TRAP_SETS). */
  readonly traps: string;
  readonly qemu: ProbeOutcome;
  /** routing.ts for a physical CPU with FEAT_ECV. */
  readonly model: Route;
  readonly agree: boolean;
  /** For an ECVEn = 0 cell: routing.ts for a CPU without FEAT_ECV, when that differs from `model`. */
  readonly withoutEcv?: Route;
}

export interface RoutingResult {
  readonly rows: readonly RoutingRow[];
  /** Cell pairs differing only in SCR_EL3.ECVEn, and how many of them QEMU routes alike. */
  readonly ecvEnPairs: number;
  readonly ecvEnSame: number;
  readonly ms: number;
}

/**
 * The physical CPU routing.ts is asked about: QEMU 10's `-cpu max` (FEAT_ECV with CNTPOFF, FEAT_VHE,
 * FEAT_WFxT; no FEAT_NV2p1), and the same CPU without FEAT_ECV for the ECVEn = 0 comparison.
 */
export const QEMU_MAX_CPU: readonly HostFeature[] = ['ecv', 'ecv-poff', 'wfxt', 'vhe'];
export const QEMU_MAX_CPU_WITHOUT_ECV: readonly HostFeature[] = ['wfxt', 'vhe'];

const TRAP_NAME = new Map(Object.entries(PROBE_TRAP_SETS).map(([k, v]) => [v, k]));

/** QEMU's outcome and routing.ts's route are the same: the same slot, a trap to EL2 (EC 0x18), UNDEFINED, or the hardware register. */
export function sameRoute(q: ProbeOutcome, m: Route): boolean {
  switch (q.kind) {
    case 'vncr': return m.kind === 'vncr' && m.offset === q.offset;
    case 'trap': return m.kind === 'trap' && q.ec === 0x18 && q.el === 2;
    case 'undefined': return m.kind === 'undefined';
    case 'hw': return m.kind === 'hw';
  }
}

/** routing.ts's answer for a probe cell (the architected layout; FEAT_NV2 unless the cell says NV alone). */
export function modelRoute(c: ProbeCellInput, physEcv: boolean): Route {
  const row = REGISTER_BY_NAME.get(c.reg);
  if (!row) throw new Error(`no register row for '${c.reg}'`);
  return route(row, c.write, { nv: true, nv2: c.nv2 ?? true, nv1: c.nv1, cnthctl: c.cnthctl, phys: physEcv ? QEMU_MAX_CPU : QEMU_MAX_CPU_WITHOUT_ECV, layout: loadLayout('architected') });
}

export function routingRows(cells: readonly ProbeCellInput[], outcomes: readonly ProbeOutcome[]): RoutingRow[] {
  return cells.map((cell, i) => {
    const qemu = outcomes[i]!;
    const model = modelRoute(cell, true);
    const noEcv = cell.ecvEn ? undefined : modelRoute(cell, false);
    const differs = noEcv && routeKey(noEcv) !== routeKey(model);
    return {
      cell, traps: TRAP_NAME.get(cell.cnthctl) ?? `0x${cell.cnthctl.toString(16)}`, qemu, model, agree: sameRoute(qemu, model),
      ...(differs ? { withoutEcv: noEcv } : {}),
    };
  });
}

/**
 * Every standard cell, with the host at E2H = 1 and at E2H = 0 (trap bits converted to its
 * layout); with `nvOnly`, each also with HCR_EL2.NV2 = 0 (FEAT_NV alone: no page).
 */
export async function routingTable(o: Pick<QemuRunOptions, 'qemu' | 'image'> & { readonly nvOnly?: boolean } = {}): Promise<RoutingResult> {
  const t0 = performance.now();
  const nv2 = [...standardProbeCells({ hostE2h: true }), ...standardProbeCells({ hostE2h: false })];
  const cells = o.nvOnly ? [...nv2, ...nv2.map((c) => ({ ...c, nv2: false }))] : nv2;
  const results = await probeRouting(cells, { ...(o.qemu ? { qemu: o.qemu } : {}), ...(o.image ? { image: o.image } : {}) });
  const rows = routingRows(cells, results.map((r) => r.outcome));
  const key = (c: ProbeCellInput): string => `${c.reg}|${c.write}|${c.nv1}|${c.cnthctl}|${c.hostE2h ?? true}|${c.nv2 ?? true}`;
  const on = new Map(rows.filter((r) => r.cell.ecvEn).map((r) => [key(r.cell), r]));
  const off = rows.filter((r) => !r.cell.ecvEn);
  const same = off.filter((r) => {
    const p = on.get(key(r.cell));
    return p !== undefined && outcomeKey(p.qemu) === outcomeKey(r.qemu);
  }).length;
  return { rows, ecvEnPairs: off.length, ecvEnSame: same, ms: performance.now() - t0 };
}

/** An outcome without its values: where the access went. */
export function outcomeKey(q: ProbeOutcome): string {
  switch (q.kind) {
    case 'vncr': return `vncr 0x${q.offset.toString(16)}`;
    case 'trap': return `trap EC 0x${q.ec.toString(16)} to EL${q.el}`;
    case 'undefined': return `undefined at EL${q.el}`;
    case 'hw': return 'hw';
  }
}

/** routing.ts's route in the same words. */
export function routeKey(m: Route): string {
  switch (m.kind) {
    case 'vncr': return `vncr 0x${m.offset.toString(16)}`;
    case 'trap': return 'trap EC 0x18 to EL2';
    case 'undefined': return 'undefined at EL1';
    case 'hw': return 'hw';
  }
}
