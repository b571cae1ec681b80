/** Results as plain data (./types.ts) from the checker's own result records. */
import { hex } from '../../models/arch/bits.js';
import type { StepDetail } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import type { El, Expectation, Observation, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { DEFAULT_CHECK_OPTIONS, type CheckResult, type PropertyResult } from '../check/check.js';
import type { LayoutVerdict } from '../layouts/evaluate.js';
import type { HostOptions } from '../engine/registry.js';
import { renderProperty, scopeText } from '../report/check.js';
import { describeAction } from '../report/describe.js';
import { opText } from '../engine/runner.js';
import { observationJson, opJson, traceJson } from '../trace/format.js';
import type { CheckReport, HostData, LayoutData, LayoutReport, ObservationJson, OpJson, PropertyReport, StepReport, TraceDocument } from './types.js';

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

export const traceDocument = (t: { config: TraceConfig; ops: readonly Op[]; observations?: readonly (Observation | Expectation)[] }): TraceDocument =>
  traceJson(t) as unknown as TraceDocument;

const obs = (o: Observation | Expectation): ObservationJson => observationJson(o) as unknown as ObservationJson;

/** Per-op records of a recorded run. `observed` absent: the reference alone ran (observed = expected). */
export function stepReports(run: {
  readonly ops: readonly Op[]; readonly els: readonly El[]; readonly expected: readonly Expectation[];
  readonly observed?: readonly Observation[]; readonly details?: readonly (StepDetail | undefined)[]; readonly hosts?: readonly (string | undefined)[];
}): StepReport[] {
  return run.ops.map((op, i): StepReport => {
    const d = run.details?.[i];
    const seen = run.observed ? run.observed[i] : run.expected[i];
    return {
      index: i, el: run.els[i] ?? 2, text: opText(op), op: opJson(op) as unknown as OpJson,
      expected: obs(run.expected[i]!), observed: seen ? obs(seen) : null,
      hardware: d ? d.actions.map(describeAction) : [],
      vncr: d ? d.vncr.map((c) => ({ offset: c.offset, key: c.key, before: hex(c.before), after: hex(c.after) })) : [],
      timerMap: run.hosts?.[i] ?? null,
    };
  });
}

/** What a verdict covers, in words (PropertyReport.scope). */
export function scopeOf(r: PropertyResult): string {
  if (r.verdict === 'n/a') return `not applicable: ${r.explanation ?? ''}`;
  const e = r.exhaustive;
  const exh = e ? `${scopeText(e)}; then ` : '';
  if (r.verdict === 'pass') {
    const random = r.directed ? `${plural(r.directed, 'directed trace')} and ${plural(r.runs - r.directed, 'random trace')}` : plural(r.runs, 'random trace');
    return `no counterexample among ${exh}${random}`;
  }
  if (r.phase === 'exhaustive' && e) return `found in the exhaustive phase, after ${e.completedDepth ? scopeText(e) : 'no complete depth'}`;
  return `found after ${exh}${plural(r.runs, 'trace')} (${plural(r.shrinks, 'shrink')})`;
}

export function propertyReport(r: PropertyResult, c: Pick<CheckResult, 'options' | 'layout'>): PropertyReport {
  const ce = r.counterexample;
  const e = r.exhaustive;
  return {
    property: r.property, verdict: r.verdict, scope: scopeOf(r), runs: r.runs, directed: r.directed ?? 0, shrinks: r.shrinks,
    opsExecuted: r.opsExecuted, ms: r.ms,
    exhaustive: e ? { alphabet: e.alphabet, unit: e.unit, depth: e.depth, completedDepth: e.completedDepth, families: e.families, roots: e.roots, traces: e.traces, states: e.states, transitions: e.transitions, merged: e.merged, mode: e.mode } : null,
    phase: r.phase ?? null, explanation: r.explanation ?? null, token: r.token ?? null,
    counterexample: ce ? { trace: traceDocument({ config: ce.config, ops: ce.ops }), divergentOp: ce.violation?.index ?? ce.ops.length, steps: stepReports(ce) } : null,
    text: renderProperty(r, c),
  };
}

export const layoutData = (l: Layout): LayoutData => ({
  name: l.name, slots: Object.fromEntries([...l.slots].sort((a, b) => a[1] - b[1])), ...(l.description ? { description: l.description } : {}),
});

/** The engine's host options as data. */
export const hostData = (h: HostOptions): HostData => ({
  ...(h.profile !== undefined ? { profile: h.profile } : {}), ...(h.cpu !== undefined ? { cpu: [...h.cpu] } : {}),
  ...(h.counterOffset !== undefined ? { counterOffset: hex(h.counterOffset) } : {}),
});

export function checkReport(r: CheckResult, text: string): CheckReport {
  const o = r.options;
  return {
    verdict: r.verdict,
    results: r.results.map((p) => propertyReport(p, r)),
    options: {
      impl: o.impl, layout: r.layout.name, hostEcvTraps: o.hostEcvTraps, host: o.host ? hostData(o.host) : null, guest: o.guest ?? null, ecv: o.ecv ?? null,
      runs: o.runs, maxOps: o.maxOps, seed: o.seed, properties: [...o.properties], exclude: [...(o.exclude ?? [])],
    },
    layout: layoutData(r.layout), ms: r.ms, notes: [...(r.notes ?? [])], text,
  };
}

export function layoutReport(v: LayoutVerdict, seed: number, hostEcvTraps: boolean): LayoutReport {
  const c = { options: { ...DEFAULT_CHECK_OPTIONS, impl: 'nv2', layout: v.layout, hostEcvTraps, seed }, layout: v.layout };
  return {
    name: v.layout.name, guest: v.guest, source: v.layout.source, slots: layoutData(v.layout).slots,
    architectural: propertyReport(v.architectural, c), deferred: propertyReport(v.deferred, c),
    headline: v.deferred.verdict === 'fail' ? 'deferred' : v.architectural.verdict === 'fail' ? 'architectural' : null,
    trapsPer1000: { ...v.cost },
  };
}
