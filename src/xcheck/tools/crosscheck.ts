/**
 * A command-line cross-check of the reference model against QEMU (a tool, not part of the
 * driver: unlike src/xcheck/*.ts it uses the project's generator and reference model).
 *
 *   node dist/src/xcheck/tools/crosscheck.js [--n 300] [--seed 42] [--guest vhe|nvhe] [--ecv|--no-ecv]
 *        [--max-ops 40] [--batch 400] [--passes 6] [--json FILE] [--show 5]
 *
 * Generates traces with the checker's generator (ticks cut to 2^40), runs them in
 * QEMU in passes (the first learns the real count of every op; the next ones re-resolve every
 * count-relative value against those counts so that "CVAL = now + 2" means the same in QEMU,
 * until the counts stop moving),
 * rebuilds each trace with the counts that passed, runs the reference on it and lists every
 * disagreement by its first differing op.
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { ReferenceModel } from '../../../models/reference/reference.js';
import { traceArb, type GenOp } from '../../check/generate.js';
import { resolveOp } from '../../engine/abstract-ops.js';
import { formatTrace } from '../../trace/format.js';
import type { Expectation, GuestMode, Op, Trace, TraceConfig } from '../../../models/arch/vocabulary.js';
import { DEFAULT_MAX_TICK } from '../format.js';
import { findQemu, runTracesInQemu, SPACING, type QemuTraceResult } from '../qemu.js';
import { collapseObservations, disagreement, lineSourceMismatches, qemuObservations, rebuildTrace } from '../rebuild.js';

interface Args { n: number; seed: number; guest?: GuestMode; ecv?: boolean; maxOps: number; batch: number; json?: string; show: number; passes: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { n: 300, seed: 42, maxOps: 40, batch: 400, show: 5, passes: 6 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--n') a.n = Number(v());
    else if (k === '--seed') a.seed = Number(v());
    else if (k === '--guest') a.guest = v() as GuestMode;
    else if (k === '--ecv') a.ecv = true;
    else if (k === '--no-ecv') a.ecv = false;
    else if (k === '--max-ops') a.maxOps = Number(v());
    else if (k === '--batch') a.batch = Number(v());
    else if (k === '--json') a.json = v();
    else if (k === '--show') a.show = Number(v());
    else if (k === '--passes') a.passes = Number(v());
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

/** The generator's abstract ops, made runnable in QEMU: ticks at most DEFAULT_MAX_TICK (2^40). */
function runnable(ops: readonly GenOp[]): GenOp[] {
  return ops.map((g): GenOp => ((g.k === 'tick' || g.k === 'preempt') && g.by > DEFAULT_MAX_TICK ? { ...g, by: g.by % DEFAULT_MAX_TICK } : g.k === 'wfi' && g.limit > DEFAULT_MAX_TICK ? { ...g, limit: DEFAULT_MAX_TICK } : g));
}

/**
 * Resolve abstract ops to concrete ones against the reference; with `counts`, the reference's
 * count is set to QEMU's count of each op before resolving it.
 */
function resolve(config: TraceConfig, gen: readonly GenOp[], counts?: readonly bigint[]): Op[] {
  const ref = new ReferenceModel(counts?.[0] !== undefined ? { ...config, count: counts[0] } : config);
  const ops: Op[] = [];
  for (const g of gen) {
    const c = counts?.[ops.length];
    if (c !== undefined) ref.state.count = c;
    const op = resolveOp(g, ref);
    if (!op) continue;
    try {
      ref.step(op);
    } catch {
      break;
    }
    ops.push(op);
  }
  return ops;
}

export interface Finding {
  /** Which known QEMU behaviour (xcheck/NOTES.md) explains it, or 'unexplained'. */
  readonly known: string;
  readonly index: number;
  readonly op: number;
  readonly fields: string[];
  readonly expected: Expectation;
  readonly observed: Expectation;
  readonly rebuilt: Trace;
  readonly original: Trace;
  /** Per original op up to the finding: what it was, where QEMU ran it, and both observations. */
  readonly table: string[];
}

const U64 = (1n << 64n) - 1n;
const ECV_BITS = 0x3f000n;

/**
 * The known QEMU 10.0 behaviour that explains a disagreement at original op `at`, found by
 * re-running the reference on the rebuilt trace up to that op:
 * - qemu-has-ecv: a trace without "ecv" set CNTHCTL_EL2 bits [17:12] (QEMU's cpu max has FEAT_ECV);
 * - offset-overflow: the EL1 virtual (physical) timer is enabled with CNTVOFF_EL2 (the applied
 *   CNTPOFF_EL2) above the count and CVAL + offset >= 2^64: QEMU never schedules its deadline;
 * - ecv-flip: CNTHCTL_EL2.ECV changed while the EL1 physical timer was enabled, and QEMU did not
 *   re-evaluate it;
 * - istatus-lag: a CTL read (or a line sample) executed exactly at the count where the condition
 *   changed (CVAL reached, or count - offset wrapping to 0); QEMU's ISTATUS follows one count later.
 */
function explain(trace: Trace, rebuilt: ReturnType<typeof rebuildTrace>, at: number, fields: readonly string[], r: QemuTraceResult): string {
  const ecv = trace.config.features.includes('ecv');
  const ref = new ReferenceModel(rebuilt.trace.config);
  const cnthctlWrites: bigint[] = [];
  if (trace.config.init.CNTHCTL_EL2 !== undefined) cnthctlWrites.push(trace.config.init.CNTHCTL_EL2);
  let ecvFlipWhilePtimerOn = false;
  const end = rebuilt.opIndex[at]!;
  for (let k = 0; k <= end; k++) {
    const op = rebuilt.trace.ops[k]!;
    const before = ref.offsetFor('cntpoff');
    const beforeEl = ref.el;
    ref.step(op);
    if (op.op === 'msr' && beforeEl === 2 && (op.reg === 'CNTHCTL_EL2' || (op.reg === 'CNTKCTL_EL1' && trace.config.guest === 'vhe'))) {
      cnthctlWrites.push(op.value);
      if (before !== ref.offsetFor('cntpoff') && (ref.state.ctl[2]! & 1n) === 1n) ecvFlipWhilePtimerOn = true;
    }
  }
  if (!ecv && cnthctlWrites.some((v) => (v & ECV_BITS) !== 0n)) return 'qemu-has-ecv';
  const offsetOf = (t: number): bigint => (t === 3 ? ref.sysValue('CNTVOFF_EL2') : t === 2 ? ref.offsetFor('cntpoff') : 0n);
  // The condition changed exactly at `count` (became met at CVAL, or unmet where count - offset wraps to 0).
  const met = (t: number, count: bigint): boolean => ((count - offsetOf(t)) & U64) >= ref.state.cval[t]!;
  const justMet = (t: number, count: bigint): boolean => met(t, count) !== met(t, count - 1n);
  const q = r.ops[at]!;
  const lagLines = fields.filter((f) => f.startsWith('irq.')).every((f) => {
    const t = ['irq.hptimer', 'irq.hvtimer', 'irq.ptimer', 'irq.vtimer'].indexOf(f);
    return t >= 0 && justMet(t, q.lines[t]!.count);
  });
  const op = trace.ops[at]!;
  const ctlRead = op.op === 'mrs' && /_CTL_/.test(op.reg);
  const lagValue = !fields.includes('value') || (ctlRead && [0, 1, 2, 3].some((t) => justMet(t, q.countAtAccess)));
  if (fields.every((f) => f.startsWith('irq.') || f === 'value') && lagLines && lagValue) return 'istatus-lag';
  const overflow = (t: 2 | 3, off: bigint): boolean => (ref.state.ctl[t]! & 1n) === 1n && off > ref.count && ref.state.cval[t]! + off > U64;
  if (fields.some((f) => f === 'irq.vtimer' || f === 'value') && overflow(3, ref.sysValue('CNTVOFF_EL2'))) return 'offset-overflow';
  if (fields.some((f) => f === 'irq.ptimer' || f === 'value') && overflow(2, ref.offsetFor('cntpoff'))) return 'offset-overflow';
  if (ecvFlipWhilePtimerOn && fields.some((f) => f === 'irq.ptimer' || f === 'value')) return 'ecv-flip';
  return 'unexplained';
}

function compare(index: number, trace: Trace, r: QemuTraceResult): Finding | undefined | 'ref-error' {
  const rebuilt = rebuildTrace(trace, r);
  const ref = new ReferenceModel(rebuilt.trace.config);
  let refObs: Expectation[];
  try {
    refObs = rebuilt.trace.ops.map((op) => ref.step(op));
  } catch {
    return 'ref-error';
  }
  const expected = collapseObservations(rebuilt, refObs);
  const observed = qemuObservations(r);
  for (let i = 0; i < expected.length; i++) {
    const fields = disagreement(expected[i]!, observed[i]!);
    if (fields.length) {
      const table = trace.ops.slice(0, i + 1).map((op, k) => {
        const q = r.ops[k]!, e = expected[k]!, o = observed[k]!;
        const what = op.op === 'msr' ? `msr ${op.reg} ${hex(op.value)}` : op.op === 'mrs' ? `mrs ${op.reg}` : op.op === 'tick' || op.op === 'preempt' ? `${op.op} ${hex(op.by)}` : op.op;
        return `${k} vEL${q.elBefore} @${q.countAtAccess}${q.countAfter !== undefined ? `..${q.countAfter}` : ''} ${what} | ref irq=${e.irq} v=${hex(e.value)}${e.fault ? ' ' + e.fault : ''} | qemu irq=${o.irq} v=${hex(o.value)}${o.fault ? ' ' + o.fault : ''} ctl=${q.lines.map((l) => `${l.ctl}@${l.count}`).join(',')}`;
      });
      return { known: explain(trace, rebuilt, i, fields, r), index, op: i, fields, expected: expected[i]!, observed: observed[i]!, rebuilt: rebuilt.trace, original: trace, table };
    }
  }
  return undefined;
}

const hex = (v: bigint | undefined): string => (v === undefined ? '-' : '0x' + v.toString(16));

export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  const f = findQemu();
  if (!f.ok) {
    console.error(`crosscheck: ${f.reason}`);
    return 2;
  }
  const samples = fc.sample(traceArb({ maxOps: a.maxOps, ...(a.guest ? { guest: a.guest } : {}), ...(a.ecv !== undefined ? { ecv: a.ecv } : {}) }), { seed: a.seed, numRuns: a.n });
  const gens = samples.map(([config, ops]) => ({ config, gen: runnable(ops) }));
  // Pass 1 resolves against the generator's own counts; each later pass re-resolves the traces
  // whose counts moved against the counts QEMU ran them at (a wfi's length depends on the values
  // before it, so a trace with k wfi needs up to k + 2 passes). Each trace starts at its own
  // spaced count, so a trace's counts depend on nothing but itself.
  // Each trace starts at (its index + 1) * 2^46 whatever subset is re-run.
  const run = (ts: readonly Trace[], idx: readonly number[]): Promise<QemuTraceResult[]> =>
    runTracesInQemu(ts, { batchSize: a.batch, startAt: (_t, k) => BigInt(idx[k]! + 1) * SPACING });
  const countsOf = (r: QemuTraceResult): string => r.ops.map((o) => o.countAtAccess).join(',');
  const traces: Trace[] = gens.map(({ config, gen }) => ({ config, ops: resolve(config, gen) }));
  const t0 = performance.now();
  const results = await run(traces, traces.map((_, i) => i));
  const passMs: number[] = [performance.now() - t0];
  let moving = traces.map((_, i) => i);
  let passes = 1;
  while (moving.length && passes < a.passes) {
    const next = moving.map((i) => ({ config: gens[i]!.config, ops: resolve(gens[i]!.config, gens[i]!.gen, results[i]!.ops.map((o) => o.countAtAccess)) }));
    const tp = performance.now();
    const rs = await run(next, moving);
    passMs.push(performance.now() - tp);
    passes++;
    const still: number[] = [];
    moving.forEach((i, k) => {
      if (countsOf(rs[k]!) !== countsOf(results[i]!) || next[k]!.ops.length !== traces[i]!.ops.length) still.push(i);
      traces[i] = next[k]!;
      results[i] = rs[k]!;
    });
    moving = still;
  }
  const sameCounts = a.n - moving.length;
  const pass2 = traces;
  const r2 = results;
  const totalOps = pass2.reduce((s, t) => s + t.ops.length, 0);
  const findings: Finding[] = [];
  let refErrors = 0;
  pass2.forEach((t, i) => {
    const c = compare(i, t, r2[i]!);
    if (c === 'ref-error') refErrors++;
    else if (c) findings.push(c);
  });
  const byKey = new Map<string, Finding[]>();
  for (const fd of findings) {
    const op = fd.original.ops[fd.op]!;
    const name = op.op === 'msr' || op.op === 'mrs' ? `${op.op} ${op.reg}` : op.op;
    const el = r2[fd.index]!.ops[fd.op]!.elBefore;
    const key = `[${fd.known}] ${fd.original.config.guest}${fd.original.config.features.includes('ecv') ? '+ecv' : ''} vEL${el} ${name}: ${fd.fields.join(',')}`;
    byKey.set(key, [...(byKey.get(key) ?? []), fd]);
  }
  const perS = (n: number, ms: number): string => (n / (ms / 1000)).toFixed(0);
  console.log(`crosscheck: ${a.n} traces (seed ${a.seed}), ${totalOps} ops, QEMU ${f.qemu!.version}`);
  console.log(`  pass 1: ${passMs[0]!.toFixed(0)} ms (${perS(a.n, passMs[0]!)} traces/s); ${passes} passes: ${passMs.map((m) => m.toFixed(0)).join(' + ')} ms`);
  console.log(`  traces whose counts were stable (values resolved at the counts QEMU ran them at): ${sameCounts}/${a.n}`);
  console.log(`  agree: ${a.n - findings.length - refErrors}, disagree: ${findings.length}, reference rejected the rebuilt trace: ${refErrors}`);
  const gicOps = r2.reduce((s, r) => s + r.ops.filter((o) => o.gic).length, 0);
  // The race check replays the reference, which only follows QEMU up to a trace's first disagreement.
  const firstBad = new Map(findings.map((fd) => [fd.index, fd.op]));
  const allGicBad = r2.flatMap((r, i) => lineSourceMismatches(r).map((m) => ({ trace: i, ...m })));
  const gicBad = allGicBad.filter((m) => m.op < (firstBad.get(m.trace) ?? Infinity));
  const gicAfter = allGicBad.length - gicBad.length;
  // A mismatch is a race when the reference's lines change between the CTL samples and the GIC read.
  const race = gicBad.filter((m) => {
    const rb = rebuildTrace(pass2[m.trace]!, r2[m.trace]!);
    const ref = new ReferenceModel(rb.trace.config);
    const q = r2[m.trace]!.ops[m.op]!;
    for (let k = 0; k <= rb.opIndex[m.op]!; k++) ref.step(rb.trace.ops[k]!);
    const end = q.gic!.count + 64n;
    // Every differing timer's reference line changes between its CTL sample and the GIC read.
    return [0, 1, 2, 3].filter((t) => ((m.ctl ^ m.gic) >> t) & 1).every((t) => {
      const bit = 1 << t;
      // From one count before the sample: QEMU's ISTATUS lags the condition by one count.
      ref.state.count = q.lines[t]!.count - 1n;
      const at = ref.irqMask() & bit;
      for (let c = q.lines[t]!.count; c <= end; c++) {
        ref.state.count = c;
        if ((ref.irqMask() & bit) !== at) return true;
      }
      return false;
    });
  });
  console.log(`  interrupt lines: GIC pending bits vs lines from CTL: ${gicOps - allGicBad.length}/${gicOps} ops agree; of the others, ${race.length} of ${gicBad.length} are a line changing between the two reads (or at the CTL read, ISTATUS lagging one count), ${gicAfter} come after their trace's first disagreement (not checked)`);
  for (const m of gicBad.filter((x) => !race.includes(x)).slice(0, 5)) console.log(`    trace ${m.trace} op ${m.op}: CTL lines ${m.ctl}, GIC ${m.gic}`);
  const known = new Map<string, number>();
  for (const fd of findings) known.set(fd.known, (known.get(fd.known) ?? 0) + 1);
  console.log(`  disagreements by explanation: ${[...known].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  for (const [key, fs] of [...byKey].sort((x, y) => y[1].length - x[1].length)) {
    console.log(`  ${String(fs.length).padStart(4)} × ${key}`);
    for (const fd of fs.slice(0, a.show > 0 ? 1 : 0)) {
      console.log(`         e.g. trace ${fd.index} op ${fd.op}: reference ${JSON.stringify({ irq: fd.expected.irq, value: hex(fd.expected.value), unknown: hex(fd.expected.unknown), fault: fd.expected.fault })} QEMU ${JSON.stringify({ irq: fd.observed.irq, value: hex(fd.observed.value), fault: fd.observed.fault })}`);
    }
  }
  if (a.json) {
    writeFileSync(a.json, JSON.stringify(findings.slice(0, 200).map((fd) => ({
      known: fd.known, index: fd.index, op: fd.op, fields: fd.fields, config: { ...fd.original.config, count: undefined }, table: fd.table, rebuilt: JSON.parse(JSON.stringify(formatTrace(fd.rebuilt))) as string,
    })), (_k, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v), 1));
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  console.error(`crosscheck: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
});
