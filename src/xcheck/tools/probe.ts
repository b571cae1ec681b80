/**
 * The full NV2 routing probe in QEMU, compared with models/nv2/routing.ts (a tool: it uses the
 * project's routing model and the architected layout; the driver itself does not).
 *
 *   node dist/src/xcheck/tools/probe.js [--json FILE] [--host-e2h0] [--nv-only]
 *
 * Cells: every register name × read/write × NV1 0/1 × the trap settings of PROBE_TRAP_SETS ×
 * SCR_EL3.ECVEn 0/1, with the host at E2H=1 (and, with --host-e2h0, also at E2H=0 with the trap
 * bits converted to that layout). routing.ts is asked twice: with physEcv = true (QEMU's cpu max
 * always implements FEAT_ECV) and with physEcv = ECVEn (ECVEn=0 as the nearest QEMU gets to "ECV
 * not usable"); the tool also lists every cell whose QEMU outcome changes with ECVEn. With
 * --nv-only the same cells are also run with HCR_EL2.NV2 = 0 (FEAT_NV alone: no VNCR page).
 */
import { writeFileSync } from 'node:fs';
import { loadLayout } from '../../../models/layouts/load.js';
import { route, type Route } from '../../../models/nv2/routing.js';
import { REGISTER_BY_NAME } from '../../../models/arch/registers.js';
import type { HostFeature } from '../../../models/arch/implementation.js';
import { PROBE_TRAP_SETS, standardProbeCells } from '../probe-cells.js';
import { EXTRA_ENCODINGS } from '../registers.js';
import { findQemu, probeRouting, type ProbeResult } from '../qemu.js';
import type { ProbeOutcome } from '../format.js';

const hex = (v: bigint | number): string => '0x' + v.toString(16);
const TRAP_NAME = new Map(Object.entries(PROBE_TRAP_SETS).map(([k, v]) => [v, k]));

export function outcomeText(o: ProbeOutcome): string {
  switch (o.kind) {
    case 'vncr': return `vncr ${hex(o.offset)}`;
    case 'trap': return `trap EC ${hex(o.ec)} to EL${o.el}`;
    case 'undefined': return `undefined (EC 0 at EL${o.el})`;
    case 'hw': return 'hw';
  }
}

export function routeText(r: Route): string {
  switch (r.kind) {
    case 'vncr': return `vncr ${hex(r.offset)}`;
    case 'trap': return 'trap EC 0x18 to EL2';
    case 'undefined': return 'undefined (EC 0 at EL1)';
    case 'hw': return 'hw';
  }
}

/** Same routing class: vncr with the same offset, trap (to EL2, EC 0x18), undefined, hw. */
function agrees(q: ProbeOutcome, m: Route): boolean {
  if (q.kind === 'vncr') return m.kind === 'vncr' && m.offset === q.offset;
  if (q.kind === 'trap') return m.kind === 'trap' && q.ec === 0x18 && q.el === 2;
  return q.kind === m.kind;
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : undefined;
  const f = findQemu();
  if (!f.ok) {
    console.error(`probe: ${f.reason}`);
    return 2;
  }
  const base = [...standardProbeCells({ hostE2h: true }), ...(argv.includes('--host-e2h0') ? standardProbeCells({ hostE2h: false }) : [])];
  const cells = [...base, ...(argv.includes('--nv-only') ? base.map((c) => ({ ...c, nv2: false })) : [])];
  const t0 = performance.now();
  const results = await probeRouting(cells);
  const ms = performance.now() - t0;
  const layout = loadLayout('architected');
  // QEMU's cpu max implements FEAT_ECV; the ECV-off column asks what a CPU without it would do.
  const ECV_CPU: HostFeature[] = ['ecv', 'ecv-poff', 'wfxt', 'vhe'], NO_ECV_CPU: HostFeature[] = ['wfxt', 'vhe'];
  const rows = results.map((r: ProbeResult) => {
    const c = r.cell;
    const row = REGISTER_BY_NAME.get(c.reg)!;
    const nv2 = c.nv2 ?? true;
    const m = route(row, c.write, { nv: true, nv2, nv1: c.nv1, cnthctl: c.cnthctl, phys: ECV_CPU, layout });
    const mE = route(row, c.write, { nv: true, nv2, nv1: c.nv1, cnthctl: c.cnthctl, phys: c.ecvEn ? ECV_CPU : NO_ECV_CPU, layout });
    return {
      reg: c.reg, access: c.write ? 'write' : 'read', nv1: c.nv1, traps: TRAP_NAME.get(c.cnthctl) ?? hex(c.cnthctl), cnthctl: hex(c.cnthctl),
      ecvEn: c.ecvEn, hostE2h: c.hostE2h ?? true, nv2: c.nv2 ?? true, qemu: outcomeText(r.outcome), ...(r.esr !== undefined ? { esr: hex(r.esr) } : {}),
      ...(r.outcome.kind === 'hw' && r.outcome.value !== undefined ? { value: hex(r.outcome.value) } : {}),
      routing: routeText(m), agree: agrees(r.outcome, m),
      routingEcvEn: routeText(mE), agreeEcvEn: agrees(r.outcome, mE),
    };
  });
  const bad = rows.filter((r) => !r.agree);
  console.log(`probe: ${rows.length} cells in ${ms.toFixed(0)} ms (${(rows.length / (ms / 1000)).toFixed(0)} cells/s), QEMU ${f.qemu!.version}`);
  console.log(`  agree with models/nv2/routing.ts (architected layout, physEcv=true): ${rows.length - bad.length}, differ: ${bad.length}`);
  const badE = rows.filter((r) => !r.agreeEcvEn);
  console.log(`  agree with routing.ts when physEcv = SCR_EL3.ECVEn: ${rows.length - badE.length}, differ: ${badE.length} (all ECVEn=0: ${badE.every((r) => !r.ecvEn)})`);
  const key = (r: (typeof rows)[number]): string => `${r.reg}|${r.access}|${r.nv1}|${r.traps}|${r.hostE2h}|${r.nv2}`;
  const on = new Map(rows.filter((r) => r.ecvEn).map((r) => [key(r), r]));
  const flips = rows.filter((r) => !r.ecvEn && on.get(key(r))?.qemu !== r.qemu);
  console.log(`  cells whose QEMU routing changes with SCR_EL3.ECVEn: ${flips.length}`);
  for (const r of flips.slice(0, 20)) console.log(`    ${r.reg} ${r.access} NV1=${r.nv1} ${r.traps}: ECVEn=0 ${r.qemu}, ECVEn=1 ${on.get(key(r))?.qemu}`);
  // Group the differences by register, access, NV1, QEMU outcome and model outcome; list the trap/ECVEn settings.
  const groups = new Map<string, string[]>();
  for (const r of bad) {
    const k = `${r.reg} ${r.access} NV1=${r.nv1}${r.nv2 ? '' : ' NV2=0'}${r.hostE2h ? '' : ' host E2H=0'}: QEMU ${r.qemu}, routing.ts ${r.routing}`;
    groups.set(k, [...(groups.get(k) ?? []), `${r.traps}${r.ecvEn ? '+ECVEn' : ''}`]);
  }
  for (const [k, v] of groups) console.log(`  ${k}  [${v.join(' ')}]`);
  if (json) writeFileSync(json, JSON.stringify(rows, null, 1) + '\n');
  // Names outside the trace format (no routing.ts row): what QEMU does with them, traps open.
  const extra = await probeRouting([...EXTRA_ENCODINGS.keys()].flatMap((reg) => [false, true].flatMap((write) => [0, 1].map((nv1) => ({
    reg, write, nv1: nv1 as 0 | 1, cnthctl: PROBE_TRAP_SETS.none!, ecvEn: true,
  })))));
  console.log('  names outside the trace format (EL1PCTEN/EL1PTEN set, ECVEn=1):');
  for (const r of extra) console.log(`    ${r.cell.reg.padEnd(14)} ${r.cell.write ? 'write' : 'read '} NV1=${r.cell.nv1}: ${outcomeText(r.outcome)}${r.esr !== undefined ? ` (ESR ${hex(r.esr)})` : ''}`);
  return 0;
}

main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e: unknown) => {
  console.error(`probe: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
});
