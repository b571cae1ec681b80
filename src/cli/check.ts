/** `nvconform check` and `nvconform replay`. */
import { join } from 'node:path';
import type { Trace } from '../../models/arch/vocabulary.js';
import { packageRoot } from '../../models/layouts/catalogue.js';
import { loadLayout } from '../../models/layouts/load.js';
import { isPropertyName, PROPERTY_NAMES, type PropertyName } from '../../properties/index.js';
import { check, type CheckOptions, type PropertyResult } from '../check/check.js';
import { hostFromToken, layoutFromToken, replayImplementation, replayTrace, shellQuote } from '../check/replay.js';
import { parseSuite, runSuite, type SuiteResult } from '../check/suite.js';
import { BUILTINS, type HostOptions, type Registry } from '../engine/registry.js';
import { checkJson, perfJson, perfLine, perfOf, propertyJson, renderCheck, renderProperty, type ReportOptions } from '../report/check.js';
import { renderReplay, replayJson } from '../report/replay.js';
import { renderCells } from '../report/coverage.js';
import { table } from '../report/text.js';
import { formatTrace } from '../trace/format.js';
import { parseTraceText } from '../trace/parse.js';
import { decodeToken, isToken } from '../trace/token.js';
import { readText, writeText } from './io.js';
import type { Shard } from '../check/executor.js';
import type { Coverage } from '../check/stats.js';
import { budgetLine, budgetReport } from './scale.js';
import { checkOutputs, emitReports, NO_REPORTS, suiteOutputs, type ReportFlags } from './reports.js';

export const defaultSuitePath = (): string => join(packageRoot(), 'suites', 'default.json');

/**
 * --out FILE: every counterexample of the run, numbered: the first to FILE, the n-th to FILE.n
 * (before a final .json: ce.json, ce.2.json, ...); each with its implementation's observations
 * beside it (.json replaced by, or else followed by, .observed.json).
 */
export function outPaths(path: string, n: number): { expected: string; observed: string } {
  const expected = n === 1 ? path : /\.json$/i.test(path) ? path.replace(/\.json$/i, `.${n}.json`) : `${path}.${n}`;
  return { expected, observed: expected.replace(/(\.json)?$/i, '.observed.json') };
}

interface Written {
  readonly file: string;
  readonly observed: string;
  readonly property: string;
  readonly entry?: string;
}

/** Write each result's counterexample (those with one), numbered; what was written. */
function writeOut(path: string, failures: readonly { result: PropertyResult; entry?: string }[]): Written[] {
  const written: Written[] = [];
  for (const { result, entry } of failures) {
    const ce = result.counterexample;
    if (!ce) continue;
    const { expected, observed } = outPaths(path, written.length + 1);
    writeText(expected, formatTrace({ config: ce.config, ops: ce.ops, observations: ce.expected }));
    // The implementation's observations, as far as it answered (none for an op it failed on).
    writeText(observed, formatTrace({ config: ce.config, ops: ce.ops, ...(ce.observed.length === ce.ops.length ? { observations: ce.observed } : {}) }));
    written.push({ file: expected, observed, property: result.property, ...(entry !== undefined ? { entry } : {}) });
  }
  return written;
}

/** What --out did, one line per counterexample written (text mode). */
function outLines(written: readonly Written[]): string {
  if (written.length === 0) return '--out: no counterexample, nothing written\n';
  return written.map((w) => `--out: wrote ${w.file} (expected observations) and ${w.observed} (the implementation's): ${w.entry !== undefined ? `${w.entry}, ` : ''}${w.property}\n`).join('');
}

/** What a scaled run adds to its report: the shard it ran, the time budget it had. */
export interface ScaleReport {
  readonly shard?: Shard;
  /** The time budget, in ms (--time). */
  readonly budgetMs?: number;
}

const scaleJson = (s: ScaleReport, ms: number, results: readonly PropertyResult[], coverage: Coverage | undefined): Record<string, unknown> => ({
  ...(s.shard ? { shard: s.shard } : {}), ...(s.budgetMs !== undefined ? { budget: { ...budgetReport(ms, results, coverage), seconds: s.budgetMs / 1000 } } : {}),
});
const scaleText = (s: ScaleReport, ms: number, results: readonly PropertyResult[], coverage: Coverage | undefined): string =>
  (s.shard ? `shard: ${s.shard.index}/${s.shard.count} of each property's random traces; nvconform merge puts the shards' --json outputs together\n` : '') +
  (s.budgetMs !== undefined ? budgetLine({ ...budgetReport(ms, results, coverage), seconds: s.budgetMs / 1000 }) : '');

export async function checkCommand(o: CheckOptions & ScaleReport & { json: boolean; out?: string; reports?: ReportFlags }): Promise<{ text: string; code: number }> {
  const r = await check(o);
  const written = o.out ? writeOut(o.out, r.results.map((result) => ({ result }))) : undefined;
  const rep = o.reports ?? NO_REPORTS;
  const text = o.json
    ? JSON.stringify({ ...checkJson(r, rep), ...scaleJson(o, r.ms, r.results, r.coverage), ...(written ? { out: written } : {}) }, null, 2) + '\n'
    : renderCheck(r, rep) + scaleText(o, r.ms, r.results, r.coverage) + (written ? outLines(written) : '');
  return { text: text + emitReports(rep, checkOutputs(r, rep, 'check'), o.json), code: r.verdict === 'pass' ? 0 : 1 };
}

export async function suiteCommand(
  path: string | undefined, o: Pick<CheckOptions, 'runs' | 'seed' | 'maxOps' | 'stats' | 'depth' | 'registry' | 'executor'> & ScaleReport & { json: boolean; out?: string; reports?: ReportFlags },
): Promise<{ text: string; code: number }> {
  const file = path ?? defaultSuitePath();
  const source = readText(file);
  const suite = parseSuite(source, path ?? 'suites/default.json', o.registry ?? BUILTINS);
  const r = await runSuite(suite, o);
  const written = o.out ? writeOut(o.out, r.entries.map((e, i) => ({ result: e.result, entry: `#${i} ${e.entry.name}` }))) : undefined;
  const rep = o.reports ?? NO_REPORTS;
  const text = o.json
    ? JSON.stringify({ ...suiteJson(r, rep), ...scaleJson(o, r.ms, r.entries.map((e) => e.result), r.coverage), ...(written ? { out: written } : {}) }, null, 2) + '\n'
    : renderSuite(r, rep) + scaleText(o, r.ms, r.entries.map((e) => e.result), r.coverage) + (written ? outLines(written) : '');
  return { text: text + emitReports(rep, suiteOutputs(r, rep, path, source), o.json), code: r.asExpected ? 0 : 1 };
}

function entryConfig(e: SuiteResult['entries'][number]['entry']): string {
  const host = `${e.host && e.host !== 'exact' ? ` host=${e.host}` : ''}${e.hostCpu ? ` cpu=${e.hostCpu.join(',') || 'none'}` : ''}`;
  return `${e.impl} ${e.layout}${e.hostEcvTraps ? ' +ecv-traps' : ''}${host} ${e.guest ?? 'vhe+nvhe'}${e.ecv === undefined ? '' : e.ecv ? ' ecv' : ' no-ecv'}`;
}

export function renderSuite(r: SuiteResult, o: ReportOptions = {}): string {
  let s = `nvconform check: suite ${r.suite.name}\n\n`;
  const rows = r.entries.map((e, i) => [
    String(i), e.entry.name, entryConfig(e.entry), e.entry.property, e.entry.expect, e.result.verdict,
    e.asExpected ? (e.result.verdict === 'fail' ? 'expected failure' : 'ok') : e.entry.expect === 'fail' ? 'UNEXPECTED PASS' : 'UNEXPECTED FAIL',
  ]);
  s += table(['#', 'configuration', 'impl / layout / guest', 'property', 'expect', 'got', 'status'], rows);
  for (const [i, e] of r.entries.entries()) {
    if (e.result.verdict !== 'fail') continue;
    s += `\n#${i} ${e.entry.name} (${e.entry.property}${e.asExpected ? ', expected' : ', NOT expected'}): ${e.entry.why}\n`;
    s += renderProperty(e.result, e.check);
  }
  if (r.coverage) s += '\n' + renderCells(r.coverage);
  const unexpected = r.entries.filter((e) => !e.asExpected).length;
  s += `\nverdict: ${r.asExpected ? 'every verdict as expected' : `${unexpected} verdict${unexpected === 1 ? '' : 's'} NOT as expected`}\n`;
  s += perfLine(perfOf(r.entries.map((e) => e.result), r.ms), o);
  return s;
}

function suiteJson(r: SuiteResult, o: ReportOptions = {}): Record<string, unknown> {
  const perf = perfOf(r.entries.map((e) => e.result), r.ms);
  return {
    verdict: r.asExpected ? 'pass' : 'fail',
    suite: r.suite.name,
    results: r.entries.map((e) => ({ name: e.entry.name, impl: e.entry.impl, layout: e.entry.layout, hostEcvTraps: e.entry.hostEcvTraps,
      ...(e.entry.host ? { host: e.entry.host } : {}), ...(e.entry.hostCpu ? { hostCpu: e.entry.hostCpu } : {}),
      guest: e.entry.guest ?? null, ecv: e.entry.ecv ?? null, expect: e.entry.expect, asExpected: e.asExpected, ...propertyJson(e.result) })),
    seed: r.entries[0]?.check.options.seed ?? null,
    ...(r.coverage ? { coverage: r.coverage.toJSON() } : {}),
    ...(o.timing !== false ? { ms: Math.round(r.ms) } : {}),
    performance: perfJson(perf, o),
  };
}

/** Options a replay runs with: from the token, overridden by flags the user gave. */
export interface ReplayFlags {
  readonly impl?: string;
  readonly layout?: string;
  readonly hostEcvTraps?: boolean;
  readonly host?: HostOptions;
  readonly properties?: readonly PropertyName[];
  readonly timeoutMs?: number;
  readonly json: boolean;
  /** Built-in implementations a token may name. Default BUILTINS. */
  readonly registry?: Registry;
  /** --html, --junit, --reporter, --quiet-timing. Default none. */
  readonly reports?: ReportFlags;
}

export { hostFromToken, layoutFromToken, replayImplementation, shellQuote };

export async function replayCommand(arg: string, f: ReplayFlags): Promise<{ text: string; code: number }> {
  let trace: Trace;
  let x: Record<string, unknown> = {};
  if (isToken(arg)) {
    const d = decodeToken(arg);
    trace = d;
    x = (d.extra ?? {}) as Record<string, unknown>;
  } else trace = parseTraceText(readText(arg), arg);
  const registry = f.registry ?? BUILTINS;
  const impl = replayImplementation(f.impl, x.impl, registry);
  const layout = f.layout !== undefined ? loadLayout(f.layout) : layoutFromToken(x.layout) ?? loadLayout('architected');
  const hostEcvTraps = f.hostEcvTraps ?? (x.hostEcvTraps === true);
  const host = f.host ?? hostFromToken(x.host);
  const tokenProp = typeof x.property === 'string' && isPropertyName(x.property) ? [x.property] : undefined;
  const properties = f.properties ?? tokenProp ?? PROPERTY_NAMES;
  const r = await replayTrace(trace, { impl, registry, layout, hostEcvTraps, properties, ...(host ? { host } : {}), ...(f.timeoutMs !== undefined ? { timeoutMs: f.timeoutMs } : {}) });
  const rep = f.reports ?? NO_REPORTS;
  const text = f.json ? JSON.stringify(replayJson(r, rep), null, 2) + '\n' : renderReplay(trace, r, rep);
  return { text: text + emitReports(rep, checkOutputs(r.check, rep, 'replay'), f.json), code: r.check.verdict === 'pass' ? 0 : 1 };
}
