/**
 * `npm run bench`: how fast the models step, alone and side by side, and how long a whole
 * default-suite check takes. Figures are printed, never asserted. Each line also gives the
 * garbage collections during its measurement and the share of its time they took: the engine
 * should spend its time executing, not allocating.
 */
import fc from 'fast-check';
import type { Op, TraceConfig } from '../models/arch/vocabulary.js';
import { loadLayout } from '../models/layouts/load.js';
import { Nv2Model } from '../models/nv2/model.js';
import { ReferenceModel } from '../models/reference/reference.js';
import { propertyByName } from '../properties/index.js';
import { traceArb } from '../src/check/generate.js';
import { resolveOp } from '../src/engine/abstract-ops.js';
import { Runner, runTraceSync } from '../src/engine/runner.js';
import { runSuite, parseSuite } from '../src/check/suite.js';
import { defaultSuitePath } from '../src/cli/check.js';
import { readFileSync } from 'node:fs';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

// GC events, delivered asynchronously: each measurement awaits a turn, then counts those in its window.
const gcs: PerformanceEntry[] = [];
const gcObserver = new PerformanceObserver((list) => void gcs.push(...list.getEntries()));
gcObserver.observe({ entryTypes: ['gc'] });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
async function gcIn(t0: number, t1: number): Promise<string> {
  await settle();
  const mine = gcs.filter((e) => e.startTime >= t0 && e.startTime < t1);
  const ms = mine.reduce((a, e) => a + e.duration, 0);
  gcs.length = 0;
  return `${String(mine.length).padStart(4)} GCs, ${((100 * ms) / (t1 - t0)).toFixed(1).padStart(4)}% of the time`;
}

const layout = loadLayout('architected');
const samples = fc.sample(traceArb({ maxOps: 40 }), { seed: 7, numRuns: 2000 });
// Concrete traces, resolved once, so the loops below measure stepping only.
const traces: { config: TraceConfig; ops: Op[] }[] = samples.map(([config, gops]) => {
  const ref = new ReferenceModel(config);
  const ops: Op[] = [];
  for (const g of gops) {
    const op = resolveOp(g, ref);
    if (op) {
      ref.step(op);
      ops.push(op);
    }
  }
  return { config, ops };
});
const totalOps = traces.reduce((a, t) => a + t.ops.length, 0);

async function measure(name: string, minMs: number, body: () => number): Promise<void> {
  body(); // warm-up
  await settle();
  gcs.length = 0;
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    ops += body();
    t = performance.now();
  }
  const s = (t - t0) / 1000;
  console.log(`${name.padEnd(52)} ${(ops / s / 1e6).toFixed(3).padStart(7)} M ops/s  (${ops} ops in ${(t - t0).toFixed(0)} ms; ${await gcIn(t0, t)})`);
}

console.log(`nvconform bench: ${traces.length} generated traces, ${totalOps} ops (node ${process.version})\n`);
await measure('reference alone', 1500, () => {
  for (const t of traces) {
    const m = new ReferenceModel(t.config);
    for (const op of t.ops) m.step(op);
  }
  return totalOps;
});
const nv2 = new Nv2Model({ layout });
await measure('nv2 alone', 1500, () => {
  for (const t of traces) {
    nv2.reset(t.config);
    for (const op of t.ops) nv2.step(op);
  }
  return totalOps;
});
for (const p of ['architectural', 'deferred'] as const) {
  const runner = new Runner(nv2, { property: propertyByName(p) });
  await measure(`side by side, nv2 vs reference, ${p}`, 1500, () => {
    let n = 0;
    for (const [config, gops] of samples) n += runTraceSync(runner, config, gops).ops.length;
    return n;
  });
}
const suite = parseSuite(readFileSync(defaultSuitePath(), 'utf8'), 'default');
await settle();
gcs.length = 0;
const t0 = performance.now();
const r = await runSuite(suite, { runs: 300, seed: 42, maxOps: 40, stats: false });
const ops = r.entries.reduce((a, e) => a + e.result.opsExecuted, 0);
const t1 = performance.now();
const ms = t1 - t0;
console.log(`\ndefault suite (check, ${suite.entries.length} entries): ${ms.toFixed(0)} ms, ${ops} ops, ${(ops / (ms / 1000) / 1e6).toFixed(3)} M ops/s including generation and shrinking (${await gcIn(t0, t1)})`);
gcObserver.disconnect();
