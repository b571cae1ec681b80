/**
 * `npm run bench`: how fast the models step, alone and side by side, and how long a whole
 * default-suite check takes. Figures are printed, never asserted.
 */
import fc from 'fast-check';
import '../models/builtin.js';
import { ReferenceModel } from '../models/reference/reference.js';
import { Nv2Model } from '../models/nv2/nv2.js';
import { loadLayout } from '../models/layout-load.js';
import { traceArb } from '../src/check/generate.js';
import { SideBySide, runSync } from '../src/check/side-by-side.js';
import { propertyByName } from '../properties/index.js';
import { resolveOp } from '../src/check/generate.js';
import type { Op, TraceConfig } from '../src/trace/types.js';
import { runSuite, parseSuite } from '../src/check/suite.js';
import { defaultSuitePath } from '../src/cli/check.js';
import { readFileSync } from 'node:fs';

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

function measure(name: string, minMs: number, body: () => number): void {
  body(); // warm-up
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    ops += body();
    t = performance.now();
  }
  const s = (t - t0) / 1000;
  console.log(`${name.padEnd(44)} ${(ops / s / 1e6).toFixed(3).padStart(8)} M ops/s   (${ops} ops in ${(t - t0).toFixed(0)} ms)`);
}

console.log(`nvconform bench: ${traces.length} generated traces, ${totalOps} ops (node ${process.version})\n`);
measure('reference alone', 1500, () => {
  for (const t of traces) {
    const m = new ReferenceModel(t.config);
    for (const op of t.ops) m.step(op);
  }
  return totalOps;
});
const nv2 = new Nv2Model({ layout });
measure('nv2 alone', 1500, () => {
  for (const t of traces) {
    nv2.reset(t.config);
    for (const op of t.ops) nv2.step(op);
  }
  return totalOps;
});
for (const p of ['architectural', 'deferred'] as const) {
  const sbs = new SideBySide({ property: propertyByName(p), layout, hostEcvTraps: false, nv2: true, hasDetail: true });
  measure(`side by side, nv2 vs reference, ${p}`, 1500, () => {
    let n = 0;
    for (const [config, gops] of samples) n += runSync(sbs, nv2, config, gops).ops.length;
    return n;
  });
}
const suite = parseSuite(readFileSync(defaultSuitePath(), 'utf8'), 'default');
const t0 = performance.now();
const r = await runSuite(suite, { runs: 300, seed: 42, maxOps: 40, stats: false });
const ops = r.entries.reduce((a, e) => a + e.result.opsExecuted, 0);
const ms = performance.now() - t0;
console.log(`\ndefault suite (check, ${suite.entries.length} entries): ${ms.toFixed(0)} ms, ${ops} ops, ${(ops / (ms / 1000) / 1e6).toFixed(3)} M ops/s including generation and shrinking`);
