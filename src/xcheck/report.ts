/**
 * Reports of the QEMU cross-check: text for people (in the style of `check`'s reports) and the
 * `--json` documents. The same results give the same text; timings appear only on the
 * `performance:` line (and under `performance` in JSON).
 */
import { hex } from '../../models/arch/bits.js';
import type { Observation, Trace } from '../../models/arch/vocabulary.js';
import { observationJson, traceJson } from '../trace/format.js';
import { obsText, opCells, table } from '../trace/text.js';
import { encodeToken } from '../trace/token.js';
import { KNOWN_BEHAVIOURS, type TraceVerdict } from './classify.js';
import type { CrossCheckResult, RunOutcome, Shrunk, TraceOutcome } from './crosscheck.js';
import type { QemuOpResult } from './format.js';
import type { QemuInfo } from './qemu.js';
import { outcomeKey, routeKey, type RoutingResult, type RoutingRow } from './routing.js';

const indent = (s: string, by = '  '): string => s.split('\n').map((l) => (l ? by + l : l)).join('\n');
const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** QEMU's observation, with where a fault was taken and its ESR. */
function qemuText(o: Observation, q: QemuOpResult): string {
  return obsText(o) + (q.fault ? ` (EL${q.faultEl} ESR ${hex(q.esr ?? 0n)})` : '') + (q.wake ? ` woken by ${q.wake}` : '');
}

export function configLine(t: Trace): string {
  const init = Object.entries(t.config.init).map(([k, v]) => `${k}=${hex(v)}`).join(', ');
  return `guest ${t.config.guest}, features [${t.config.features.join(',')}], starts at ${hex(t.config.count)}${init ? `, init {${init}}` : ''}`;
}

/** The replay token of a trace QEMU ran: its config.count is the count it started at. */
export const replayToken = (t: Trace): string => encodeToken({ config: t.config, ops: t.ops }, { xcheck: 'qemu' });

/**
 * One trace op by op: vEL, count (from op 0), op, both sides, and (with `model`) what the model of
 * QEMU's known behaviours expects. `>` marks `mark`, `*` every other op where QEMU and the
 * reference disagree.
 */
export function traceTable(r: RunOutcome, v: TraceVerdict, mark: number | undefined, withModel: boolean): string {
  const start = r.result.startCount;
  const refDiff = new Set<number>();
  if (v.first) refDiff.add(v.first.op);
  const rows = r.trace.ops.map((op, i) => {
    const [kind, reg, value] = opCells(op);
    const q = r.result.ops[i]!;
    const e = v.reference.expected[i];
    const m = v.model.expected[i];
    return [
      (i === mark ? '>' : refDiff.has(i) ? '*' : ' ') + String(i), `vEL${q.elBefore}`, `+${q.countAtAccess - start}`, kind, reg, value,
      e ? obsText(e) : '(reference stopped)', qemuText(v.reference.observed[i]!, q), ...(withModel ? [m ? obsText(m) : '(model stopped)'] : []),
    ];
  });
  return table([' #', 'EL', 'count', 'op', 'reg', 'value', 'reference', 'QEMU', ...(withModel ? ['known QEMU behaviours'] : [])], rows);
}

function renderShrunk(s: Shrunk, title: string): string {
  const v = s.verdict;
  const t = s.outcome.trace;
  const at = v.unexplained?.op ?? v.first?.op;
  let out = `${title}\n`;
  out += `  trace    #${s.index} of the run; shrunk from ${plural(s.fromOps, 'op')} to ${t.ops.length} (${plural(s.candidates, 'candidate')} run in QEMU)\n`;
  out += `  config   ${configLine(t)}\n`;
  out += indent(traceTable(s.outcome, v, at, v.status === 'unexplained'));
  if (v.first) out += `  first    op ${v.first.op}: the reference and QEMU differ in ${v.first.fields.join(', ')}${v.class ? ` (${v.class})` : ''}\n`;
  if (v.unexplained) out += `  why      op ${v.unexplained.op}: no known QEMU behaviour reproduces ${v.unexplained.fields.join(', ')}${v.unexplained.why ? ` (${v.unexplained.why})` : ''}\n`;
  out += `  replay   nvconform xcheck qemu --replay ${replayToken(t)}\n`;
  return out;
}

export interface Figures {
  readonly generated: number;
  readonly ran: number;
  readonly ops: number;
  readonly transformedTraces: number;
  readonly longTicks: number;
  readonly longWaits: number;
  readonly nearWrap: number;
  readonly skipped: number;
  readonly passes: Readonly<Record<string, number>>;
  readonly stable: number;
  readonly agree: number;
  readonly explained: number;
  readonly unexplained: number;
  /** Ops compared with the reference (every op of an agreeing trace; up to the first disagreement of the others) and how many agree. */
  readonly opsComparedWithReference: number;
  readonly opsAgreeingWithReference: number;
  /** Traces of which the model of QEMU's known behaviours reproduces every op. */
  readonly modelReproduces: number;
  /** Per class of first disagreement (known behaviour ids, joined by '+' when several are needed; 'unexplained'). */
  readonly classes: Readonly<Record<string, number>>;
  readonly lines: { readonly ops: number; readonly agree: number; readonly races: number; readonly unchecked: number; readonly unexplained: number };
}

export function figures(r: CrossCheckResult): Figures {
  const ts = r.traces;
  const count = (f: (t: TraceOutcome) => boolean): number => ts.filter(f).length;
  const classes: Record<string, number> = {};
  for (const t of ts) if (t.verdict.class) classes[t.verdict.class] = (classes[t.verdict.class] ?? 0) + 1;
  const passes: Record<string, number> = {};
  for (const t of ts) passes[String(t.passes)] = (passes[String(t.passes)] ?? 0) + 1;
  const cmp = ts.reduce((s, t) => s + (t.verdict.first ? t.verdict.first.op + 1 : t.trace.ops.length), 0);
  const sum = (f: (t: TraceOutcome) => number): number => ts.reduce((s, t) => s + f(t), 0);
  return {
    generated: r.traces.length + r.skipped.length,
    ran: ts.length,
    ops: sum((t) => t.trace.ops.length),
    transformedTraces: count((t) => t.transform.longTicks + t.transform.longWaits > 0),
    longTicks: sum((t) => t.transform.longTicks),
    longWaits: sum((t) => t.transform.longWaits),
    nearWrap: r.nearWrap,
    skipped: r.skipped.length,
    passes,
    stable: count((t) => t.stable),
    agree: count((t) => t.verdict.status === 'agree'),
    explained: count((t) => t.verdict.status === 'explained'),
    unexplained: count((t) => t.verdict.status === 'unexplained' || t.lines.unexplained.length > 0),
    opsComparedWithReference: cmp,
    opsAgreeingWithReference: cmp - count((t) => !!t.verdict.first),
    modelReproduces: count((t) => t.verdict.modelReproduces),
    classes,
    lines: {
      ops: sum((t) => t.lines.ops), agree: sum((t) => t.lines.agree), races: sum((t) => t.lines.races),
      unchecked: sum((t) => t.lines.unchecked), unexplained: sum((t) => t.lines.unexplained.length),
    },
  };
}

export const crossCheckVerdict = (f: Figures): 'pass' | 'fail' => (f.unexplained === 0 ? 'pass' : 'fail');

/** The first trace of each class, as `#index op k: what (fields)`. */
function firstOfClass(r: CrossCheckResult): Map<string, TraceOutcome> {
  const m = new Map<string, TraceOutcome>();
  for (const t of r.traces) if (t.verdict.class && !m.has(t.verdict.class)) m.set(t.verdict.class, t);
  return m;
}

function disagreementText(t: TraceOutcome): string {
  const v = t.verdict;
  if (!v.first) return '';
  const op = t.trace.ops[v.first.op];
  const what = op ? opCells(op).filter(Boolean).slice(0, 2).join(' ') : '(end)';
  const q = t.result.ops[v.first.op];
  return `#${t.index} op ${v.first.op} (${t.trace.config.guest}${t.trace.config.features.length ? '+' + t.trace.config.features.join('+') : ''}, vEL${q?.elBefore ?? '?'} ${what}: ${v.first.fields.join(',')})`;
}

const percent = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(2)}%`);

export function renderCrossCheck(r: CrossCheckResult, qemu: QemuInfo): string {
  const o = r.options;
  const f = figures(r);
  let s = `nvconform xcheck qemu: ${qemu.version} (${qemu.path}); guest ${o.guest ?? 'vhe+nvhe'}; ecv ${o.ecv === undefined ? 'with and without' : o.ecv ? 'on' : 'off'}; ` +
    `${o.runs} traces of up to ${o.maxOps} ops; seed ${o.seed}\n\n`;
  const passList = Object.entries(f.passes).map(([p, n]) => `${n} in ${p}`).join(', ');
  s += `generated    ${plural(f.generated, 'trace')} (the check's generator and configs)\n`;
  s += `transformed  ${f.longTicks} tick/preempt ${f.longTicks === 1 ? 'op' : 'ops'} and ${plural(f.longWaits, 'wfi/wfit wait')} longer than 2^40 counts cut to 2^40 (in ${plural(f.transformedTraces, 'trace')}); ` +
    `config.count replaced by the trace's own start count in every trace (the physical count cannot be preset; ${f.nearWrap} asked for a count within 2^40 of 2^64, whose wrap QEMU cannot reach)\n`;
  s += `skipped      ${plural(f.skipped, 'trace')}${r.skipped.length ? `: ${[...new Set(r.skipped.map((x) => x.why))].slice(0, 3).join('; ')}` : ''}\n`;
  s += `ran          ${plural(f.ran, 'trace')} (${f.ops} ops) at real EL2 and EL1 in QEMU (-cpu max, secure=on, -icount shift=0), ${plural(r.stats.traceRuns, 'trace run')}: ` +
    `values resolved at QEMU's counts in passes (${passList}); stable in ${f.stable} of ${f.ran}\n`;
  s += `compared     with the reference on the rebuilt traces, op by op up to each trace's first disagreement: ${f.opsAgreeingWithReference} of ${f.opsComparedWithReference} ops agree; ` +
    `${f.agree} of ${f.ran} traces agree on every op (${percent(f.agree, f.ran)})\n`;
  s += `explained    the model of QEMU's known behaviours (the reference with them switched on) reproduces every op of ${f.modelReproduces} of ${f.ran} traces\n\n`;
  const first = firstOfClass(r);
  const rows: string[][] = [['agree', String(f.agree), '', '']];
  const known = KNOWN_BEHAVIOURS.map((k) => k.id);
  const ids = Object.keys(f.classes).sort((a, b) => {
    const ka = known.indexOf(a), kb = known.indexOf(b);
    return (ka < 0 ? 99 : ka) - (kb < 0 ? 99 : kb) || a.localeCompare(b);
  });
  for (const id of ids) {
    const k = KNOWN_BEHAVIOURS.find((x) => x.id === id);
    const t = first.get(id);
    rows.push([id, String(f.classes[id]), k ? k.triage : id === 'unexplained' ? 'FAILURE' : 'several known behaviours', t ? `e.g. ${disagreementText(t)}` : '']);
  }
  s += indent(table(['first disagreement', 'traces', 'triage', 'example'], rows));
  s += '\n';
  for (const k of KNOWN_BEHAVIOURS) s += `  ${k.id.padEnd(16)} ${k.summary} [${k.qemu}]\n`;
  s += `  (docs/qemu-crosscheck.md triages each)\n\n`;
  const l = f.lines;
  s += `interrupt lines: the GIC's pending bits agree with the lines derived from CTL on ${l.agree} of ${l.ops} ops; ${l.races} differ where a line changes between the two reads; ` +
    `${l.unchecked} after an unexplained disagreement (not checked); ${l.unexplained} otherwise\n`;
  for (const u of r.unexplained) s += '\n' + renderShrunk(u, `x unexplained disagreement (trace #${u.index})`);
  const failed = r.traces.filter((t) => t.verdict.status === 'unexplained' || t.lines.unexplained.length);
  const shown = new Set(r.unexplained.map((u) => u.index));
  const rest = failed.filter((t) => !shown.has(t.index));
  if (rest.length) {
    s += `\n${plural(rest.length, 'more trace')} with an unexplained disagreement (not shrunk): ${rest.slice(0, 20).map((t) => `#${t.index} op ${t.verdict.unexplained?.op ?? '?'}`).join(', ')}${rest.length > 20 ? ', ...' : ''}\n`;
  }
  for (const e of r.examples) s += '\n' + renderShrunk(e, `+ ${e.class}: a shrunk example`);
  const v = crossCheckVerdict(f);
  s += `\nverdict: ${v === 'pass'
    ? `pass: QEMU agrees with the reference on ${f.agree} of ${f.ran} traces; every disagreement (${f.explained}) is a known QEMU behaviour`
    : `FAIL: ${plural(f.unexplained, 'unexplained disagreement')}`}\n`;
  s += perfLine(r);
  return s;
}

export function perfLine(r: CrossCheckResult): string {
  const sec = Math.max(r.ms, 1) / 1000;
  const f = figures(r);
  return `performance: ${f.ran} traces, ${f.ops} ops in ${r.ms.toFixed(0)} ms (${r.stats.traceRuns} trace runs in QEMU, ${r.stats.calls} batched calls): ` +
    `${Math.round(f.ran / sec)} traces/s, ${Math.round(f.ops / sec)} ops/s\n`;
}

function shrunkJson(s: Shrunk): Record<string, unknown> {
  const v = s.verdict;
  const t = s.outcome.trace;
  return {
    index: s.index, class: v.class ?? null, status: v.status, first: v.first ?? null, unexplained: v.unexplained ?? null,
    fromOps: s.fromOps, candidates: s.candidates,
    trace: traceJson(t),
    reference: v.reference.expected.map(observationJson), qemu: v.reference.observed.map(observationJson), model: v.model.expected.map(observationJson),
    counts: s.outcome.result.ops.map((q) => hex(q.countAtAccess)),
    token: replayToken(t),
  };
}

export function crossCheckJson(r: CrossCheckResult, qemu: QemuInfo): Record<string, unknown> {
  const f = figures(r);
  const o = r.options;
  return {
    verdict: crossCheckVerdict(f),
    seed: o.seed,
    options: { runs: o.runs, maxOps: o.maxOps, guest: o.guest ?? null, ecv: o.ecv ?? null },
    qemu: { path: qemu.path, version: qemu.version },
    figures: f,
    behaviours: KNOWN_BEHAVIOURS.map((k) => ({ id: k.id, triage: k.triage, qemu: k.qemu, summary: k.summary })),
    disagreements: r.traces.filter((t) => t.verdict.first).map((t) => {
      const v = t.verdict;
      const i = v.first!.op;
      return {
        index: t.index, class: v.class, status: v.status, op: i, fields: v.first!.fields,
        el: t.result.ops[i]?.elBefore ?? null, guest: t.trace.config.guest, features: t.trace.config.features,
        expected: v.reference.expected[i] ? observationJson(v.reference.expected[i]) : null, observed: observationJson(v.reference.observed[i]!),
        token: replayToken(t.trace),
      };
    }),
    unexplained: r.unexplained.map(shrunkJson),
    examples: r.examples.map((e) => ({ class: e.class, ...shrunkJson(e) })),
    skipped: r.skipped,
    performance: { ms: Math.round(r.ms), traceRuns: r.stats.traceRuns, calls: r.stats.calls, tracesPerSecond: Math.round(f.ran / (Math.max(r.ms, 1) / 1000)) },
  };
}

// ---- one trace (--replay) ----

export function renderReplay(t: RunOutcome, v: TraceVerdict, qemu: QemuInfo, source: string): string {
  let s = `nvconform xcheck qemu --replay: ${source}; ${plural(t.trace.ops.length, 'op')}; ${qemu.version}\n`;
  s += `  config   ${configLine(t.trace)}; QEMU started op 0 at ${hex(t.result.startCount)}${t.result.startMissed ? ' (config.count had passed)' : ''}\n`;
  s += indent(traceTable(t, v, v.unexplained?.op ?? v.first?.op, true));
  if (v.first) s += `  first    op ${v.first.op}: the reference and QEMU differ in ${v.first.fields.join(', ')} (${v.class ?? 'unexplained'})\n`;
  if (v.unexplained) s += `  why      op ${v.unexplained.op}: no known QEMU behaviour reproduces ${v.unexplained.fields.join(', ')}${v.unexplained.why ? ` (${v.unexplained.why})` : ''}\n`;
  s += `\nverdict: ${v.status === 'agree' ? 'pass: QEMU agrees with the reference on every op' : v.status === 'explained' ? `pass: the disagreement is a known QEMU behaviour (${v.class})` : 'FAIL: an unexplained disagreement'}\n`;
  return s;
}

export function replayJson(t: RunOutcome, v: TraceVerdict): Record<string, unknown> {
  return {
    verdict: v.status === 'unexplained' ? 'fail' : 'pass', status: v.status, class: v.class ?? null, first: v.first ?? null, unexplained: v.unexplained ?? null,
    trace: traceJson(t.trace), startCount: hex(t.result.startCount), counts: t.result.ops.map((q) => hex(q.countAtAccess)),
    reference: v.reference.expected.map(observationJson), qemu: v.reference.observed.map(observationJson), model: v.model.expected.map(observationJson),
  };
}

// ---- routing ----

function routingCells(r: RoutingRow): string[] {
  const c = r.cell;
  return [
    c.reg, c.write ? 'write' : 'read', c.nv2 === false ? '-' : '1', String(c.nv1), c.hostE2h === false ? '0' : '1', `${r.traps} ${hex(c.cnthctl)}`, c.ecvEn ? '1' : '0',
    outcomeKey(r.qemu), routeKey(r.model), r.agree ? 'yes' : 'NO', r.withoutEcv ? `without FEAT_ECV: ${routeKey(r.withoutEcv)}` : '',
  ];
}

export function renderRouting(r: RoutingResult, qemu: QemuInfo): string {
  const bad = r.rows.filter((x) => !x.agree);
  const noEcv = r.rows.filter((x) => x.withoutEcv);
  const nvOnly = r.rows.some((x) => x.cell.nv2 === false);
  let s = `nvconform xcheck routing: ${qemu.version} (${qemu.path}); ${r.rows.length} cells: register × read/write × HCR_EL2.NV1 × host E2H × ` +
    `CNTHCTL_EL2 trap setting × SCR_EL3.ECVEn${nvOnly ? ' × HCR_EL2.NV2' : ''}, accessed at EL1 with HCR_EL2.NV${nvOnly ? '' : ' and NV2'} = 1; ` +
    `against models/nv2/routing.ts (architected layout, physical CPU with FEAT_ECV)\n\n`;
  s += table(['register', 'access', 'NV2', 'NV1', 'host E2H', 'traps (CNTHCTL_EL2, E2H=1 layout)', 'ECVEn', 'QEMU', 'routing.ts', 'agree', 'note'], r.rows.map(routingCells));
  s += `\n${r.rows.length - bad.length} of ${r.rows.length} cells agree\n`;
  s += `SCR_EL3.ECVEn changes QEMU's routing in ${r.ecvEnPairs - r.ecvEnSame} of ${r.ecvEnPairs} cell pairs (the Arm ARM's accessors test FEAT_ECV, not ECVEn, for the EL1 trap bits and NVMem[0x1A8])\n`;
  s += `${noEcv.length} ECVEn=0 cells would route differently on a CPU without FEAT_ECV (note column): QEMU's -cpu max always implements FEAT_ECV, so that CPU is not cross-checked (modelling choice, docs/qemu-crosscheck.md)\n`;
  s += `\nverdict: ${bad.length === 0 ? 'pass: every cell agrees' : `FAIL: ${plural(bad.length, 'cell')} differ`}\n`;
  s += `performance: ${r.rows.length} cells in ${r.ms.toFixed(0)} ms\n`;
  return s;
}

export function routingJson(r: RoutingResult, qemu: QemuInfo): Record<string, unknown> {
  const bad = r.rows.filter((x) => !x.agree).length;
  return {
    verdict: bad === 0 ? 'pass' : 'fail',
    qemu: { path: qemu.path, version: qemu.version },
    cells: r.rows.length, agree: r.rows.length - bad,
    ecvEn: { pairs: r.ecvEnPairs, same: r.ecvEnSame },
    withoutEcvDiffers: r.rows.filter((x) => x.withoutEcv).length,
    rows: r.rows.map((x) => ({
      reg: x.cell.reg, access: x.cell.write ? 'write' : 'read', nv2: x.cell.nv2 ?? true, nv1: x.cell.nv1, hostE2h: x.cell.hostE2h ?? true, traps: x.traps,
      cnthctl: hex(x.cell.cnthctl), ecvEn: x.cell.ecvEn, qemu: outcomeKey(x.qemu), ...(x.qemu.kind === 'trap' || x.qemu.kind === 'undefined' ? { esr: hex(x.qemu.esr) } : {}),
      routing: routeKey(x.model), agree: x.agree, ...(x.withoutEcv ? { withoutEcv: routeKey(x.withoutEcv) } : {}),
    })),
    performance: { ms: Math.round(r.ms) },
  };
}
