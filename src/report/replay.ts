/** The text and JSON reports of a replay: each property judged on the one trace, the failing op marked, and the comparison with the trace's own observations. */
import { opText } from '../engine/runner.js';
import type { ReplayResult } from '../check/replay.js';
import type { Trace } from '../../models/arch/vocabulary.js';
import { observationJson } from '../trace/format.js';
import { checkJson, configLine, implLine, perfLine, perfOf, renderProperty, traceTable, type ReportOptions } from './check.js';
import { obsText } from './text.js';

export function renderReplay(trace: Pick<Trace, 'config' | 'ops'>, r: ReplayResult, o: ReportOptions = {}): string {
  const res = r.check;
  const impl = res.options.impl;
  let s = `nvconform replay: ${trace.ops.length} ops; ${configLine(trace.config)}; ${implLine(res)}\n\n`;
  for (const p of res.results) {
    if (p.verdict === 'fail' && p.counterexample) {
      s += `x ${p.property}: FAIL at op #${p.counterexample.violation!.index}\n` + traceTable(p.counterexample) + `  why      ${p.explanation}\n\n`;
    } else s += renderProperty(p, res) + '\n';
  }
  const obs = r.observations;
  if (obs) {
    const m = obs.mismatch;
    s += m
      ? `x observations: FAIL at op #${m.index} (${opText(trace.ops[m.index]!)}): the trace has ${obsText(m.want)}, ${impl} gave ${obsText(m.got)}\n\n`
      : `+ observations: ${impl} agrees with the trace's own observations (${obs.ops} ops)\n\n`;
  }
  return s + `verdict: ${res.verdict}\n` + perfLine(perfOf(res.results, res.ms), o);
}

export function replayJson(r: ReplayResult, o: ReportOptions = {}): Record<string, unknown> {
  const obs = r.observations;
  const obsJson = obs && {
    verdict: obs.mismatch ? 'fail' : 'pass', ops: obs.ops,
    divergentOp: obs.mismatch?.index ?? null,
    expected: obs.mismatch ? observationJson(obs.mismatch.want) : null,
    observed: obs.mismatch ? observationJson(obs.mismatch.got) : null,
  };
  return { ...checkJson(r.check, o), ...(obsJson ? { observations: obsJson } : {}) };
}
