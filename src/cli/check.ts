/** `nvconform check` and `nvconform replay`. */
import { join } from 'node:path';
import { ImplementationError, InputError } from '../../models/arch/errors.js';
import type { Implementation } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import type { Expectation, Observation, Trace } from '../../models/arch/vocabulary.js';
import { catalogueNames, packageRoot } from '../../models/layouts/catalogue.js';
import { LAYOUT_FORMAT, parseLayoutText } from '../../models/layouts/file.js';
import { loadLayout } from '../../models/layouts/load.js';
import { isPropertyName, propertyByName, PROPERTY_NAMES, type PropertyName } from '../../properties/index.js';
import { check, DEFAULT_CHECK_OPTIONS, replayInfo, type CheckOptions, type CheckResult, type PropertyResult } from '../check/check.js';
import { parseSuite, runSuite, type SuiteResult } from '../check/suite.js';
import { BUILTINS, createImplementation, type HostOptions, type Registry } from '../engine/registry.js';
import { HOST_FEATURE_NAMES, type HostFeature } from '../../models/arch/implementation.js';
import { isHostProfile } from '../../models/nv2/host/policy.js';
import { opText, Runner, runOps, validateTrace } from '../engine/runner.js';
import { checkJson, configLine, hostText, perfLine, perfOf, propertyJson, renderCheck, renderProperty, traceTable } from '../report/check.js';
import { renderCells } from '../report/coverage.js';
import { obsText, table } from '../report/text.js';
import { agrees } from '../trace/compare.js';
import { formatTrace, observationJson } from '../trace/format.js';
import { parseTraceText } from '../trace/parse.js';
import { decodeToken, encodeToken, isToken } from '../trace/token.js';
import { oneLine } from '../plugins/common.js';
import { readText, writeText } from './io.js';

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

export async function checkCommand(o: CheckOptions & { json: boolean; out?: string }): Promise<{ text: string; code: number }> {
  const r = await check(o);
  const written = o.out ? writeOut(o.out, r.results.map((result) => ({ result }))) : undefined;
  const text = o.json
    ? JSON.stringify({ ...checkJson(r), ...(written ? { out: written } : {}) }, null, 2) + '\n'
    : renderCheck(r) + (written ? outLines(written) : '');
  return { text, code: r.verdict === 'pass' ? 0 : 1 };
}

export async function suiteCommand(
  path: string | undefined, o: Pick<CheckOptions, 'runs' | 'seed' | 'maxOps' | 'stats' | 'depth' | 'registry'> & { json: boolean; out?: string },
): Promise<{ text: string; code: number }> {
  const file = path ?? defaultSuitePath();
  const suite = parseSuite(readText(file), path ?? 'suites/default.json', o.registry ?? BUILTINS);
  const r = await runSuite(suite, o);
  const written = o.out ? writeOut(o.out, r.entries.map((e, i) => ({ result: e.result, entry: `#${i} ${e.entry.name}` }))) : undefined;
  const text = o.json
    ? JSON.stringify({ ...suiteJson(r), ...(written ? { out: written } : {}) }, null, 2) + '\n'
    : renderSuite(r) + (written ? outLines(written) : '');
  return { text, code: r.asExpected ? 0 : 1 };
}

function entryConfig(e: SuiteResult['entries'][number]['entry']): string {
  const host = `${e.host && e.host !== 'exact' ? ` host=${e.host}` : ''}${e.hostCpu ? ` cpu=${e.hostCpu.join(',') || 'none'}` : ''}`;
  return `${e.impl} ${e.layout}${e.hostEcvTraps ? ' +ecv-traps' : ''}${host} ${e.guest ?? 'vhe+nvhe'}${e.ecv === undefined ? '' : e.ecv ? ' ecv' : ' no-ecv'}`;
}

export function renderSuite(r: SuiteResult): string {
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
  s += perfLine(perfOf(r.entries.map((e) => e.result), r.ms));
  return s;
}

function suiteJson(r: SuiteResult): Record<string, unknown> {
  const perf = perfOf(r.entries.map((e) => e.result), r.ms);
  return {
    verdict: r.asExpected ? 'pass' : 'fail',
    suite: r.suite.name,
    results: r.entries.map((e) => ({ name: e.entry.name, impl: e.entry.impl, layout: e.entry.layout, hostEcvTraps: e.entry.hostEcvTraps,
      ...(e.entry.host ? { host: e.entry.host } : {}), ...(e.entry.hostCpu ? { hostCpu: e.entry.hostCpu } : {}),
      guest: e.entry.guest ?? null, ecv: e.entry.ecv ?? null, expect: e.entry.expect, asExpected: e.asExpected, ...propertyJson(e.result) })),
    seed: r.entries[0]?.check.options.seed ?? null,
    ...(r.coverage ? { coverage: r.coverage.toJSON() } : {}),
    ms: Math.round(r.ms),
    performance: { traces: perf.traces, ops: perf.ops, opsPerSecond: Math.round(perf.ops / (Math.max(perf.ms, 1) / 1000)) },
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
}

/**
 * A layout carried by a replay token: a catalogue name, or the layout itself as data (name and
 * slots), checked like a layout file. A token never names a file: it is data from a CI log or a
 * bug report, and nothing in it is read from, or run on, this machine.
 */
export function layoutFromToken(x: unknown): Layout | undefined {
  if (x === undefined) return undefined;
  if (typeof x === 'string') {
    if (!catalogueNames().includes(x)) {
      throw new InputError(`replay token: layout ${JSON.stringify(oneLine(x).slice(0, 60))} is not a catalogue layout (${catalogueNames().join(', ')}); a token names a catalogue layout or carries its slots, never a file`);
    }
    return loadLayout(x);
  }
  const o = x as { name?: unknown; slots?: unknown };
  if (typeof o?.name !== 'string' || !Array.isArray(o.slots)) throw new InputError('replay token: corrupt layout');
  const slots: { reg: unknown; offset: unknown }[] = [];
  for (const s of o.slots) {
    if (!Array.isArray(s) || s.length !== 2 || typeof s[0] !== 'string' || typeof s[1] !== 'number') throw new InputError('replay token: corrupt layout slot');
    slots.push({ reg: s[0], offset: s[1] });
  }
  // The same checks as a layout file's (register names, offsets inside the page, no shared slot).
  const doc = JSON.stringify({ format: LAYOUT_FORMAT, name: o.name, allowArchitectedOffsets: true, slots });
  const parsed = parseLayoutText(doc, 'replay token');
  return { ...parsed, description: '(from a replay token)', source: 'replay token' };
}

/** A word single-quoted for a POSIX shell, control characters shown as escapes so that the message stays one line. */
export function shellQuote(s: string): string {
  const visible = s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `'${visible.replace(/'/g, `'\\''`)}'`;
}

/**
 * The implementation a replay runs: the one named on the command line; else the token's, only if
 * it is a built-in name; else nv2. A token that names anything else (a process, a module path) is
 * refused with the command that would run it: a token is data, never a command.
 */
export function replayImplementation(flag: string | undefined, fromToken: unknown, registry: Registry): string {
  if (flag !== undefined) return flag;
  if (fromToken === undefined) return DEFAULT_CHECK_OPTIONS.impl;
  if (typeof fromToken !== 'string') throw new InputError('replay token: corrupt (impl is not a string)');
  if (registry.has(fromToken)) return fromToken;
  const shown = shellQuote(fromToken);
  throw new InputError(`replay: this token was made with the implementation ${shown}; to run it, name it yourself: nvconform replay TOKEN --impl ${shown}`);
}

/** Traces longer than this are replayed keeping only the last REPLAY_WINDOW ops of each run for the report, and get no token. */
export const REPLAY_FULL_OPS = 10_000;
export const REPLAY_WINDOW = 40;

/** The first op where an implementation's observations differ from a trace's own, if any. */
interface ObservationsCheck {
  readonly ops: number;
  readonly mismatch?: { readonly index: number; readonly want: Observation | Expectation; readonly got: Observation };
}

/** The host a token names (profile, CPU features, counter offset), every field checked. */
export function hostFromToken(x: unknown): HostOptions | undefined {
  if (x === undefined) return undefined;
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new InputError('replay token: corrupt host');
  const o = x as Record<string, unknown>;
  const { profile, cpu, counterOffset } = o;
  if (profile !== undefined && (typeof profile !== 'string' || !isHostProfile(profile))) throw new InputError('replay token: corrupt host profile');
  if (cpu !== undefined && (!Array.isArray(cpu) || !cpu.every((f) => typeof f === 'string' && HOST_FEATURE_NAMES.includes(f as HostFeature)))) {
    throw new InputError('replay token: corrupt host CPU');
  }
  if (counterOffset !== undefined && (typeof counterOffset !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(counterOffset))) throw new InputError('replay token: corrupt counter offset');
  return {
    ...(profile !== undefined ? { profile } : {}), ...(cpu !== undefined ? { cpu: cpu as HostFeature[] } : {}),
    ...(counterOffset !== undefined ? { counterOffset: BigInt(counterOffset) } : {}),
  };
}

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
  // A replayed trace must be valid as written (eret only at vEL2, exit only at vEL1).
  validateTrace(trace);
  const long = trace.ops.length > REPLAY_FULL_OPS;
  const window = long ? { window: REPLAY_WINDOW } : {};
  const opts = { ...DEFAULT_CHECK_OPTIONS, impl, layout, hostEcvTraps, properties, ...(host ? { host } : {}) };
  const results: PropertyResult[] = [];
  let observations: ObservationsCheck | undefined;
  const t0 = performance.now();
  let implementation: Implementation | undefined;
  try {
    implementation = await createImplementation(impl, {
      layout, hostEcvTraps, ...(f.timeoutMs !== undefined ? { timeoutMs: f.timeoutMs } : {}), ...(host ? { host } : {}),
    }, registry);
  } catch (e) {
    // An implementation that fails while being made fails every property, with a report.
    if (!(e instanceof ImplementationError)) throw e;
    for (const property of properties) results.push({ property, verdict: 'fail', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation: `the implementation failed before any trace: ${e.message}` });
  }
  if (implementation) {
    try {
      for (const name of properties) {
        const p = propertyByName(name);
        const runner = new Runner(implementation, { property: p, ...window });
        const rc = runner.runContext(trace.config);
        const na = p.inapplicable?.(rc);
        if (na) {
          results.push({ property: name, verdict: 'n/a', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation: na });
          continue;
        }
        runner.record = true;
        const out = await runOps(runner, trace.config, trace.ops);
        runner.record = false;
        const executed = (out.first ?? 0) + out.ops.length;
        const staticFault = p.staticCheck?.(rc);
        const failed = !!out.violation || !!staticFault;
        // The counterexample is the trace up to the failing op.
        const prefix = out.violation ? trace.ops.slice(0, out.violation.index + 1) : [];
        results.push({
          property: name, verdict: failed ? 'fail' : 'pass', runs: 1, shrinks: 0, opsExecuted: executed, ms: 0,
          ...(out.violation ? { counterexample: out, ...(long ? {} : { token: encodeToken({ config: trace.config, ops: prefix }, replayInfo(opts, layout, name)) }) } : {}),
          ...(failed ? { explanation: [staticFault, out.violation?.explanation].filter(Boolean).join('; ') } : {}),
        });
      }
      const want = trace.observations;
      if (want) {
        // The trace's own observations, compared with what the implementation answers (the trace format's rule).
        let mismatch: ObservationsCheck['mismatch'];
        const runner = new Runner(implementation, {
          ...window,
          observe: (c) => {
            if (!mismatch && !agrees(want[c.index]!, c.obs)) mismatch = { index: c.index, want: want[c.index]!, got: c.obs };
          },
        });
        const out = await runOps(runner, trace.config, trace.ops);
        observations = { ops: (out.first ?? 0) + out.ops.length - (out.failure ? 1 : 0), ...(mismatch ? { mismatch } : {}) };
      }
    } finally {
      await implementation.close?.();
    }
  }
  const verdict = results.some((r) => r.verdict === 'fail') || observations?.mismatch ? 'fail' : 'pass';
  const res: CheckResult = { verdict, results, options: opts, layout, ms: performance.now() - t0 };
  if (f.json) {
    const j = checkJson(res);
    const obsJson = observations && {
      verdict: observations.mismatch ? 'fail' : 'pass', ops: observations.ops,
      divergentOp: observations.mismatch?.index ?? null,
      expected: observations.mismatch ? observationJson(observations.mismatch.want) : null,
      observed: observations.mismatch ? observationJson(observations.mismatch.got) : null,
    };
    return { text: JSON.stringify({ ...j, ...(obsJson ? { observations: obsJson } : {}) }, null, 2) + '\n', code: verdict === 'pass' ? 0 : 1 };
  }
  let s = `nvconform replay: ${trace.ops.length} ops; ${configLine(trace.config)}; ${impl}, layout ${layout.name}, host-ecv-traps ${hostEcvTraps ? 'on' : 'off'}${hostText(host)}\n\n`;
  for (const r of results) {
    if (r.verdict === 'fail' && r.counterexample) {
      s += `x ${r.property}: FAIL at op #${r.counterexample.violation!.index}\n` + traceTable(r.counterexample) + `  why      ${r.explanation}\n\n`;
    } else s += renderProperty(r, res) + '\n';
  }
  if (observations) {
    const m = observations.mismatch;
    s += m
      ? `x observations: FAIL at op #${m.index} (${opText(trace.ops[m.index]!)}): the trace has ${obsText(m.want)}, ${impl} gave ${obsText(m.got)}\n\n`
      : `+ observations: ${impl} agrees with the trace's own observations (${observations.ops} ops)\n\n`;
  }
  s += `verdict: ${res.verdict}\n` + perfLine(perfOf(results, res.ms));
  return { text: s, code: res.verdict === 'pass' ? 0 : 1 };
}
