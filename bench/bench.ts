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
import { benchExhaustive } from './exhaustive.js';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
await benchExhaustive();

// A trace of a million ops through `run` and `replay`, as a user runs them (a child process each):
// wall time and peak RSS. Opt-in, it takes a while: `npm run bench -- --big`.
if (process.argv.includes('--big')) {
  const dir = mkdtempSync(join(tmpdir(), 'nvconform-bench-'));
  const file = join(dir, 'big.json');
  const n = 1_000_000;
  const fd = openSync(file, 'w');
  writeSync(fd, '{\n  "format": "nvconform-trace/1",\n  "config": {"guest":"vhe","features":[],"count":"0x0"},\n  "ops": [\n');
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    const op = k === 0 ? { op: 'msr', reg: 'CNTV_CVAL_EL02', value: `0x${(i * 3).toString(16)}` } : k === 1 ? { op: 'msr', reg: 'CNTV_CTL_EL02', value: '0x1' } : k === 2 ? { op: 'tick', by: '0x2' } : { op: 'mrs', reg: 'CNTV_TVAL_EL02' };
    chunk += '    ' + JSON.stringify(op) + (i === n - 1 ? '\n' : ',\n');
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk + '  ]\n}\n');
  closeSync(fd);
  // Peak RSS as the child sees it at exit.
  const preload = join(dir, 'rss.cjs');
  writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, `\\nmaxrss ${process.resourceUsage().maxRSS}\\n`));\n");
  console.log(`\na trace of ${n} ops (${(statSync(file).size / 1e6).toFixed(0)} MB), output to /dev/null:`);
  for (const args of [['run', file], ['run', file, '--model', 'nv2'], ['run', file, '--json'], ['replay', file]]) {
    const t = performance.now();
    const r = spawnSync(process.execPath, ['-r', preload, 'dist/src/cli/main.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const s = (performance.now() - t) / 1000;
    const rss = /maxrss (\d+)/.exec(r.stderr)?.[1];
    console.log(`  nvconform ${args.map((a) => (a === file ? 'big.json' : a)).join(' ').padEnd(28)} ${s.toFixed(1).padStart(5)} s, peak RSS ${rss ? (Number(rss) / 1024).toFixed(0) : '?'} MB, exit ${r.status}`);
  }
  rmSync(dir, { recursive: true, force: true });
}
