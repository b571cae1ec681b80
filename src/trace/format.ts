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

/** An op as table cells: kind, register, value (hex), '' where the op has none. */
export function opCells(op: Op): [string, string, string] {
  switch (op.op) {
    case 'msr': return ['msr', op.reg, hex(op.value)];
    case 'mrs': return ['mrs', op.reg, ''];
    case 'tick': case 'preempt': return [op.op, '', hex(op.by)];
    case 'wfi': return ['wfi', '', hex(op.limit)];
    case 'wfit': return ['wfit', '', hex(op.deadline)];
    case 'eret': case 'exit': return [op.op, '', ''];
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
  let s = '';
  for (const chunk of formatTraceChunks(t.config, t.ops, t.observations?.map((o) => JSON.stringify(observationJson(o))))) s += chunk;
  return s;
}

/**
 * formatTrace in pieces (one per line), for writing a long trace without building its text:
 * `observations` are given as their JSON lines (or not at all).
 */
export function* formatTraceChunks(config: TraceConfig, ops: readonly Op[], observations?: Iterable<string> & { readonly length: number }): Generator<string> {
  yield `{\n  "format": ${JSON.stringify(TRACE_FORMAT)},\n  "config": ${JSON.stringify(configJson(config))},\n  "ops": `;
  if (ops.length === 0) yield '[]';
  else {
    yield '[\n';
    for (let i = 0; i < ops.length; i++) yield '    ' + JSON.stringify(opJson(ops[i]!)) + (i === ops.length - 1 ? '\n  ]' : ',\n');
  }
  if (observations) {
    yield ',\n  "observations": ';
    if (observations.length === 0) yield '[]';
    else {
      yield '[\n';
      let i = 0;
      for (const o of observations) yield '    ' + o + (++i === observations.length ? '\n  ]' : ',\n');
    }
  }
  yield '\n}\n';
}
