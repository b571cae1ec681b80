/** `nvconform layouts [FILE...]` and `nvconform layouts --explore`. */
import { hex } from '../../models/arch/bits.js';
import type { Layout } from '../../models/arch/layout.js';
import type { GuestMode } from '../../models/arch/vocabulary.js';
import { loadCatalogue, loadLayout } from '../../models/layouts/load.js';
import { DEFAULT_CHECK_OPTIONS } from '../check/check.js';
import { counterexampleJson, hostText, judgedEcv, propertyJson, renderProperty, scopeText } from '../report/check.js';
import { headline, judgeLayout, trapCost, type LayoutOptions, type LayoutVerdict } from '../layouts/evaluate.js';
import { explore, type Exploration } from '../layouts/explore.js';
import { WORKLOADS } from '../layouts/workloads.js';
import { table } from '../report/text.js';
import { explorePage, layoutsPage } from '../report/timeline.js';
import { emitReports, NO_REPORTS, type ReportFlags } from './reports.js';

export interface LayoutsCliOptions extends LayoutOptions {
  /** Guest modes to judge. Default both. */
  readonly guests: readonly GuestMode[];
  readonly json: boolean;
  /** --html, --quiet-timing. Default none. */
  readonly reports?: ReportFlags;
}

const slotsText = (l: Layout): string =>
  [...l.slots].sort((a, b) => a[1] - b[1]).map(([k, o]) => `${k}@${hex(BigInt(o))}`).join(' ') || '(none)';

export async function layoutsCommand(files: readonly string[], o: LayoutsCliOptions): Promise<{ text: string; code: number }> {
  const layouts = [...loadCatalogue(), ...files.map((f) => loadLayout(f))];
  const shard = o.executor?.shard;
  const verdicts: LayoutVerdict[] = [];
  // Every judgement at once (their tasks share the executor's workers), in the catalogue's order.
  verdicts.push(...await Promise.all(layouts.flatMap((l) => o.guests.map((g) => judgeLayout(l, g, o)))));
  const baseline = Object.fromEntries(o.guests.map((g) => [g, trapCost({ name: 'nv', description: '', slots: new Map(), source: 'nv' }, g, { hostEcvTraps: o.hostEcvTraps, nv2: false, ...(o.host ? { host: o.host } : {}) })]));
  const page = { html: () => layoutsPage(verdicts, { baseline, hostEcvTraps: o.hostEcvTraps, runs: o.runs, seed: o.seed }) };
  if (o.json) {
    const doc = {
      layouts: verdicts.map((v) => {
        const h = headline(v);
        return {
          name: v.layout.name, guest: v.guest, source: v.layout.source, slots: Object.fromEntries([...v.layout.slots].map(([k, off]) => [k, hex(BigInt(off))])),
          verdicts: { architectural: v.architectural.verdict, deferred: v.deferred.verdict },
          counterexampleOps: h?.counterexample?.ops.length ?? null,
          explanation: h?.explanation ?? null,
          counterexample: h?.counterexample ? counterexampleJson(h.counterexample) : null,
          token: h?.token ?? null,
          trapsPer1000: v.cost,
          // Each contract's result as check --json gives it (what nvconform merge puts shards together by).
          properties: [propertyJson(v.architectural), propertyJson(v.deferred)],
        };
      }),
      baseline,
      options: { hostEcvTraps: o.hostEcvTraps, runs: o.runs, seed: o.seed, maxOps: o.maxOps },
      ...(shard ? { shard } : {}),
    };
    return { text: JSON.stringify(doc, null, 2) + '\n' + emitReports(o.reports ?? NO_REPORTS, page, true), code: 0 };
  }
  const ecv = judgedEcv(o);
  let s = `nvconform layouts: the built-in NV2 host${o.hostEcvTraps ? ' with ECV traps' : ''}${hostText(o.host)}; ${o.runs} traces per contract, seed ${o.seed}\n`;
  if (shard) s += `shard: ${shard.index}/${shard.count} of each contract's random traces; nvconform merge puts the shards' --json outputs together\n`;
  s += `cost: traps per 1000 guest-hypervisor timer register accesses on the workloads ${WORKLOADS.join(', ')}\n`;
  s += `vCPU: the virtual CPU's features judged (FEAT_VHE always; FEAT_ECV ${ecv === undefined ? 'with and without' : ecv ? 'only with' : 'only without'})\n\n`;
  const vcpu = ecvText(ecv);
  const rows = verdicts.map((v, i) => {
    const h = headline(v);
    return [String(i), v.layout.name, v.guest, vcpu, v.architectural.verdict, v.deferred.verdict, h?.counterexample ? `${h.counterexample.ops.length} op${h.counterexample.ops.length === 1 ? "" : "s"}` : '-',
      ...WORKLOADS.map((w) => String(v.cost[w]))];
  });
  for (const g of o.guests) rows.push(['', 'FEAT_NV only (baseline)', g, '', '', '', '', ...WORKLOADS.map((w) => String(baseline[g]![w]))]);
  s += table(['#', 'layout', 'guest', 'vCPU', 'architectural', 'deferred', 'counterexample', ...WORKLOADS], rows);
  s += '\nwhy (the shortest counterexample per layout: deferred if it fails, else architectural):\n';
  verdicts.forEach((v, i) => {
    const h = headline(v);
    s += `  #${i} ${v.layout.name} ${v.guest}: ${h ? h.explanation : 'conformant under both contracts'}\n`;
    if (h?.token) s += `      replay ${h.token}\n`;
  });
  s += '\nslots:\n' + [...new Set(layouts)].map((l) => `  ${l.name}: ${slotsText(l)}`).join('\n') + '\n';
  return { text: s + emitReports(o.reports ?? NO_REPORTS, page, false), code: 0 };
}

export async function exploreCommand(o: LayoutsCliOptions): Promise<{ text: string; code: number }> {
  const found: Exploration[] = [];
  found.push(...await Promise.all(o.guests.map((g) => explore(g, o))));
  const rep = o.reports ?? NO_REPORTS;
  const page = { html: () => explorePage(found, o) };
  if (o.json) {
    const doc = {
      explore: found.map((e) => ({
        guest: e.guest, registers: e.keys, maximal: e.maximal,
        cheapest: e.cheapest,
        excluded: e.excluded.map((x) => ({
          reg: x.reg, layout: [...x.layout.slots.keys()],
          counterexample: x.result.counterexample ? counterexampleJson(x.result.counterexample) : null,
          explanation: x.result.explanation ?? null, token: x.result.token ?? null,
        })),
        checked: e.checked, passed: e.passed, ...(rep.timing ? { ms: Math.round(e.ms) } : {}),
      })),
      options: { hostEcvTraps: o.hostEcvTraps, runs: o.runs, seed: o.seed, maxOps: o.maxOps },
    };
    return { text: JSON.stringify(doc, null, 2) + '\n' + emitReports(rep, page, true), code: 0 };
  }
  let s = '';
  for (const e of found) {
    s += `explore ${e.guest}: every subset of {${e.keys.join(', ')}} checked under the deferred contract, vCPU ${ecvText(judgedEcv(o))} ` +
      `(${e.checked} layouts, ${e.passed} conformant${rep.timing ? `, ${(e.ms / 1000).toFixed(1)} s` : ''})\n`;
    if (e.scope) s += `  scope: each verdict covers ${scopeText(e.scope)}, then directed and ${o.runs} random traces; every counterexample found for one layout was tried on all\n`;
    if (e.verified?.scope) {
      s += `  verified: each maximal set also passed ${scopeText(e.verified.scope)}, then ${e.verified.runs} random traces ` +
        `(${e.verified.rounds} round${e.verified.rounds === 1 ? '' : 's'}, ${e.verified.refuted} candidate${e.verified.refuted === 1 ? '' : 's'} refuted on the way)\n`;
    }
    s += '  maximal conformant sets:\n' + e.maximal.map((m) => `    {${m.join(', ')}}`).join('\n') + '\n';
    s += '  cheapest maximal set per workload (traps per 1000 accesses):\n';
    for (const w of WORKLOADS) s += `    ${w}: {${e.cheapest[w].slots.join(', ')}} ${e.cheapest[w].trapsPer1000}\n`;
    s += '  registers no conformant set contains, and why:\n';
    for (const x of e.excluded) {
      s += `\n  ${x.reg} (shown with layout ${x.layout.name}):\n` + indent(renderProperty(x.result, {
        options: { ...DEFAULT_CHECK_OPTIONS, impl: 'nv2', hostEcvTraps: o.hostEcvTraps, seed: o.seed }, layout: x.layout,
      }), '  ');
    }
    s += '\n';
  }
  return { text: s + emitReports(rep, page, false), code: 0 };
}

/** The virtual CPU's features a verdict covers. */
const ecvText = (ecv: boolean | undefined): string => (ecv === undefined ? 'VHE, ECV and not' : ecv ? 'VHE+ECV' : 'VHE, no ECV');

const indent = (s: string, p: string): string => s.split('\n').map((l) => (l ? p + l : l)).join('\n');
