/** Writing trace documents: lower-case hex, one op and one observation per line, stable key order. */
import { hex } from '../../models/arch/bits.js';
import { unreachable } from '../../models/arch/errors.js';
import { irqList, TRACE_FORMAT, type Expectation, type Observation, type Op, type Trace, type TraceConfig } from '../../models/arch/vocabulary.js';

export function configJson(c: TraceConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { guest: c.guest, features: [...c.features], count: hex(c.count) };
  if (c.absent?.length) out.absent = [...c.absent];
  const init = Object.entries(c.init);
  if (init.length) out.init = Object.fromEntries(init.map(([k, v]) => [k, hex(v)]));
  return out;
}

export function opJson(op: Op): Record<string, unknown> {
  switch (op.op) {
    case 'msr': return { op: 'msr', reg: op.reg, value: hex(op.value) };
    case 'mrs': return { op: 'mrs', reg: op.reg };
    case 'tick': return { op: 'tick', by: hex(op.by) };
    case 'preempt': return { op: 'preempt', by: hex(op.by) };
    case 'wfi': return { op: 'wfi', limit: hex(op.limit) };
    case 'wfit': return { op: 'wfit', deadline: hex(op.deadline) };
    case 'eret': return { op: 'eret' };
    case 'exit': return { op: 'exit' };
    default:
      return unreachable(op, 'op');
  }
}

export function observationJson(o: Observation | Expectation): Record<string, unknown> {
  const out: Record<string, unknown> = { irq: irqList(o.irq) };
  if (o.value !== undefined) out.value = hex(o.value);
  if ('unknown' in o && o.unknown !== undefined && o.unknown !== 0n) out.unknown = hex(o.unknown);
  if (o.fault !== undefined) out.fault = o.fault;
  if (o.elapsed !== undefined) out.elapsed = hex(o.elapsed);
  return out;
}

/** The JSON object of a trace document (for embedding in other documents). */
export function traceJson(t: Trace): Record<string, unknown> {
  const out: Record<string, unknown> = { format: TRACE_FORMAT, config: configJson(t.config), ops: t.ops.map(opJson) };
  if (t.observations) out.observations = t.observations.map(observationJson);
  return out;
}

/** A trace document as text: readable, one op per line, ending in a newline. */
export function formatTrace(t: Trace): string {
  const lines = (xs: unknown[]): string =>
    xs.length === 0 ? '[]' : '[\n' + xs.map((x) => '    ' + JSON.stringify(x)).join(',\n') + '\n  ]';
  const j = traceJson(t);
  let s = '{\n';
  s += `  "format": ${JSON.stringify(j.format)},\n`;
  s += `  "config": ${JSON.stringify(j.config)},\n`;
  s += `  "ops": ${lines(j.ops as unknown[])}`;
  if (j.observations) s += `,\n  "observations": ${lines(j.observations as unknown[])}`;
  return s + '\n}\n';
}
