/**
 * `npm run bench`: how fast the models step, alone and side by side, how long a whole
 * default-suite check takes with 1 and 2 workers (and its peak memory), `layouts --explore`, and
 * the time to refute tval-in-vncr over 20 seeds; every figure with the target issue 14 sets, as a
 * ratio beside its absolute value. `--json`: the figures as one document. The exhaustive phase per
 * configuration and depth (depth reached, states, traces, time) follows the figures; `--no-exhaustive` skips it. `--big`: a million-op trace through run and replay. Figures are printed, never asserted. Each line also gives the
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
import { check, DEFAULT_CHECK_OPTIONS } from '../src/check/check.js';
import { defaultSuitePath } from '../src/cli/check.js';
import { benchExhaustive } from './exhaustive.js';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg as loadavgNow, tmpdir } from 'node:os';
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

const json = process.argv.includes('--json');
/** Every figure, for --json: name, value, unit, and its target and ratio where the issue sets one. */
const figures: { name: string; value: number; unit: string; target?: string; ratio?: number; met?: boolean; note?: string }[] = [];
const say = (s: string): void => {
  if (!json) console.log(s);
};
const loadavg = (): string => loadavgNow().map((x) => x.toFixed(2)).join(', ');
say(`nvconform bench: ${traces.length} generated traces, ${totalOps} ops (node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()})\n`);

const rates: Record<string, number> = {};
async function rateOf(name: string, key: string, minMs: number, body: () => number): Promise<void> {
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
  rates[key] = ops / ((t - t0) / 1000);
  say(`${name.padEnd(52)} ${(rates[key] / 1e6).toFixed(3).padStart(7)} M ops/s  (${ops} ops in ${(t - t0).toFixed(0)} ms; ${await gcIn(t0, t)})`);
}

await rateOf('reference alone', 'reference', 1500, () => {
  for (const t of traces) {
    const m = new ReferenceModel(t.config);
    for (const op of t.ops) m.step(op);
  }
  return totalOps;
});
const nv2 = new Nv2Model({ layout });
await rateOf('nv2 alone', 'nv2', 1500, () => {
  for (const t of traces) {
    nv2.reset(t.config);
    for (const op of t.ops) nv2.step(op);
  }
  return totalOps;
});
for (const p of ['architectural', 'deferred'] as const) {
  const runner = new Runner(nv2, { property: propertyByName(p) });
  await rateOf(`side by side, nv2 vs reference, ${p}`, p, 1500, () => {
    let n = 0;
    for (const [config, gops] of samples) n += runTraceSync(runner, config, gops).ops.length;
    return n;
  });
}
figures.push({ name: 'reference alone', value: rates.reference!, unit: 'ops/s' }, { name: 'nv2 alone', value: rates.nv2!, unit: 'ops/s' });
for (const p of ['architectural', 'deferred'] as const) {
  const cost = rates.reference! / rates[p]!;
  figures.push({ name: `side by side (${p}): cost relative to the reference alone`, value: rates[p]!, unit: 'ops/s', target: '<= 2x the reference, >= 3 M ops/s', ratio: cost, met: cost <= 2 && rates[p]! >= 3e6 });
}

// The default check in this process, one thread: how much of its time is executing ops.
const suite = parseSuite(readFileSync(defaultSuitePath(), 'utf8'), 'default');
await settle();
gcs.length = 0;
const t0 = performance.now();
const r = await runSuite(suite, { runs: 300, seed: 42, maxOps: 40, stats: false });
const ops = r.entries.reduce((a, e) => a + e.result.opsExecuted, 0);
const t1 = performance.now();
const ms = t1 - t0;
const e2e = ops / (ms / 1000);
const share = e2e / rates.architectural!;
say(`\ndefault suite (check, ${suite.entries.length} entries, 1 thread): ${ms.toFixed(0)} ms, ${ops} ops, ${(e2e / 1e6).toFixed(3)} M ops/s including generation and shrinking (${await gcIn(t0, t1)})`);
figures.push({ name: 'default check, end to end, 1 thread: share of the side-by-side engine speed', value: e2e, unit: 'ops/s', target: '>= 0.5 (half its time executing ops)', ratio: share, met: share >= 0.5 });
gcObserver.disconnect();

/** Run the CLI: wall time (s) and peak RSS (MB, every thread of the process). */
function cliRun(args: readonly string[]): { s: number; rssMb: number; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'nvconform-bench-'));
  const preload = join(dir, 'rss.cjs');
  writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, `\\nmaxrss ${process.resourceUsage().maxRSS}\\n`));\n");
  const t = performance.now();
  const c = spawnSync(process.execPath, ['-r', preload, 'dist/src/cli/main.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const s = (performance.now() - t) / 1000;
  rmSync(dir, { recursive: true, force: true });
  const rss = /maxrss (\d+)/.exec(c.stderr)?.[1];
  return { s, rssMb: rss ? Number(rss) / 1024 : NaN, status: c.status };
}

/** Run two copies of the CLI at once: wall time (s) until both have finished. */
function cliPair(args: readonly string[]): number {
  const t = performance.now();
  const c = spawnSync('/bin/sh', ['-c', `"$0" dist/src/cli/main.js "$@" >/dev/null & "$0" dist/src/cli/main.js "$@" >/dev/null; wait`, process.execPath, ...args], { stdio: 'ignore' });
  if (c.status !== 0) throw new Error(`bench: two nvconform ${args.join(' ')} at once: exit ${c.status}`);
  return (performance.now() - t) / 1000;
}

say(`\nthe CLI (a child process each; load average ${loadavg()}):`);
const w1 = cliRun(['check', '--workers', '1']);
const w2 = cliRun(['check', '--workers', '2']);
const speedup = w1.s / w2.s;
say(`  nvconform check --workers 1                  ${w1.s.toFixed(1).padStart(6)} s, peak RSS ${w1.rssMb.toFixed(0)} MB, exit ${w1.status}`);
say(`  nvconform check --workers 2                  ${w2.s.toFixed(1).padStart(6)} s, peak RSS ${w2.rssMb.toFixed(0)} MB, exit ${w2.status}: ${speedup.toFixed(2)}x`);
figures.push({ name: 'default check, 2 workers: speed-up over 1', value: w2.s, unit: 's', target: '>= 1.7x', ratio: speedup, met: speedup >= 1.7 });
// Throughput on a run long enough that starting the workers does not count: the same check, ten times the runs.
const long = ['check', '--runs', '3000'];
const l1 = cliRun([...long, '--workers', '1']);
const l2 = cliRun([...long, '--workers', '2']);
const longUp = l1.s / l2.s;
say(`  nvconform check --runs 3000 --workers 1      ${l1.s.toFixed(1).padStart(6)} s, exit ${l1.status}`);
say(`  nvconform check --runs 3000 --workers 2      ${l2.s.toFixed(1).padStart(6)} s, exit ${l2.status}: ${longUp.toFixed(2)}x`);
figures.push({ name: 'check --runs 3000, 2 workers: throughput over 1', value: l2.s, unit: 's', target: '>= 1.7x', ratio: longUp, met: longUp >= 1.7 });
// What this machine gives two busy threads at all: two separate single-worker processes at once, against one alone.
const pair = cliPair([...long, '--workers', '1']);
const ceiling = (2 * l1.s) / pair;
say(`  two of those single-worker runs at once      ${pair.toFixed(1).padStart(6)} s for both: ${ceiling.toFixed(2)}x the throughput of one (the machine's own ceiling for 2 workers)`);
figures.push({ name: 'two single-worker processes at once: throughput over one (the ceiling)', value: pair, unit: 's', ratio: ceiling });
const dflt = availableParallelism() === 2 ? w2 : cliRun(['check']);
figures.push({ name: 'default check (default workers): peak memory', value: dflt.rssMb, unit: 'MB' });
const ex = cliRun(['layouts', '--explore', '--workers', '2']);
say(`  nvconform layouts --explore --workers 2      ${ex.s.toFixed(1).padStart(6)} s (both guest modes, exhaustive phase included), exit ${ex.status}`);
figures.push({ name: 'layouts --explore, both guest modes, 2 workers', value: ex.s, unit: 's', target: '< 30 s', ratio: ex.s / 30, met: ex.s < 30 });

// Time to refute tval-in-vncr (deferred, VHE guest hyp, a CPU without ECV), over 20 seeds, in this process.
const times: number[] = [];
for (let seed = 1; seed <= 20; seed++) {
  const t = performance.now();
  const c = await check({ ...DEFAULT_CHECK_OPTIONS, layout: 'tval-in-vncr', guest: 'vhe', host: { cpu: ['vhe', 'wfxt', 'nv2p1'] }, properties: ['deferred'], seed });
  times.push(performance.now() - t);
  if (c.verdict !== 'fail') say(`  seed ${seed}: tval-in-vncr NOT refuted`);
}
times.sort((x, y) => x - y);
const median = (times[9]! + times[10]!) / 2, worst = times[19]!;
say(`\ntime to refute tval-in-vncr (deferred, VHE guest hyp), 20 seeds: median ${median.toFixed(0)} ms, worst ${worst.toFixed(0)} ms`);
figures.push({ name: 'time to refute tval-in-vncr: median of 20 seeds', value: median, unit: 'ms' }, { name: 'time to refute tval-in-vncr: worst of 20 seeds', value: worst, unit: 'ms' });

say('\nfigures against the targets of issue 14 (ratio, then the absolute value):');
for (const f of figures) {
  const abs = f.unit === 'ops/s' ? `${(f.value / 1e6).toFixed(3)} M ops/s` : `${f.value.toFixed(f.unit === 's' ? 1 : 0)} ${f.unit}`;
  say(`  ${f.name.padEnd(82)} ${f.ratio !== undefined ? `${f.ratio.toFixed(2)}x`.padStart(7) : '       '}  ${abs.padStart(16)}${f.target ? `  target ${f.target}: ${f.met ? 'met' : 'MISSED'}` : ''}`);
}
say(`  (load average at the end: ${loadavg()})`);
if (json) console.log(JSON.stringify({ node: process.version, cores: availableParallelism(), load: loadavgNow(), figures }, null, 2));
if (!json && !process.argv.includes('--no-exhaustive')) await benchExhaustive();

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
