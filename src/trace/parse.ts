/**
 * Reading trace documents (nvconform-trace/1). Every malformed input is an InputError whose
 * message names the place (`ops[3].value`) and what was expected there.
 */
import { parseHex64 } from '../../models/arch/bits.js';
import { InputError, unreachable } from '../../models/arch/errors.js';
import { checkJsonNesting } from '../../models/arch/nesting.js';
import { REGISTER_BY_NAME } from '../../models/arch/registers.js';
import {
  ABSENT_FEATURES, FAULT_KINDS, FEATURES, TIMER_INDEX, TRACE_FORMAT, type Expectation, type Feature, type FaultKind, type Op,
  type TimerId, type Trace, type TraceConfig,
} from '../../models/arch/vocabulary.js';

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A value as short text for a message: JSON, with a BigInt shown as `5n` and a function as `a function`. */
export const show = (v: Json): string => {
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'function' ? '(a function)' : x));
  } catch {
    s = undefined; // a cycle, a throwing getter
  }
  if (typeof v === 'function') s = 'a function';
  if (s === undefined) s = typeof v === 'symbol' ? 'a symbol' : 'an unprintable value';
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
};

/** What kind of value a field holds, when it is not JSON data at all: "a BigInt", "a function". */
const notJson = (v: Json): string | undefined =>
  typeof v === 'bigint' ? 'a BigInt' : typeof v === 'function' ? 'a function' : typeof v === 'symbol' ? 'a symbol' : undefined;

function fail(where: string, what: string): never {
  throw new InputError(`${where}: ${what}`);
}

function hex64(v: Json, where: string): bigint {
  const odd = notJson(v);
  if (odd) fail(where, `expected a 64-bit value as a string "0x" followed by 1 to 16 hex digits, got ${odd}`);
  const x = parseHex64(v);
  if (x === undefined) fail(where, `expected a 64-bit value as a string "0x" followed by 1 to 16 hex digits, got ${show(v)}`);
  return x;
}

function onlyFields(o: Record<string, Json>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(where, `unexpected field '${k}' (allowed: ${allowed.join(', ')})`);
}

function register(v: Json, where: string): string {
  if (typeof v !== 'string') fail(where, `expected a register name, got ${show(v)}`);
  if (!REGISTER_BY_NAME.has(v)) {
    const upper = v.toUpperCase();
    fail(where, `unknown register '${v}'${REGISTER_BY_NAME.has(upper) ? ` (names are upper case: '${upper}')` : ''}`);
  }
  return v;
}

export function parseConfig(c: Json, where = 'config'): TraceConfig {
  if (!isObj(c)) fail(where, `expected an object, got ${show(c)}`);
  onlyFields(c, ['guest', 'features', 'count', 'init', 'absent'], where);
  if (c.guest !== 'vhe' && c.guest !== 'nvhe') fail(`${where}.guest`, `expected "vhe" or "nvhe", got ${show(c.guest)}`);
  const features: Feature[] = [];
  if (c.features !== undefined) {
    if (!Array.isArray(c.features)) fail(`${where}.features`, `expected a list, got ${show(c.features)}`);
    c.features.forEach((f, i) => {
      if (!FEATURES.includes(f as Feature)) fail(`${where}.features[${i}]`, `unknown feature ${show(f)} (known: ${FEATURES.join(', ')})`);
      if (!features.includes(f as Feature)) features.push(f as Feature);
    });
  }
  const absent: Feature[] = [];
  if (c.absent !== undefined) {
    if (!Array.isArray(c.absent)) fail(`${where}.absent`, `expected a list, got ${show(c.absent)}`);
    c.absent.forEach((f, i) => {
      if (!ABSENT_FEATURES.includes(f as Feature)) fail(`${where}.absent[${i}]`, `expected one of ${ABSENT_FEATURES.join(', ')} (the features implied unless named absent), got ${show(f)}`);
      if (features.includes(f as Feature)) fail(`${where}.absent[${i}]`, `${show(f)} is also in features`);
      if (!absent.includes(f as Feature)) absent.push(f as Feature);
    });
  }
  if (absent.includes('vhe') && c.guest === 'vhe') fail(`${where}.absent`, 'a "vhe" guest hypervisor runs with E2H=1, which needs FEAT_VHE');
  if (absent.includes('ecv-poff') && !features.includes('ecv')) fail(`${where}.absent`, '"ecv-poff" can only be absent from a CPU with "ecv"');
  const count = c.count === undefined ? 0n : hex64(c.count, `${where}.count`);
  const init: Record<string, bigint> = {};
  if (c.init !== undefined) {
    if (!isObj(c.init)) fail(`${where}.init`, `expected an object of register names to values, got ${show(c.init)}`);
    for (const [k, v] of Object.entries(c.init)) {
      register(k, `${where}.init`);
      init[k] = hex64(v, `${where}.init.${k}`);
    }
  }
  return { guest: c.guest, features, count, init, ...(absent.length ? { absent } : {}) };
}

const OP_FIELDS: Readonly<Record<Op['op'], readonly string[]>> = {
  msr: ['reg', 'value'], mrs: ['reg'], tick: ['by'], preempt: ['by'], wfi: ['limit'], wfit: ['deadline'], eret: [], exit: [],
};

export function parseOp(o: Json, where: string): Op {
  if (!isObj(o)) fail(where, `expected an op object, got ${show(o)}`);
  const kind = o.op;
  if (typeof kind !== 'string' || !Object.hasOwn(OP_FIELDS, kind)) {
    fail(`${where}.op`, `expected one of ${Object.keys(OP_FIELDS).join(', ')}, got ${show(kind)}`);
  }
  const fields = OP_FIELDS[kind as Op['op']];
  onlyFields(o, ['op', ...fields], where);
  for (const f of fields) if (!(f in o)) fail(where, `'${kind}' needs field '${f}'`);
  switch (kind as Op['op']) {
    case 'msr': return { op: 'msr', reg: register(o.reg, `${where}.reg`), value: hex64(o.value, `${where}.value`) };
    case 'mrs': return { op: 'mrs', reg: register(o.reg, `${where}.reg`) };
    case 'tick': return { op: 'tick', by: hex64(o.by, `${where}.by`) };
    case 'preempt': return { op: 'preempt', by: hex64(o.by, `${where}.by`) };
    case 'wfi': return { op: 'wfi', limit: hex64(o.limit, `${where}.limit`) };
    case 'wfit': return { op: 'wfit', deadline: hex64(o.deadline, `${where}.deadline`) };
    case 'eret': return { op: 'eret' };
    case 'exit': return { op: 'exit' };
    default:
      return unreachable(kind as never, 'op');
  }
}

const FAULTS: readonly FaultKind[] = FAULT_KINDS;

export function parseObservation(o: Json, where: string): Expectation {
  if (!isObj(o)) fail(where, `expected an observation object, got ${show(o)}`);
  onlyFields(o, ['irq', 'value', 'unknown', 'fault', 'elapsed'], where);
  if (!Array.isArray(o.irq)) fail(`${where}.irq`, `expected a list of timer names, got ${show(o.irq)}`);
  let irq = 0;
  let last = -1;
  o.irq.forEach((t, i) => {
    const idx = typeof t === 'string' && Object.hasOwn(TIMER_INDEX, t) ? TIMER_INDEX[t as TimerId] : undefined;
    if (idx === undefined) fail(`${where}.irq[${i}]`, `expected one of hptimer, hvtimer, ptimer, vtimer, got ${show(t)}`);
    if (idx <= last) fail(`${where}.irq`, `must be sorted and without repeats`);
    last = idx;
    irq |= 1 << idx;
  });
  const out: Expectation = { irq };
  if (o.value !== undefined) out.value = hex64(o.value, `${where}.value`);
  if (o.unknown !== undefined) out.unknown = hex64(o.unknown, `${where}.unknown`);
  if (o.elapsed !== undefined) out.elapsed = hex64(o.elapsed, `${where}.elapsed`);
  if (o.fault !== undefined) {
    if (!FAULTS.includes(o.fault as FaultKind)) fail(`${where}.fault`, `expected "undefined" or "trap", got ${show(o.fault)}`);
    out.fault = o.fault as FaultKind;
  }
  return out;
}

/** Parse a trace document already decoded from JSON. */
export function parseTraceValue(doc: Json): Trace {
  if (!isObj(doc)) fail('trace', `expected a JSON object, got ${show(doc)}`);
  onlyFields(doc, ['format', 'config', 'ops', 'observations'], 'trace');
  if (doc.format !== TRACE_FORMAT) fail('format', `expected "${TRACE_FORMAT}", got ${show(doc.format)}`);
  const config = parseConfig(doc.config);
  if (!Array.isArray(doc.ops)) fail('ops', `expected a list of ops, got ${show(doc.ops)}`);
  const ops = doc.ops.map((o, i) => parseOp(o, `ops[${i}]`));
  if (doc.observations === undefined) return { config, ops };
  if (!Array.isArray(doc.observations)) fail('observations', `expected a list, got ${show(doc.observations)}`);
  if (doc.observations.length !== ops.length) {
    fail('observations', `expected one per op (${ops.length}), got ${doc.observations.length}`);
  }
  return { config, ops, observations: doc.observations.map((o, i) => parseObservation(o, `observations[${i}]`)) };
}

/** JSON.parse whose failure is an InputError naming the source (for every JSON input file). */
export function parseJsonText(text: string, source: string): unknown {
  checkJsonNesting(text, source);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
}

/** Parse trace text; `source` (a file name) prefixes every message. */
export function parseTraceText(text: string, source: string): Trace {
  checkJsonNesting(text, source);
  let trace: Trace | undefined;
  try {
    trace = leanTrace(text);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${source}: ${e.message}`);
    if (!(e instanceof NotLean)) throw e;
  }
  if (trace) return trace;
  // Not a document the lean reader follows (a syntax error, an odd shape): JSON.parse decides,
  // with its own message for a syntax error.
  const doc = parseJsonText(text, source);
  try {
    return parseTraceValue(doc);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${source}: ${e.message}`);
    throw e;
  }
}

/** The lean reader gives up: the caller falls back to JSON.parse of the whole text. */
class NotLean extends Error {}

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * A trace document read without building its JSON tree: the top-level members are located by
 * scanning (iteratively, strings skipped), and `ops` and `observations` are parsed one element at
 * a time, so that a trace of a million ops costs its op list and not a second copy of it as JSON
 * values. The checks and messages are parseTraceValue's, in the same order. Any structure it does
 * not expect throws NotLean; every piece it keeps went through JSON.parse.
 */
function leanTrace(text: string): Trace {
  const n = text.length;
  let i = 0;
  const ws = (): void => {
    while (i < n && isWs(text.charCodeAt(i))) i++;
  };
  const expect = (c: string): void => {
    if (text[i] !== c) throw new NotLean();
    i++;
  };
  const stringEnd = (at: number): number => {
    for (let j = at + 1; j < n; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x5c) j++;
      else if (d === 0x22) return j + 1;
    }
    throw new NotLean();
  };
  /** The end of the JSON value starting at `i` (not validated: JSON.parse of the slice does that). */
  const valueEnd = (): number => {
    const c = text.charCodeAt(i);
    if (c === 0x22) return stringEnd(i);
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      for (let j = i; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x22) j = stringEnd(j) - 1;
        else if (d === 0x7b || d === 0x5b) depth++;
        else if ((d === 0x7d || d === 0x5d) && --depth === 0) return j + 1;
      }
      throw new NotLean();
    }
    let j = i;
    for (; j < n; j++) {
      const d = text.charCodeAt(j);
      if (isWs(d) || d === 0x2c || d === 0x7d || d === 0x5d) break;
    }
    if (j === i) throw new NotLean();
    return j;
  };
  const json = (a: number, b: number): unknown => {
    try {
      return JSON.parse(text.slice(a, b));
    } catch {
      throw new NotLean();
    }
  };

  ws();
  expect('{');
  const members = new Map<string, [number, number]>();
  ws();
  if (text[i] === '}') i++;
  else {
    for (;;) {
      ws();
      if (text[i] !== '"') throw new NotLean();
      const keyEnd = stringEnd(i);
      const key = json(i, keyEnd) as string;
      i = keyEnd;
      ws();
      expect(':');
      ws();
      const start = i;
      i = valueEnd();
      members.set(key, [start, i]);
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      expect('}');
      break;
    }
  }
  ws();
  if (i !== n) throw new NotLean();

  // Every piece goes through JSON.parse before any check, so that a syntax error anywhere is
  // reported as one (by the fallback) before what the document means, as JSON.parse of the whole would.
  const values = new Map<string, unknown>();
  for (const [k, [a, b]] of members) if (k !== 'ops' && k !== 'observations') values.set(k, json(a, b));
  /** Each element of the list member `k`, parsed on its own; undefined if `k` is not a list. The first InputError is held until every element has been read. */
  const elements = <T>(k: string, each: (v: unknown, index: number) => T): { list: T[]; error?: InputError } | undefined => {
    const m = members.get(k);
    if (!m) return undefined;
    if (text[m[0]] !== '[') {
      values.set(k, json(m[0], m[1]));
      return undefined;
    }
    const list: T[] = [];
    let error: InputError | undefined;
    i = m[0] + 1;
    ws();
    if (text[i] === ']') return { list };
    for (let index = 0; ; index++) {
      ws();
      const start = i;
      i = valueEnd();
      const v = json(start, i);
      if (!error) {
        try {
          list.push(each(v, index));
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          error = e;
        }
      }
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      expect(']');
      return { list, ...(error ? { error } : {}) };
    }
  };
  const parsedOps = elements('ops', (v, k) => parseOp(v, `ops[${k}]`));
  const parsedObs = elements('observations', (v, k) => parseObservation(v, `observations[${k}]`));

  const allowed = ['format', 'config', 'ops', 'observations'];
  for (const k of members.keys()) if (!allowed.includes(k)) fail('trace', `unexpected field '${k}' (allowed: ${allowed.join(', ')})`);
  const format = values.get('format');
  if (format !== TRACE_FORMAT) fail('format', `expected "${TRACE_FORMAT}", got ${show(format)}`);
  const config = parseConfig(values.get('config'));
  if (!parsedOps) fail('ops', `expected a list of ops, got ${show(values.get('ops'))}`);
  if (parsedOps.error) throw parsedOps.error;
  const ops = parsedOps.list;
  if (!members.has('observations')) return { config, ops };
  if (!parsedObs) fail('observations', `expected a list, got ${show(values.get('observations'))}`);
  if (parsedObs.error) throw parsedObs.error;
  const observations = parsedObs.list;
  if (observations.length !== ops.length) fail('observations', `expected one per op (${ops.length}), got ${observations.length}`);
  return { config, ops, observations };
}
