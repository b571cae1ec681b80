/** Rendering check results: a report a person can read, and the `--json` document. */
import { hex } from '../../models/arch/bits.js';
import { HOST_FEATURES } from '../../models/arch/implementation.js';
import { POLICIES } from '../../models/nv2/host/policy.js';
import { offerable } from '../../models/nv2/model.js';
import { propertyByName } from '../../properties/index.js';
import type { CheckResult, ExhaustiveSummary, PropertyResult } from '../check/check.js';
import type { Outcome } from '../engine/runner.js';
import { observationJson, traceJson } from '../trace/format.js';
import { renderCoverage } from './coverage.js';
import { describeActions } from './describe.js';
import { obsText, opCells, table } from './text.js';

/** The host options that differ from the default, as `, host kvm, host-cpu vhe,nv2p1, counter offset 0x10`. */
export function hostText(h: CheckResult['options']['host']): string {
  if (!h) return '';
  return `${h.profile ? `, host ${h.profile}` : ''}${h.cpu ? `, host-cpu ${h.cpu.join(',') || 'none'}` : ''}${h.counterOffset ? `, counter offset ${hex(h.counterOffset)}` : ''}`;
}

/**
 * FEAT_ECV of the virtual CPUs judged: as pinned, else with and without — unless the host cannot
 * offer it (a physical CPU without it, or a profile that hides it), then only without.
 */
export function judgedEcv(o: { readonly ecv?: boolean; readonly host?: CheckResult['options']['host'] }): boolean | undefined {
  if (o.ecv !== undefined) return o.ecv;
  return offerable(o.host?.cpu ?? HOST_FEATURES, POLICIES[o.host?.profile ?? 'exact']).includes('ecv') ? undefined : false;
}

export function implLine(r: Pick<CheckResult, 'options' | 'layout'>): string {
  const o = r.options;
  return `${o.impl}, layout ${r.layout.name}, host-ecv-traps ${o.hostEcvTraps ? 'on' : 'off'}${hostText(o.host)}`;
}

export function configLine(o: Outcome['config']): string {
  const init = Object.entries(o.init).map(([k, v]) => `${k}=${hex(v)}`).join(', ');
  const absent = o.absent?.length ? `, absent [${o.absent.join(',')}]` : '';
  return `guest ${o.guest}, features [${o.features.join(',')}]${absent}, count ${hex(o.count)}${init ? `, init {${init}}` : ''}`;
}

/** The trace as a table: index, EL, op, register, value, expected, observed, hardware; `>` marks the divergent op. */
export function traceTable(o: Outcome, indent = '  '): string {
  const bad = o.violation?.index;
  // A run recorded through a window (a very long trace) holds its last ops only, from o.first.
  const first = o.first ?? 0;
  const rows = o.ops.map((op, k) => {
    const i = first + k;
    const [kind, reg, value] = opCells(op);
    const d = o.details[k];
    return [
      (i === bad ? '>' : ' ') + String(i), o.els[k] ? `vEL${o.els[k]}` : '', kind, reg, value,
      o.expected[k] ? obsText(o.expected[k]) : '', o.observed[k] ? obsText(o.observed[k]) : '(no answer)', d ? describeActions(d) : '',
    ];
  });
  if (bad !== undefined && bad >= first + o.ops.length) rows.push(['>' + String(bad), '', first + o.ops.length === 0 && !o.between ? '(reset failed)' : '(implementation failed)', '', '', '', '', '']);
  const skipped = first > 0 ? `${indent}(ops #0 to #${first - 1} not shown)\n` : '';
  return skipped + table([' #', 'EL', 'op', 'reg', 'value', 'expected', 'observed', 'hardware'], rows)
    .split('\n').map((l) => (l ? indent + l : l)).join('\n');
}

const ecvWords = (ecv: boolean | undefined): string => (ecv === undefined ? 'with and without' : ecv ? 'on' : 'off');

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** How the exhaustive phase returned to a state, for a search whose states were not merged. */
const HOW_ENTERED: Readonly<Record<ExhaustiveSummary['mode'], string>> = {
  snapshots: 'states restored from snapshots',
  replay: 'explored by replaying prefixes: no save/restore',
};

/** The exhaustive phase's claim, in words: `every trace of ≤ 2 ops over nvconform-alphabet/1 (6 families, 4 configs): 37840 traces, 9087 states`. */
export function scopeText(e: ExhaustiveSummary): string {
  return `every trace of ≤ ${plural(e.completedDepth, e.unit)} over ${e.alphabet} (${plural(e.families, 'family').replace('familys', 'families')}, ${plural(e.roots, 'config')}): ` +
    `${e.traces} traces, ${e.states} states${e.merged ? '' : ` (not merged: no state keys; ${HOW_ENTERED[e.mode]})`}`;
}

export function renderProperty(r: PropertyResult, c: Pick<CheckResult, 'options' | 'layout'>): string {
  if (r.verdict === 'n/a') return `- ${r.property}: n/a (${r.explanation})\n`;
  const e = r.exhaustive;
  if (r.verdict === 'pass') {
    const random = r.directed ? `${plural(r.directed, 'directed trace')} and ${plural(r.runs - r.directed, 'random trace')}` : plural(r.runs, 'random trace');
    if (r.phase === 'replay') return `+ ${r.property}: pass (the trace, ${plural(r.opsExecuted, 'op')})\n`;
    return e ? `+ ${r.property}: pass: no counterexample among ${scopeText(e)}; then ${random}\n` : `+ ${r.property}: pass (${random})\n`;
  }
  let s = `x ${r.property}: FAIL`;
  const ce = r.counterexample;
  if (!ce) return s + `\n  why      ${r.explanation}\n`;
  if (r.phase === 'exhaustive' && e) {
    const ops = plural(ce.ops.length, 'op');
    s += r.reproducible === false
      ? ` in the exhaustive phase: trace of ${ops} (not reproducible)\n`
      : ` in the exhaustive phase: a shortest counterexample, ${ops} (${e.completedDepth ? `none among ${scopeText(e)}` : ce.ops.length ? 'the first op' : 'the reset'})\n`;
  } else {
    const ops = plural(ce.ops.length, 'op');
    s += ` after ${r.runs} trace${r.runs === 1 ? '' : 's'} (${r.shrinks} shrinks): ${r.reproducible === false ? `trace of ${ops} (not reproducible)` : `minimal trace of ${ops}`}\n`;
    if (e) s += `  scope    no counterexample among ${scopeText(e)}\n`;
  }
  s += `  property ${r.property}: ${propertyByName(r.property).summary}\n`;
  s += `  config   ${configLine(ce.config)}\n`;
  s += `  impl     ${implLine(c)}\n`;
  s += traceTable(ce);
  s += `  why      ${r.explanation}\n`;
  if (r.reproducible === false) s += `  note     not reproducible: shown as first observed (a rerun of this trace did not fail the same way)\n`;
  s += `  seed     ${c.options.seed}\n`;
  s += `  replay   nvconform replay ${r.token}${replayFlags(c)}\n`;
  if (r.sideFailure) {
    s += `  also     while shrinking, on a trace of ${r.sideFailure.outcome.ops.length} ops: ${r.sideFailure.explanation}\n`;
    s += `           nvconform replay ${r.sideFailure.token}${replayFlags(c)}\n`;
  }
  return s;
}

/** `--impl SPEC` for a token made with an external implementation: replay runs only what the user names. */
function replayFlags(c: Pick<CheckResult, 'options'>): string {
  const impl = c.options.impl;
  return /^[A-Za-z0-9_-]+$/.test(impl) ? '' : ` --impl '${impl.replace(/'/g, `'\\''`)}'`;
}

export interface Perf {
  readonly traces: number;
  readonly ops: number;
  readonly ms: number;
}

export const perfOf = (results: readonly PropertyResult[], ms: number): Perf => ({
  traces: results.reduce((a, r) => a + r.runs + r.shrinks, 0),
  ops: results.reduce((a, r) => a + r.opsExecuted, 0),
  ms,
});

/** Options of the text and JSON reports. */
export interface ReportOptions {
  /** Print timing figures (ms, traces/s, ops/s); false: none, so that the output is byte-identical for a seed. Default true. */
  readonly timing?: boolean;
}

export function perfLine(p: Perf, o: ReportOptions = {}): string {
  if (o.timing === false) return `performance: ${p.traces} traces, ${p.ops} ops stepped on both models\n`;
  const s = Math.max(p.ms, 1) / 1000;
  return `performance: ${p.traces} traces, ${p.ops} ops stepped on both models in ${p.ms.toFixed(0)} ms: ` +
    `${Math.round(p.traces / s)} traces/s, ${Math.round(p.ops / s)} ops/s\n`;
}

export function renderCheck(r: CheckResult, o: ReportOptions = {}): string {
  const ex = r.options.exclude?.length ? `; excluding ${r.options.exclude.join(', ')}` : '';
  let s = `nvconform check: ${implLine(r)}; guest ${r.options.guest ?? 'vhe+nvhe'}; ecv ${ecvWords(judgedEcv(r.options))}${ex}; ` +
    `${Number.isFinite(r.options.runs) ? r.options.runs : 'as many as the time budget allows:'} traces of up to ${r.options.maxOps} ops per property; seed ${r.options.seed}\n` +
    (r.notes ?? []).map((n) => `note: ${n}\n`).join('') + '\n';
  for (const p of r.results) s += renderProperty(p, r) + '\n';
  s += table(['property', 'verdict', 'traces', 'shrinks', 'ops'], r.results.map((p) => [p.property, p.verdict, String(p.runs), String(p.shrinks), String(p.opsExecuted)]));
  if (r.coverage) s += '\n' + renderCoverage(r.coverage);
  s += `\nverdict: ${r.verdict}\n`;
  s += perfLine(perfOf(r.results, r.ms), o);
  return s;
}

/** The counterexample as a trace document with the implementation's observations (none if it failed before answering every op). */
export function counterexampleJson(ce: Outcome): Record<string, unknown> | null {
  if ((ce.first ?? 0) > 0) return null; // recorded through a window: the trace file itself is the counterexample
  const complete = ce.observed.length === ce.ops.length;
  return traceJson({ config: ce.config, ops: ce.ops, ...(complete ? { observations: ce.observed } : {}) });
}

export function propertyJson(p: PropertyResult): Record<string, unknown> {
  return {
    property: p.property,
    verdict: p.verdict,
    runs: p.runs,
    directed: p.directed ?? 0,
    counterexample: p.counterexample ? counterexampleJson(p.counterexample) : null,
    token: p.token ?? null,
    explanation: p.explanation ?? null,
    ...(p.counterexample ? {
      divergentOp: p.counterexample.violation?.index ?? null,
      expected: (p.counterexample.first ?? 0) > 0 ? null : p.counterexample.expected.map(observationJson),
      reproducible: p.reproducible !== false,
    } : {}),
    ...(p.sideFailure ? { alsoFailed: { explanation: p.sideFailure.explanation, token: p.sideFailure.token, counterexample: counterexampleJson(p.sideFailure.outcome) } } : {}),
    shrinks: p.shrinks,
    exhaustive: p.exhaustive ?? null,
    phase: p.phase ?? null,
    ...(p.run !== undefined ? { run: p.run } : {}),
    ...(p.stopped ? { stopped: true } : {}),
  };
}

export function checkJson(r: CheckResult, o: ReportOptions = {}): Record<string, unknown> {
  const perf = perfOf(r.results, r.ms);
  const timing = o.timing !== false;
  return {
    verdict: r.verdict,
    results: r.results.map(propertyJson),
    seed: r.options.seed,
    ...(timing ? { ms: Math.round(r.ms) } : {}),
    options: {
      impl: r.options.impl, layout: r.layout.name, hostEcvTraps: r.options.hostEcvTraps, guest: r.options.guest ?? null,
      ecv: r.options.ecv ?? null, runs: r.options.runs, maxOps: r.options.maxOps, properties: r.options.properties,
    },
    performance: perfJson(perf, o),
    ...(r.coverage ? { coverage: r.coverage.toJSON() } : {}),
    notes: r.notes ?? [],
  };
}


/** The `performance` member of a JSON report: counts, and with timing the rate. */
export function perfJson(p: Perf, o: ReportOptions = {}): Record<string, number> {
  return { traces: p.traces, ops: p.ops, ...(o.timing !== false ? { opsPerSecond: Math.round(p.ops / (Math.max(p.ms, 1) / 1000)) } : {}) };
}
