/**
 * The HTML report's documents from results: a recorded counterexample (or any recorded run) as a
 * TimelineDoc, a check, a replay or a suite as one page. The renderer (./html/) takes plain
 * documents; this module fills them from the checker's results, re-running the reference on the
 * trace for what a result does not keep (the count around each op, the architecture's view of
 * each timer after it). Pure: the same result gives the same document.
 */
import { match } from 'ts-pattern';
import { hex } from '../../models/arch/bits.js';
import type { HwAction, StepDetail } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import { CTL_ENABLE, CTL_IMASK, meaningOf, REGISTER_TABLE } from '../../models/arch/registers.js';
import { conditionMet } from '../../models/arch/timer-math.js';
import { GUEST_MODES, irqList, TIMERS, type El, type GuestMode, type Expectation, type Observation, type Op, type TimerId, type TraceConfig } from '../../models/arch/vocabulary.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { DEFAULT_CHECK_OPTIONS, type CheckResult, type PropertyResult } from '../check/check.js';
import type { SuiteResult } from '../check/suite.js';
import { headline, type LayoutVerdict, type TrapCost } from '../layouts/evaluate.js';
import type { Exploration } from '../layouts/explore.js';
import { WORKLOADS } from '../layouts/workloads.js';
import { opJson, observationJson } from '../trace/format.js';
import { renderLayouts, renderTimeline, type LayoutsDoc, type TimelineDoc, type TimelineOp } from './html/index.js';
import { describeAction } from './describe.js';
import { implLine } from './check.js';
import { opText } from '../engine/runner.js';

/** A recorded run of one trace: what a counterexample (an engine Outcome) or `run` holds. */
export interface RecordedRun {
  readonly config: TraceConfig;
  readonly ops: readonly Op[];
  /** The implementation's observation per op; shorter than `ops` when it failed (no answer for that op). Absent: the reference alone ran. */
  readonly observed?: readonly Observation[];
  /** The implementation's hardware detail per op, when it gives any. */
  readonly details?: readonly (StepDetail | undefined)[];
  /** The host's timer map after each op, when the implementation describes it. */
  readonly hosts?: readonly (string | undefined)[];
}

/** What the page says about the run besides the ops. */
export interface TimelineInfo {
  /** The heading and <title>. */
  readonly title: string;
  /** The line under it (the implementation line). Default none. */
  readonly subtitle?: string;
  /** The layout whose slots are listed (and drawn when touched). Default none. */
  readonly layout?: Layout;
  readonly property?: string;
  readonly verdict?: 'pass' | 'fail';
  /** The op the property rejected, and why. */
  readonly violation?: { readonly index: number; readonly explanation: string };
  readonly token?: string;
  readonly seed?: number;
}

const routeOf = (actions: readonly HwAction[]): TimelineOp['route'] => {
  for (const a of actions) {
    const r = match(a)
      .returnType<TimelineOp['route']>()
      .with({ kind: 'vncr' }, () => 'vncr')
      .with({ kind: 'hw' }, () => 'hw')
      .with({ kind: 'trap' }, () => 'trap')
      .with({ kind: 'undefined' }, () => 'undefined')
      .with({ kind: 'host' }, () => undefined)
      .exhaustive();
    if (r) return r;
  }
  return undefined;
};

/** The timers a trace touches: those its accesses name (at the EL and guest mode they run in) and those whose line rises on either side; all four if none. */
function touchedTimers(config: TraceConfig, ops: readonly Op[], els: readonly El[], masks: readonly number[]): TimerId[] {
  const touched = new Set<TimerId>();
  ops.forEach((op, i) => {
    if (op.op !== 'msr' && op.op !== 'mrs') return;
    const row = REGISTER_TABLE.byName.get(op.reg);
    const m = row ? meaningOf(row, els[i] ?? 2, config.guest) : undefined;
    if (m?.kind === 'timer') touched.add(m.timer);
  });
  for (const m of masks) for (const t of irqList(m)) touched.add(t);
  const lanes = TIMERS.filter((t) => touched.has(t));
  return lanes.length ? lanes : [...TIMERS];
}

/** A recorded run as the HTML timeline's document. */
export function timelineDoc(run: RecordedRun, info: TimelineInfo): TimelineDoc {
  const ref = new ReferenceModel(run.config);
  const steps: { el: El; elAfter: El; before: bigint; after: bigint; exp: Expectation; state: TimelineOp['timerState'] }[] = [];
  for (const op of run.ops) {
    const el = ref.el, before = ref.count;
    const exp = ref.step(op);
    const s = ref.state;
    const state = TIMERS.map((timer, ti) => {
      const offset = ref.timerOffset(ti);
      return {
        timer, enable: (s.ctl[ti]! & CTL_ENABLE) !== 0n, imask: (s.ctl[ti]! & CTL_IMASK) !== 0n, cval: hex(s.cval[ti]!),
        offset: hex(offset), conditionMet: conditionMet(s.count, offset, s.cval[ti]!),
      };
    });
    steps.push({ el, elAfter: ref.el, before, after: ref.count, exp, state });
  }
  const observed = run.observed;
  const ops = run.ops.map((op, i): TimelineOp => {
    const st = steps[i]!;
    const detail = run.details?.[i];
    const route = detail ? routeOf(detail.actions) : undefined;
    const host = run.hosts?.[i];
    const obs = observed ? observed[i] : st.exp;
    return {
      index: i, el: st.el, elAfter: st.elAfter, text: opText(op), op: opJson(op) as Record<string, string>,
      countBefore: hex(st.before), countAfter: hex(st.after),
      expected: observationJson(st.exp), observed: obs ? observationJson(obs) : null,
      hardware: detail ? detail.actions.map(describeAction) : [],
      ...(route ? { route } : {}), ...(host !== undefined ? { timerMap: host } : {}),
      vncr: detail ? detail.vncr.map((c) => ({ offset: c.offset, key: c.key, before: hex(c.before), after: hex(c.after) })) : [],
      timerState: st.state,
    };
  });
  const masks = [...steps.map((s) => s.exp.irq), ...(observed ?? []).map((o) => o.irq)];
  const v = info.violation;
  return {
    title: info.title,
    ...(info.subtitle !== undefined ? { subtitle: info.subtitle } : {}),
    config: { guest: run.config.guest, features: [...run.config.features], count: hex(run.config.count), init: Object.fromEntries(Object.entries(run.config.init).map(([k, x]) => [k, hex(x)])) },
    ...(info.property !== undefined ? { property: info.property } : {}),
    ...(info.verdict !== undefined ? { verdict: info.verdict } : {}),
    ...(v ? { explanation: v.explanation } : {}),
    // An implementation that failed before answering (at reset) has no op to point at.
    ...(v && v.index < run.ops.length ? { divergentOp: v.index } : {}),
    ...(info.token !== undefined ? { token: info.token } : {}),
    ...(info.seed !== undefined ? { seed: info.seed } : {}),
    timers: touchedTimers(run.config, run.ops, steps.map((s) => s.el), masks),
    slots: info.layout ? [...info.layout.slots].map(([key, offset]) => ({ offset, key })).sort((a, b) => a.offset - b.offset) : [],
    ops,
  };
}

/** A property's counterexample as a timeline (undefined when it has none). */
export function counterexampleDoc(r: PropertyResult, c: Pick<CheckResult, 'options' | 'layout'>, heading?: string): TimelineDoc | undefined {
  const ce = r.counterexample;
  if (!ce || !ce.violation) return undefined;
  const guest = ce.config.guest;
  return timelineDoc(ce, {
    title: heading ?? `${r.property}: FAIL — layout ${c.layout.name}, guest ${guest}`,
    subtitle: implLine(c), layout: c.layout, property: r.property, verdict: 'fail',
    violation: { index: ce.violation.index, explanation: r.explanation ?? ce.violation.explanation },
    ...(r.token !== undefined ? { token: r.token } : {}), seed: c.options.seed,
  });
}

const opsText = (n: number): string => `${n} op${n === 1 ? '' : 's'}`;

/**
 * The page of a check or a replay: the one counterexample's timeline when exactly one property
 * failed with one; otherwise the verdict table with every counterexample's timeline below it.
 */
export function checkPage(r: CheckResult, command = 'check'): string {
  const failing = r.results.filter((p) => p.counterexample);
  if (failing.length === 1 && r.results.filter((p) => p.verdict === 'fail').length === 1) return renderTimeline(counterexampleDoc(failing[0]!, r)!);
  const doc: LayoutsDoc = {
    title: `nvconform ${command}: ${r.verdict === 'pass' ? 'PASS' : 'FAIL'} — ${implLine(r)}`,
    columns: ['property', 'verdict', 'found by', 'counterexample', 'why'],
    rows: r.results.map((p) => {
      const cx = counterexampleDoc(p, r);
      const found = p.phase ?? (p.verdict === 'fail' ? 'the layout itself' : '-');
      return {
        cells: [p.property, p.verdict, p.verdict === 'fail' ? found : '-', p.counterexample ? opsText(p.counterexample.ops.length) : '-', p.explanation ?? ''],
        ...(cx ? { counterexample: cx } : {}),
      };
    }),
    note: `seed ${r.options.seed}; ${r.options.runs} traces of up to ${r.options.maxOps} ops per property`,
  };
  return renderLayouts(doc);
}

/** The page of a suite run: one row per entry, an embedded timeline per failure (expected or not). */
export function suitePage(r: SuiteResult): string {
  const doc: LayoutsDoc = {
    title: `nvconform check: suite ${r.suite.name} — ${r.asExpected ? 'every verdict as expected' : 'verdicts NOT as expected'}`,
    columns: ['#', 'configuration', 'property', 'expect', 'got', 'status', 'counterexample'],
    rows: r.entries.map((e, i) => {
      const cx = counterexampleDoc(e.result, e.check, `#${i} ${e.entry.name}: ${e.entry.property} FAIL${e.asExpected ? ' (expected)' : ''}`);
      const status = e.asExpected ? (e.result.verdict === 'fail' ? 'expected failure' : 'ok') : e.entry.expect === 'fail' ? 'UNEXPECTED PASS' : 'UNEXPECTED FAIL';
      return {
        cells: [String(i), e.entry.name, e.entry.property, e.entry.expect, e.result.verdict, status, e.result.counterexample ? opsText(e.result.counterexample.ops.length) : '-'],
        ...(cx ? { counterexample: cx } : {}),
      };
    }),
  };
  return renderLayouts(doc);
}

/** What a layouts page shows besides the verdicts: the baseline cost per guest mode and the options. */
export interface LayoutsPageInfo {
  readonly baseline: Readonly<Partial<Record<GuestMode, TrapCost>>>;
  readonly hostEcvTraps: boolean;
  readonly runs: number;
  readonly seed: number;
}

/** The page of `layouts`: the verdict table, each row's shortest counterexample (deferred if it fails, else architectural) embedded below. */
export function layoutsPage(verdicts: readonly LayoutVerdict[], info: LayoutsPageInfo): string {
  const rows: LayoutsDoc['rows'][number][] = verdicts.map((v, i) => {
    const h = headline(v);
    const cx = h ? counterexampleDoc(h, { options: { ...DEFAULT_CHECK_OPTIONS, impl: 'nv2', hostEcvTraps: info.hostEcvTraps, seed: info.seed }, layout: v.layout },
      `#${i} ${v.layout.name}, guest ${v.guest}: ${h.property} FAIL`) : undefined;
    return {
      cells: [String(i), v.layout.name, v.guest, v.architectural.verdict, v.deferred.verdict, h?.counterexample ? opsText(h.counterexample.ops.length) : '-', ...WORKLOADS.map((w) => String(v.cost[w]))],
      ...(cx ? { counterexample: cx } : {}),
    };
  });
  for (const g of GUEST_MODES) {
    const b = info.baseline[g];
    if (b) rows.push({ cells: ['', 'FEAT_NV only (baseline)', g, '', '', '', ...WORKLOADS.map((w) => String(b[w]))] });
  }
  return renderLayouts({
    title: `nvconform layouts: the built-in NV2 host${info.hostEcvTraps ? ' with ECV traps' : ''}`,
    columns: ['#', 'layout', 'guest', 'architectural', 'deferred', 'counterexample', ...WORKLOADS],
    rows,
    note: `${info.runs} traces per contract, seed ${info.seed}; cost: traps per 1000 guest-hypervisor timer register accesses on the workloads ${WORKLOADS.join(', ')}`,
  });
}

/** The page of `layouts --explore`: per guest mode, the maximal conformant sets, and each register no set contains with its counterexample. */
export function explorePage(found: readonly Exploration[], info: Pick<LayoutsPageInfo, 'hostEcvTraps' | 'runs' | 'seed'>): string {
  const rows: LayoutsDoc['rows'][number][] = [];
  for (const e of found) {
    for (const x of e.excluded) {
      const cx = counterexampleDoc(x.result, { options: { ...DEFAULT_CHECK_OPTIONS, impl: 'nv2', hostEcvTraps: info.hostEcvTraps, seed: info.seed }, layout: x.layout },
        `${x.reg} (guest ${e.guest}): deferred FAIL with layout ${x.layout.name}`);
      rows.push({
        cells: [e.guest, x.reg, x.layout.name, x.result.counterexample ? opsText(x.result.counterexample.ops.length) : '-', x.result.explanation ?? ''],
        ...(cx ? { counterexample: cx } : {}),
      });
    }
  }
  const maximal = found.map((e) => `${e.guest}: ${e.maximal.map((m) => `{${m.join(', ')}}`).join(' ')}`).join('; ');
  return renderLayouts({
    title: `nvconform layouts --explore: registers no conformant layout contains${info.hostEcvTraps ? ' (host with ECV traps)' : ''}`,
    columns: ['guest', 'register', 'shown with layout', 'counterexample', 'why'],
    rows,
    note: `maximal conformant sets under the deferred contract: ${maximal}. ${info.runs} traces per layout, seed ${info.seed}.`,
  });
}
