/** `nvconform check` and `nvconform replay`. */
import { join } from 'node:path';
import { InputError } from '../../models/arch/errors.js';
import type { Layout } from '../../models/arch/layout.js';
import type { Trace } from '../../models/arch/vocabulary.js';
import { packageRoot } from '../../models/layouts/catalogue.js';
import { loadLayout } from '../../models/layouts/load.js';
import { isPropertyName, propertyByName, PROPERTY_NAMES, type PropertyName } from '../../properties/index.js';
import { check, DEFAULT_CHECK_OPTIONS, replayInfo, runDriven, type CheckOptions, type CheckResult, type Driven, type PropertyResult } from '../check/check.js';
import { parseSuite, runSuite, type SuiteResult } from '../check/suite.js';
import { asGenOps } from '../engine/abstract-ops.js';
import { BUILTINS, createImplementation, type Registry } from '../engine/registry.js';
import { referenceRun, Runner } from '../engine/runner.js';
import { checkJson, perfJson, perfLine, perfOf, propertyJson, renderCheck, renderProperty, type ReportOptions } from '../report/check.js';
import { renderReplay } from '../report/replay.js';
import { renderCells } from '../report/coverage.js';
import { table } from '../report/text.js';
import { formatTrace } from '../trace/format.js';
import { parseTraceText } from '../trace/parse.js';
import { decodeToken, encodeToken, isToken } from '../trace/token.js';
import { readText, writeText } from './io.js';
import { checkOutputs, emitReports, NO_REPORTS, suiteOutputs, type ReportFlags } from './reports.js';

export const defaultSuitePath = (): string => join(packageRoot(), 'suites', 'default.json');

/** Write the minimal trace of a failed result: FILE with the architecture's expectations, FILE.observed.json with the implementation's observations. */
function writeOut(path: string, r: PropertyResult): void {
  const ce = r.counterexample;
  if (!ce) return;
  writeText(path, formatTrace({ config: ce.config, ops: ce.ops, observations: ce.expected }));
  writeText(path.replace(/(\.json)?$/, '.observed.json'), formatTrace({ config: ce.config, ops: ce.ops, observations: ce.observed }));
}

export async function checkCommand(o: CheckOptions & { json: boolean; out?: string; reports?: ReportFlags }): Promise<{ text: string; code: number }> {
  const r = await check(o);
  const failed = r.results.find((p) => p.counterexample);
  if (o.out && failed) writeOut(o.out, failed);
  const rep = o.reports ?? NO_REPORTS;
  const text = o.json ? JSON.stringify(checkJson(r, rep), null, 2) + '\n' : renderCheck(r, rep);
  return { text: text + emitReports(rep, checkOutputs(r, rep, 'check'), o.json), code: r.verdict === 'pass' ? 0 : 1 };
}

export async function suiteCommand(
  path: string | undefined, o: Pick<CheckOptions, 'runs' | 'seed' | 'maxOps' | 'stats' | 'depth'> & { json: boolean; out?: string; reports?: ReportFlags },
): Promise<{ text: string; code: number }> {
  const file = path ?? defaultSuitePath();
  const source = readText(file);
  const suite = parseSuite(source, path ?? 'suites/default.json');
  const r = await runSuite(suite, o);
  if (o.out) {
    const firstFail = r.entries.find((e) => e.result.counterexample);
    if (firstFail) writeOut(o.out, firstFail.result);
  }
  const rep = o.reports ?? NO_REPORTS;
  const text = o.json ? JSON.stringify(suiteJson(r, rep), null, 2) + '\n' : renderSuite(r, rep);
  return { text: text + emitReports(rep, suiteOutputs(r, rep, path, source), o.json), code: r.asExpected ? 0 : 1 };
}

function entryConfig(e: SuiteResult['entries'][number]['entry']): string {
  return `${e.impl} ${e.layout}${e.hostEcvTraps ? ' +ecv-traps' : ''} ${e.guest ?? 'vhe+nvhe'}${e.ecv === undefined ? '' : e.ecv ? ' ecv' : ' no-ecv'}`;
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
      guest: e.entry.guest ?? null, ecv: e.entry.ecv ?? null, expect: e.entry.expect, asExpected: e.asExpected, ...propertyJson(e.result) })),
    seed: r.entries[0]?.check.options.seed ?? null,
    ...(o.timing !== false ? { ms: Math.round(r.ms) } : {}),
    performance: perfJson(perf, o),
  };
}

/** Options a replay runs with: from the token, overridden by flags the user gave. */
export interface ReplayFlags {
  readonly impl?: string;
  readonly layout?: string;
  readonly hostEcvTraps?: boolean;
  readonly properties?: readonly PropertyName[];
  readonly timeoutMs?: number;
  readonly json: boolean;
  /** Built-in implementations a token may name. Default BUILTINS. */
  readonly registry?: Registry;
  /** --html, --junit, --reporter, --quiet-timing. Default none. */
  readonly reports?: ReportFlags;
}

function layoutFromToken(x: unknown): Layout | string | undefined {
  if (x === undefined) return undefined;
  if (typeof x === 'string') return x;
  const o = x as { name?: unknown; slots?: unknown };
  if (typeof o?.name !== 'string' || !Array.isArray(o.slots)) throw new InputError('replay token: corrupt layout');
  const slots = new Map<string, number>();
  for (const s of o.slots) {
    if (!Array.isArray(s) || typeof s[0] !== 'string' || typeof s[1] !== 'number') throw new InputError('replay token: corrupt layout slot');
    slots.set(s[0], s[1]);
  }
  return { name: o.name, description: '(from a replay token)', slots, source: 'replay token' };
}

export async function replayCommand(arg: string, f: ReplayFlags): Promise<{ text: string; code: number }> {
  let trace: Trace;
  let x: Record<string, unknown> = {};
  if (isToken(arg)) {
    const d = decodeToken(arg);
    trace = d;
    x = (d.extra ?? {}) as Record<string, unknown>;
  } else trace = parseTraceText(readText(arg), arg);
  const impl = f.impl ?? (typeof x.impl === 'string' ? x.impl : DEFAULT_CHECK_OPTIONS.impl);
  const layoutSpec = f.layout ?? layoutFromToken(x.layout) ?? 'architected';
  const layout = typeof layoutSpec === 'string' ? loadLayout(layoutSpec) : layoutSpec;
  const hostEcvTraps = f.hostEcvTraps ?? (x.hostEcvTraps === true);
  const tokenProp = typeof x.property === 'string' && isPropertyName(x.property) ? [x.property] : undefined;
  const properties = f.properties ?? tokenProp ?? PROPERTY_NAMES;
  // A replayed trace must be valid as written (eret only at vEL2, exit only at vEL1).
  referenceRun(trace);
  const implementation = await createImplementation(impl, { layout, hostEcvTraps, ...(f.timeoutMs !== undefined ? { timeoutMs: f.timeoutMs } : {}) }, f.registry ?? BUILTINS);
  const driven: Driven = { impl: implementation, failure: undefined };
  const opts = { ...DEFAULT_CHECK_OPTIONS, impl, layout, hostEcvTraps, properties };
  const results: PropertyResult[] = [];
  const t0 = performance.now();
  try {
    for (const name of properties) {
      const p = propertyByName(name);
      const runner = new Runner(implementation, { property: p });
      const rc = runner.runContext(trace.config);
      const na = p.inapplicable?.(rc);
      if (na) {
        results.push({ property: name, verdict: 'n/a', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation: na });
        continue;
      }
      runner.record = true;
      const out = await runDriven(driven, runner, trace.config, asGenOps(trace.ops));
      runner.record = false;
      const staticFault = p.staticCheck?.(rc);
      const failed = !!out.violation || !!staticFault;
      results.push({
        property: name, verdict: failed ? 'fail' : 'pass', runs: 1, shrinks: 0, opsExecuted: out.ops.length, ms: 0,
        ...(out.violation ? { counterexample: out, token: encodeToken({ config: trace.config, ops: out.ops }, replayInfo(opts, layout, name)) } : {}),
        ...(failed ? { explanation: [staticFault, out.violation?.explanation].filter(Boolean).join('; ') } : {}),
      });
    }
  } finally {
    await implementation.close?.();
  }
  const res: CheckResult = { verdict: results.some((r) => r.verdict === 'fail') ? 'fail' : 'pass', results, options: opts, layout, ms: performance.now() - t0 };
  const rep = f.reports ?? NO_REPORTS;
  const text = f.json ? JSON.stringify(checkJson(res, rep), null, 2) + '\n' : renderReplay(trace, res, rep);
  return { text: text + emitReports(rep, checkOutputs(res, rep, 'replay'), f.json), code: res.verdict === 'pass' ? 0 : 1 };
}

