/**
 * Throughput of the QEMU cross-check (a tool; uses the project's generator).
 *
 *   node dist/src/xcheck/tools/bench.js [--n 2000] [--seed 7] [--batches 1,50,200,500,2000] [--parallel 1,2]
 *
 * For each batch size and process count: wall time of runTracesInQemu over the same generated
 * traces (ticks cut to 2^40), traces/s and ops/s, and the counts that passed per trace in the
 * guest (from the result header; long ticks and waits jump the clock, so this is not work done).
 */
import fc from 'fast-check';
import { ReferenceModel } from '../../../models/reference/reference.js';
import { traceArb, type GenOp } from '../../check/generate.js';
import { resolveOp } from '../../engine/abstract-ops.js';
import type { Op, Trace } from '../../../models/arch/vocabulary.js';
import { DEFAULT_MAX_TICK } from '../format.js';
import { findQemu, runTracesInQemu } from '../qemu.js';

function traces(n: number, seed: number, maxTick: bigint): Trace[] {
  return fc.sample(traceArb({ maxOps: 40 }), { seed, numRuns: n }).map(([config, gen]) => {
    const ref = new ReferenceModel(config);
    const ops: Op[] = [];
    for (const g0 of gen) {
      const g: GenOp = (g0.k === 'tick' || g0.k === 'preempt') && g0.by > maxTick ? { ...g0, by: g0.by % maxTick } : g0.k === 'wfi' && g0.limit > maxTick ? { ...g0, limit: maxTick } : g0;
      const op = resolveOp(g, ref);
      if (!op) continue;
      ref.step(op);
      ops.push(op);
    }
    return { config, ops };
  });
}

async function main(argv: string[]): Promise<number> {
  const arg = (k: string, d: string): string => (argv.includes(k) ? argv[argv.indexOf(k) + 1]! : d);
  const n = Number(arg('--n', '2000'));
  const seed = Number(arg('--seed', '7'));
  const maxTick = BigInt(arg('--max-tick', String(DEFAULT_MAX_TICK)));
  const batchSizes = arg('--batches', '1,50,200,500,2000').split(',').map(Number);
  const parallels = arg('--parallel', '1,2').split(',').map(Number);
  const f = findQemu();
  if (!f.ok) {
    console.error(`bench: ${f.reason}`);
    return 2;
  }
  const ts = traces(n, seed, maxTick);
  const ops = ts.reduce((s, t) => s + t.ops.length, 0);
  const ticks = ts.reduce((s, t) => s + t.ops.reduce((a, o) => a + (o.op === 'tick' || o.op === 'preempt' ? o.by : 0n), 0n), 0n);
  console.log(`bench: ${n} generated traces (seed ${seed}), ${ops} ops, ${ticks} counts of tick/preempt in all; ${f.qemu!.version}`);
  for (const batch of batchSizes) {
    for (const parallel of parallels) {
      const sub = batch === 1 ? ts.slice(0, Math.min(n, 40)) : ts;
      const t0 = performance.now();
      const rs = await runTracesInQemu(sub, { batchSize: batch, parallel, maxTick });
      const ms = performance.now() - t0;
      const subOps = sub.reduce((s, t) => s + t.ops.length, 0);
      const guestCounts = rs.reduce((s, r, i) => (i === 0 || rs[i - 1]!.header !== r.header ? s + (r.header.count1 - r.header.count0) : s), 0n);
      console.log(`  batch ${String(batch).padStart(5)} × ${parallel} process(es): ${sub.length} traces in ${ms.toFixed(0).padStart(6)} ms = ${(sub.length / (ms / 1000)).toFixed(0).padStart(5)} traces/s, ${(subOps / (ms / 1000)).toFixed(0).padStart(6)} ops/s; ${(Number(guestCounts) / sub.length).toExponential(2)} counts per trace (ticks by WFI jump the clock)`);
    }
  }
  return 0;
}

main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
});
