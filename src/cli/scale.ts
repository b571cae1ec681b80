/**
 * The flags that scale a run (README, "Scale: workers, shards, budgets"): `--workers N`,
 * `--shard I/N`, `--time DURATION`; the progress line on a terminal; the budget's report; and
 * `nvconform merge`, which puts the --json outputs of a run's shards back together.
 */
import { InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { InputError } from '../../models/arch/errors.js';
import { defaultWorkers, Executor, parseShard, type Shard } from '../check/executor.js';
import { MAX_WORKERS } from '../engine/pool.js';
import type { Registry } from '../engine/registry.js';
import type { Coverage } from '../check/stats.js';
import type { PropertyResult } from '../check/check.js';
import { headline } from '../layouts/evaluate.js';
import { parseJsonText } from '../trace/parse.js';
import { readText } from './io.js';

export const workersOption = () => new Option('--workers <n>', `worker threads (default: the number of cores, ${defaultWorkers()} here); the output is the same for any number`)
  .argParser((v: string): number => {
    if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > MAX_WORKERS) throw new InvalidArgumentError(`--workers expects a whole number from 1 to ${MAX_WORKERS}`);
    return Number(v);
  });

export const shardOption = () => new Option('--shard <i/n>', 'run shard I of N of each property\'s random traces (every shard runs the exhaustive phase); nvconform merge puts their --json outputs together')
  .argParser((v: string): Shard => {
    try {
      return parseShard(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  });

/** `90`, `90s`, `500ms`, `10m`, `1.5h` as milliseconds. */
export function parseDuration(v: string, where = '--time'): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'] : NaN;
  if (!m || !(ms > 0) || ms > 7 * 24 * 3_600_000) throw new InvalidArgumentError(`${where} expects a duration such as 90s, 10m or 2h (up to a week), got ${JSON.stringify(v.slice(0, 40))}`);
  return Math.round(ms);
}

export const timeOption = () => new Option('--time <duration>', 'time budget (e.g. 10m): search until it runs out (with --runs: until either ends), then stop cleanly and report what was covered')
  .argParser((v: string) => parseDuration(v));

export interface ScaleFlags {
  readonly workers?: number;
  readonly shard?: Shard;
  readonly time?: number;
}

/** The executor a command runs its checks on. */
export function executorOf(f: ScaleFlags, registry: Registry | undefined): Executor {
  return new Executor({
    workers: f.workers ?? defaultWorkers(), ...(registry ? { registry } : {}), ...(f.shard ? { shard: f.shard } : {}),
    ...(f.time !== undefined ? { deadline: Date.now() + f.time } : {}),
  });
}

/** Progress is shown for runs longer than this. */
export const PROGRESS_AFTER_MS = 1000;
const PROGRESS_EVERY_MS = 250;

const rate = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${Math.round(n)}`);

/**
 * One line on `stream` (stderr), redrawn while the run goes on: runs done, ops/s, failures so
 * far, time left. Only on a terminal, never with --json, and not for a run shorter than a second.
 * Returns the function that ends it (and erases the line).
 */
export function startProgress(ex: Executor, o: { readonly json: boolean; readonly budgetMs?: number; readonly stream?: NodeJS.WriteStream }): () => void {
  const stream = o.stream ?? process.stderr;
  if (o.json || !stream.isTTY) return () => undefined;
  const t0 = Date.now();
  let drawn = false;
  const draw = (): void => {
    const t = ex.tally;
    const s = (Date.now() - t0) / 1000;
    let left: string;
    if (ex.deadline !== undefined) left = `${Math.max(0, Math.ceil((ex.deadline - Date.now()) / 1000))} s left`;
    else if (t.runs > 0 && Number.isFinite(t.planned)) left = `about ${Math.max(0, Math.ceil((s * (t.planned - t.runs)) / t.runs))} s left`;
    else left = 'time left unknown';
    const planned = Number.isFinite(t.planned) && t.planned > 0 ? `/${t.planned}` : '';
    stream.write(`\r\x1b[Knvconform: ${t.runs}${planned} runs, ${rate(t.ops / Math.max(s, 0.001))} ops/s, ${t.failures} failure${t.failures === 1 ? '' : 's'} so far, ${left}`);
    drawn = true;
  };
  let every: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    draw();
    every = setInterval(draw, PROGRESS_EVERY_MS);
    every.unref();
  }, PROGRESS_AFTER_MS);
  first.unref();
  return () => {
    clearTimeout(first);
    if (every) clearInterval(every);
    if (drawn) stream.write('\r\x1b[K');
  };
}

/** What a time-budgeted run covered. */
export interface BudgetReport {
  readonly seconds: number;
  /** The budget ran out before the run's planned work was done (some search stopped). */
  readonly stopped: boolean;
  readonly traces: number;
  readonly ops: number;
  /** The exhaustive phase: the least depth every property completed, of the depth asked. */
  readonly depth: { readonly reached: number; readonly of: number } | null;
  readonly cells: { readonly hit: number; readonly reachable: number } | null;
}

export function budgetReport(ms: number, results: readonly PropertyResult[], coverage: Coverage | undefined): BudgetReport {
  const exh = results.flatMap((r) => (r.exhaustive ? [r.exhaustive] : []));
  return {
    seconds: Math.round(ms / 100) / 10,
    stopped: results.some((r) => r.stopped === true),
    traces: results.reduce((a, r) => a + r.runs, 0),
    ops: results.reduce((a, r) => a + r.opsExecuted, 0),
    depth: exh.length ? { reached: Math.min(...exh.map((e) => e.completedDepth)), of: Math.max(...exh.map((e) => e.depth)) } : null,
    cells: coverage ? { hit: coverage.reachable.size - coverage.missed().length, reachable: coverage.reachable.size } : null,
  };
}

export function budgetLine(b: BudgetReport): string {
  return `budget: ${b.seconds} s${b.stopped ? ', ran out' : ', not used up'}: covered ${b.traces} traces, ${b.ops} ops` +
    (b.depth ? `, exhaustive depth ${b.depth.reached} of ${b.depth.of}` : '') +
    (b.cells ? `, ${b.cells.hit} of ${b.cells.reachable} coverage cells` : '') + '\n';
}

// ---------------------------------------------------------------------------------------------
// merge

type Json = Record<string, unknown>;
type Doc = Json & { results?: Json[]; layouts?: (Json & { properties?: Json[] })[]; shard?: { index: number; count: number } };

/**
 * The --json outputs of every shard of one run, as the unsharded run's: for `check` (one
 * configuration or a suite) its results, for `layouts` each layout's two contracts. Per property,
 * the counterexample of the earliest failing run in the seed's sequence (every shard shrinks its
 * own the same way), else a pass with the shards' runs summed. `ops` and `directed` are what the
 * shards executed together.
 */
export function mergeShards(files: readonly string[]): { doc: Json; code: number } {
  if (files.length === 0) throw new InputError('merge: give the --json output files of every shard');
  const docs = files.map((f): Doc => {
    const d = parseJsonText(readText(f), f) as Doc;
    const layouts = typeof d === 'object' && d !== null && Array.isArray(d.layouts);
    if (typeof d !== 'object' || d === null || (!Array.isArray(d.results) && !layouts)) throw new InputError(`${f}: not the --json output of nvconform check or nvconform layouts`);
    if (layouts && !d.layouts!.every((l) => typeof l === 'object' && l !== null && Array.isArray(l.properties))) {
      throw new InputError(`${f}: its layouts carry no per-contract results (made by an older nvconform?): run nvconform layouts --shard I/N --json again`);
    }
    const s = d.shard;
    if (!s || typeof s.index !== 'number' || typeof s.count !== 'number') throw new InputError(`${f}: not a shard's output (run nvconform ${layouts ? 'layouts' : 'check'} --shard I/N --json)`);
    return d;
  });
  const count = docs[0]!.shard!.count;
  const kind = (d: Doc): string => (d.layouts ? 'layouts' : 'check');
  const size = (d: Doc): number => (d.layouts ?? d.results!).length;
  const seen = new Map<number, string>();
  docs.forEach((d, i) => {
    const f = files[i]!;
    if (d.shard!.count !== count) throw new InputError(`${f}: shard ${d.shard!.index}/${d.shard!.count}, but ${files[0]} is of ${count} shards`);
    if (seen.has(d.shard!.index)) throw new InputError(`${f}: shard ${d.shard!.index}/${count} given twice (also ${seen.get(d.shard!.index)})`);
    seen.set(d.shard!.index, f);
    if (kind(d) !== kind(docs[0]!) || d.seed !== docs[0]!.seed || d.suite !== docs[0]!.suite || size(d) !== size(docs[0]!) ||
      JSON.stringify(d.options ?? null) !== JSON.stringify(docs[0]!.options ?? null)) {
      throw new InputError(`${f}: not a shard of the same run as ${files[0]} (command, seed, suite, options or configuration differ)`);
    }
  });
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length) throw new InputError(`merge: shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} missing`);
  return docs[0]!.layouts ? mergeLayouts(docs, files) : mergeChecks(docs);
}

/** One property's result from each shard, as the unsharded run's. */
function mergeResult(rs: readonly Json[]): Json {
  const failing = rs.filter((r) => typeof r.run === 'number').sort((a, b) => (a.run as number) - (b.run as number));
  const sum = (k: string): number => rs.reduce((a, r) => a + (typeof r[k] === 'number' ? (r[k]) : 0), 0);
  let r: Json;
  if (failing.length) r = { ...failing[0]!, runs: (failing[0]!.run as number) + 1 };
  // A verdict every shard reached alike (the exhaustive phase, a static fault, n/a) or a pass: the first shard's, its runs summed.
  else r = { ...rs.find((x) => x.verdict === 'fail') ?? rs[0]!, runs: sum('runs'), directed: sum('directed') };
  if (rs.some((x) => x.stopped === true)) r.stopped = true;
  if ('expect' in r) r.asExpected = (r.verdict === 'fail' ? 'fail' : 'pass') === r.expect;
  return r;
}

function mergeChecks(docs: readonly Doc[]): { doc: Json; code: number } {
  const results = docs[0]!.results!.map((_, j) => mergeResult(docs.map((d) => d.results![j]!)));
  const suite = 'suite' in docs[0]!;
  const verdict = suite ? (results.every((r) => r.asExpected === true) ? 'pass' : 'fail') : results.some((r) => r.verdict === 'fail') ? 'fail' : 'pass';
  const perf = docs.map((d) => (d.performance ?? {}) as { traces?: number; ops?: number });
  const ms = Math.max(...docs.map((d) => (typeof d.ms === 'number' ? d.ms : 0)));
  const { shard: _s, ...first } = docs[0]!;
  const ops = perf.reduce((a, p) => a + (p.ops ?? 0), 0);
  const doc = {
    ...first, verdict, results, ms, merged: docs.length,
    performance: { traces: perf.reduce((a, p) => a + (p.traces ?? 0), 0), ops, opsPerSecond: Math.round(ops / (Math.max(ms, 1) / 1000)) },
  };
  return { doc, code: verdict === 'pass' ? 0 : 1 };
}

/** Each layout's contracts merged, and its verdicts and shown counterexample (deferred's if it fails, else architectural's) taken from them. */
function mergeLayouts(docs: readonly Doc[], files: readonly string[]): { doc: Json; code: number } {
  const layouts = docs[0]!.layouts!.map((l, j) => {
    const entries = docs.map((d) => d.layouts![j]!);
    entries.forEach((e, i) => {
      if (e.name !== l.name || e.guest !== l.guest || e.properties!.length !== l.properties!.length) {
        throw new InputError(`${files[i]}: layout #${j} is ${String(e.name)} (${String(e.guest)}), but ${files[0]} has ${String(l.name)} (${String(l.guest)}): not a shard of the same run`);
      }
    });
    const properties = l.properties!.map((_, k) => mergeResult(entries.map((e) => e.properties![k]!)));
    const contract = (name: string): Json => properties.find((p) => p.property === name) ?? { verdict: null };
    const [architectural, deferred] = [contract('architectural'), contract('deferred')];
    const head = headline({ architectural, deferred });
    const ce = head?.counterexample as { ops?: unknown[] } | null | undefined;
    return {
      ...l, verdicts: { architectural: architectural.verdict, deferred: deferred.verdict },
      counterexampleOps: ce?.ops?.length ?? null, explanation: head?.explanation ?? null, counterexample: ce ?? null, token: head?.token ?? null,
      properties,
    };
  });
  const { shard: _s, ...first } = docs[0]!;
  return { doc: { ...first, layouts, merged: docs.length }, code: 0 };
}
