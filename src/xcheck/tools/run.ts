/**
 * Run trace files in QEMU and print, op by op, QEMU's observation next to the reference's on the
 * rebuilt trace (a tool; uses the project's trace reader and reference model).
 *
 *   node dist/src/xcheck/tools/run.js TRACE.json... [--start asap|config|spaced] [--rebuilt]
 *
 * --rebuilt also prints each rebuilt trace (the trace the reference ran) as a trace document.
 */
import { readFileSync } from 'node:fs';
import { ReferenceModel } from '../../../models/reference/reference.js';
import { formatTrace } from '../../trace/format.js';
import { parseTraceText } from '../../trace/parse.js';
import { unsupportedReason } from '../format.js';
import { findQemu, runTracesInQemu } from '../qemu.js';
import { compareWithModel, disagreement } from '../rebuild.js';

const hex = (v: bigint | undefined): string => (v === undefined ? '-' : '0x' + v.toString(16));

async function main(argv: string[]): Promise<number> {
  const files = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--start');
  const start = (argv.includes('--start') ? argv[argv.indexOf('--start') + 1] : 'asap') as 'asap' | 'config' | 'spaced';
  const f = findQemu();
  if (!f.ok) {
    console.error(`run: ${f.reason}`);
    return 2;
  }
  const traces = files.map((file) => parseTraceText(readFileSync(file, 'utf8'), file));
  traces.forEach((t, i) => {
    const why = unsupportedReason(t);
    if (why) throw new Error(`${files[i]}: ${why}`);
  });
  const results = await runTracesInQemu(traces, { startAt: start });
  let bad = 0;
  traces.forEach((t, i) => {
    const r = results[i]!;
    const c = compareWithModel(t, r, (config) => new ReferenceModel(config));
    console.log(`${files[i]}: ${t.config.guest}${t.config.features.length ? '+' + t.config.features.join('+') : ''}, QEMU start count ${r.startCount}` +
      `${r.startMissed ? ' (config.count already passed)' : ''}: ${c.first ? `first disagreement at op ${c.first.op} (${c.first.fields.join(', ')})` : 'agrees'}${c.modelError ? `; reference stopped: ${c.modelError}` : ''}`);
    if (c.first) bad++;
    t.ops.forEach((op, k) => {
      const q = r.ops[k]!, o = c.observed[k]!, e = c.expected[k];
      const what = op.op === 'msr' ? `msr ${op.reg} ${hex(op.value)}` : op.op === 'mrs' ? `mrs ${op.reg}` : op.op === 'eret' || op.op === 'exit' ? op.op : `${op.op} ${hex(op.op === 'wfi' ? op.limit : op.op === 'wfit' ? op.deadline : op.by)}`;
      const show = (x: { irq: number; value?: bigint; fault?: string; elapsed?: bigint }): string =>
        `irq=${x.irq} value=${hex(x.value)}${x.elapsed !== undefined ? ` elapsed=${hex(x.elapsed)}` : ''}${x.fault ? ` ${x.fault}` : ''}`;
      const d = e ? disagreement(e, o) : [];
      console.log(`  ${String(k).padStart(2)} vEL${q.elBefore} @${q.countAtAccess} ${what.padEnd(34)} QEMU ${show(o)}${q.esr !== undefined ? ` (EL${q.faultEl} ESR ${hex(q.esr)})` : ''}  reference ${e ? show(e) : '-'}${d.length ? `  <- ${d.join(',')}` : ''}`);
    });
    if (argv.includes('--rebuilt')) console.log(formatTrace(c.rebuilt.trace));
  });
  return bad ? 1 : 0;
}

main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e: unknown) => {
  console.error(`run: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
});
