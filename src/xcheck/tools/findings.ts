/**
 * Re-runs each QEMU-vs-architecture surprise recorded in xcheck/NOTES.md and prints, op by op,
 * the reference's observation next to QEMU's (a tool; uses the project's reference model).
 *
 *   node dist/src/xcheck/tools/findings.js
 *
 * Each case runs twice: once to learn the real counts, then with count-relative values
 * resolved against them (QEMU is deterministic under -icount, so the counts repeat).
 */
import { ReferenceModel } from '../../../models/reference/reference.js';
import type { Op, Trace, TraceConfig } from '../../../models/arch/vocabulary.js';
import { findQemu, runTracesInQemu, type QemuTraceResult } from '../qemu.js';
import { collapseObservations, disagreement, qemuObservations, rebuildTrace } from '../rebuild.js';

const M = (1n << 64n) - 1n;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const hex = (v: bigint | undefined): string => (v === undefined ? '-' : '0x' + v.toString(16));

interface Case {
  readonly title: string;
  readonly el3?: boolean;
  /** The trace, given the first run's result (undefined on the first run). */
  readonly make: (first: QemuTraceResult | undefined) => Trace;
}

const t = (config: Partial<TraceConfig>, ops: Op[]): Trace => ({ config: { guest: 'vhe', features: [], count: 0n, init: {}, ...config }, ops });
const msr = (reg: string, value: bigint): Op => ({ op: 'msr', reg, value });
const mrs = (reg: string): Op => ({ op: 'mrs', reg });
const tick = (by: bigint): Op => ({ op: 'tick', by });

const BIG_OFF = M - 0xfffffn; // an offset larger than the count

export const CASES: readonly Case[] = [
  {
    title: 'EL1 virtual timer never fires when CNTVOFF_EL2 > count and CVAL + CNTVOFF_EL2 overflows 2^64 (vhe; CVAL = count - CNTVOFF + 100)',
    make: (r) => t({ init: { CNTVOFF_EL2: BIG_OFF } }, [
      msr('CNTV_CTL_EL02', 1n), msr('CNTV_CVAL_EL02', r ? u64(r.ops[1]!.countAtAccess - BIG_OFF + 100n) : 0n),
      tick(2000n), mrs('CNTV_CTL_EL02'), mrs('CNTV_TVAL_EL02'),
    ]),
  },
  {
    title: '... so a wfi waiting for that timer sleeps until its limit (reference: wakes when count - CNTVOFF reaches CVAL)',
    make: (r) => t({ init: { CNTVOFF_EL2: BIG_OFF } }, [
      msr('CNTV_CTL_EL02', 1n), msr('CNTV_CVAL_EL02', r ? u64(r.ops[1]!.countAtAccess - BIG_OFF + 1000n) : 0n),
      { op: 'wfi', limit: 0x100000n }, mrs('CNTV_CTL_EL02'),
    ]),
  },
  {
    title: 'same for the EL1 physical timer with FEAT_ECV, CNTHCTL_EL2.ECV = 1 and CNTPOFF_EL2 > count (nvhe)',
    make: (r) => t({ guest: 'nvhe', features: ['ecv'], init: { CNTHCTL_EL2: 0x1003n, CNTPOFF_EL2: BIG_OFF } }, [
      msr('CNTP_CTL_EL0', 1n), msr('CNTP_CVAL_EL0', r ? u64(r.ops[1]!.countAtAccess - BIG_OFF + 100n) : 0n),
      tick(2000n), mrs('CNTP_CTL_EL0'), mrs('CNTP_TVAL_EL0'),
    ]),
  },
  {
    title: 'flipping CNTHCTL_EL2.ECV (through CNTKCTL_EL1 at vEL2, vhe) does not re-evaluate the EL1 physical timer',
    make: (r) => t({ features: ['ecv'], init: { CNTHCTL_EL2: 0xc00n, CNTPOFF_EL2: 0x10000n } }, [
      tick(0x20000n), msr('CNTP_CVAL_EL02', r ? r.ops[1]!.countAtAccess - 0x8000n : 0n), msr('CNTP_CTL_EL02', 1n), mrs('CNTP_CTL_EL02'),
      msr('CNTKCTL_EL1', 0x1c00n), mrs('CNTP_CTL_EL02'), { op: 'eret' }, mrs('CNTP_CTL_EL0'), { op: 'exit' },
      msr('CNTKCTL_EL1', 0xc00n), mrs('CNTP_CTL_EL02'),
    ]),
  },
  {
    title: 'ISTATUS lags the counter by one count: a CTL read executing at count == CVAL reads ISTATUS = 0 (op 2 puts CVAL at the count of its own hptimer sample, op 3 at the count of the CTL read of op 4)',
    make: (r) => t({}, [
      msr('CNTHP_CVAL_EL2', 0xffffffffffffn), msr('CNTHP_CTL_EL2', 1n), msr('CNTHP_CVAL_EL2', r ? r.ops[2]!.lines[0]!.count : 0n),
      msr('CNTHP_CVAL_EL2', r ? r.ops[4]!.countAtAccess : 0n), mrs('CNTHP_CTL_EL2'), mrs('CNTHP_CTL_EL2'),
    ]),
  },
  {
    title: 'without EL3 (no secure=on) CNTPOFF_EL2 never applies at EL1, though the Arm ARM applies it when EL3 is not implemented',
    el3: false,
    make: () => t({ guest: 'nvhe', features: ['ecv'], init: { CNTHCTL_EL2: 0x1003n, CNTPOFF_EL2: 0x1000n } }, [
      { op: 'eret' }, mrs('CNTPCT_EL0'), { op: 'exit' }, mrs('CNTPOFF_EL2'),
    ]),
  },
  {
    title: 'a trace without "ecv": QEMU cpu max implements FEAT_ECV, so CNTHCTL_EL2.EL1TVT traps vEL1 CNTV_CVAL_EL0 (the reference: no trap)',
    make: () => t({ init: { CNTHCTL_EL2: 0x2c03n } }, [{ op: 'eret' }, msr('CNTV_CVAL_EL0', 5n), mrs('CNTV_CVAL_EL0')]),
  },
  {
    title: 'RES0 storage (no disagreement: the reference reports those bits unknown): CNTKCTL_EL1 keeps all 64 bits, CNTHCTL_EL2 [17:0], CTL [1:0] (nvhe)',
    make: () => t({ guest: 'nvhe' }, [msr('CNTKCTL_EL1', M), mrs('CNTKCTL_EL1'), msr('CNTHCTL_EL2', M), mrs('CNTHCTL_EL2'), msr('CNTV_CTL_EL0', M), mrs('CNTV_CTL_EL0'),
      { op: 'eret' }, msr('CNTKCTL_EL1', 0x3fc00n), mrs('CNTKCTL_EL1')]),
  },
  {
    title: 'a trace without "ecv": CNTPOFF_EL2 at vEL2 traps to EL3 (SCR_EL3.ECVEn = 0) — reported as undefined',
    make: () => t({ guest: 'nvhe' }, [mrs('CNTPOFF_EL2'), msr('CNTPOFF_EL2', 1n)]),
  },
];

async function runCase(c: Case): Promise<void> {
  const el3 = c.el3 ?? true;
  const [first] = await runTracesInQemu([c.make(undefined)], { el3, gic: false });
  const trace = c.make(first);
  const [r] = await runTracesInQemu([trace], { el3, gic: false });
  const rb = rebuildTrace(trace, r!);
  const ref = new ReferenceModel(rb.trace.config);
  const exp = collapseObservations(rb, rb.trace.ops.map((op) => ref.step(op)));
  const obs = qemuObservations(r!);
  console.log(`\n${c.title}${el3 ? '' : ' [secure=off]'}`);
  trace.ops.forEach((op, i) => {
    const e = exp[i]!, o = obs[i]!, q = r!.ops[i]!;
    const what = op.op === 'msr' ? `msr ${op.reg} ${hex(op.value)}` : op.op === 'mrs' ? `mrs ${op.reg}` : op.op === 'tick' ? `tick ${hex(op.by)}` : op.op === 'wfi' ? `wfi ${hex(op.limit)}` : op.op;
    const d = disagreement(e, o);
    const el = (x: { elapsed?: bigint }): string => (x.elapsed !== undefined ? ` elapsed=${hex(x.elapsed)}` : '');
    console.log(`  ${String(i).padStart(2)} vEL${q.elBefore} ${what.padEnd(36)} @${q.countAtAccess}  reference irq=${e.irq} value=${hex(e.value)}${el(e)}${e.fault ? ` ${e.fault}` : ''}` +
      `  QEMU irq=${o.irq} value=${hex(o.value)}${el(o)}${o.fault ? ` ${o.fault} (EL${q.faultEl} ESR ${hex(q.esr)})` : ''}${d.length ? `   <- ${d.join(',')}` : ''}`);
  });
}

async function main(): Promise<number> {
  const f = findQemu();
  if (!f.ok) {
    console.error(`findings: ${f.reason}`);
    return 2;
  }
  console.log(`findings: ${f.qemu!.version}`);
  for (const c of CASES) await runCase(c);
  return 0;
}

main().then((c) => { process.exitCode = c; }, (e: unknown) => {
  console.error(`findings: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
});
