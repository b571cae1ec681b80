/** The text report of a replay: each property judged on the one trace, the failing op marked. */
import type { CheckResult } from '../check/check.js';
import type { Outcome } from '../engine/runner.js';
import { configLine, implLine, perfLine, perfOf, renderProperty, traceTable, type ReportOptions } from './check.js';

export function renderReplay(trace: { readonly config: Outcome['config']; readonly ops: readonly unknown[] }, res: CheckResult, o: ReportOptions = {}): string {
  let s = `nvconform replay: ${trace.ops.length} ops; ${configLine(trace.config)}; ${implLine(res)}\n\n`;
  for (const r of res.results) {
    if (r.verdict === 'fail' && r.counterexample) {
      s += `x ${r.property}: FAIL at op #${r.counterexample.violation!.index}\n` + traceTable(r.counterexample) + `  why      ${r.explanation}\n\n`;
    } else s += renderProperty(r, res) + '\n';
  }
  return s + `verdict: ${res.verdict}\n` + perfLine(perfOf(res.results, res.ms), o);
}
