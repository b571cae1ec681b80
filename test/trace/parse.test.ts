/**
 * The trace parser (shared/spec/trace-format.md): every malformed input is an InputError whose
 * message names the place; well-formed traces round-trip through formatTrace and replay tokens;
 * arbitrary JSON never makes the parser throw anything but InputError.
 */
import fc from 'fast-check';
import { anyTraceArb, opArb as anyOpArb, u64Arb } from '../support/arbitraries.js';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../models/arch/errors.js';
import { formatTrace } from '../../src/trace/format.js';
import { parseTraceText, parseTraceValue } from '../../src/trace/parse.js';
import { decodeToken, encodeToken } from '../../src/trace/token.js';

const FMT = 'nvconform-trace/1';
const MASK = (1n << 64n) - 1n;

/** A well-formed document to mutate. */
function doc(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: FMT,
    config: { guest: 'vhe', features: [], count: '0x0' },
    ops: [
      { op: 'msr', reg: 'CNTV_CVAL_EL02', value: '0x100' },
      { op: 'mrs', reg: 'CNTV_CTL_EL02' },
      { op: 'tick', by: '0x10' },
    ],
    ...over,
  };
}
const withOp = (i: number, op: unknown): Record<string, unknown> => {
  const d = doc();
  const ops = [...(d.ops as unknown[])];
  ops[i] = op;
  return { ...d, ops };
};
const withConfig = (c: Record<string, unknown>): Record<string, unknown> => doc({ config: { guest: 'vhe', ...c } });

/** Parse text and return the InputError's message; fails the test if the text parses or throws anything else. */
function errorOf(text: string, source = 'trace.json'): string {
  let thrown: unknown;
  try {
    parseTraceText(text, source);
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an InputError').toBeInstanceOf(InputError);
  return (thrown as InputError).message;
}
const errorOfDoc = (d: unknown): string => errorOf(JSON.stringify(d));

describe('parseTraceText rejects malformed input with an InputError naming the place', () => {
  const cases: [string, unknown, string][] = [
    ['a JSON value that is not an object', [1, 2], 'trace:'],
    ['an unexpected top-level field', doc({ extra: 1 }), "unexpected field 'extra'"],
    ['a missing format', doc({ format: undefined }), 'format:'],
    ['a wrong format string', doc({ format: 'nvconform-trace/2' }), 'format: expected "nvconform-trace/1"'],
    ['a missing config', doc({ config: undefined }), 'config: expected an object'],
    ['a config that is a list', doc({ config: [] }), 'config: expected an object'],
    ['a bad guest', withConfig({ guest: 'kvm' }), 'config.guest'],
    ['a missing guest', doc({ config: { features: [] } }), 'config.guest'],
    ['an upper-case guest', withConfig({ guest: 'VHE' }), 'config.guest'],
    ['an unknown feature', withConfig({ features: ['ecv', 'sve'] }), 'config.features[1]'],
    ['features not a list', withConfig({ features: 'ecv' }), 'config.features'],
    ['a config count without 0x', withConfig({ count: '100' }), 'config.count'],
    ['a config count that is a number', withConfig({ count: 16 }), 'config.count'],
    ['an unexpected config field', withConfig({ speed: 1 }), "config: unexpected field 'speed'"],
    ['an init of an unknown register', withConfig({ init: { CNTX_EL2: '0x1' } }), 'config.init'],
    ['an init value that is bad hex', withConfig({ init: { CNTVOFF_EL2: '0xg' } }), 'config.init.CNTVOFF_EL2'],
    ['init not an object', withConfig({ init: ['CNTVOFF_EL2'] }), 'config.init'],
    ['ops not a list', doc({ ops: {} }), 'ops: expected a list'],
    ['ops missing', doc({ ops: undefined }), 'ops: expected a list'],
    ['an op that is not an object', withOp(1, 'mrs'), 'ops[1]'],
    ['a value without 0x', withOp(2, { op: 'msr', reg: 'CNTV_CTL_EL0', value: '100' }), 'ops[2].value'],
    ['a value with 17 hex digits', withOp(2, { op: 'msr', reg: 'CNTV_CTL_EL0', value: '0x1' + '0'.repeat(16) }), 'ops[2].value'],
    ['a value that is a number', withOp(2, { op: 'msr', reg: 'CNTV_CTL_EL0', value: 256 }), 'ops[2].value'],
    ['a value "0x" with no digits', withOp(2, { op: 'msr', reg: 'CNTV_CTL_EL0', value: '0x' }), 'ops[2].value'],
    ['a negative value', withOp(2, { op: 'msr', reg: 'CNTV_CTL_EL0', value: '-0x1' }), 'ops[2].value'],
    ['a value with spaces', withOp(2, { op: 'msr', reg: 'CNTV_CTL_EL0', value: ' 0x1' }), 'ops[2].value'],
    ['a bigint-looking decimal string', withOp(0, { op: 'tick', by: '16' }), 'ops[0].by'],
    ['a bad wfi limit', withOp(0, { op: 'wfi', limit: null }), 'ops[0].limit'],
    ['a bad preempt amount', withOp(0, { op: 'preempt', by: '0xfffffffffffffffff' }), 'ops[0].by'],
    ['an unknown op', withOp(1, { op: 'hvc' }), 'ops[1].op'],
    ['an op without op', withOp(1, { reg: 'CNTV_CTL_EL0' }), 'ops[1].op'],
    ['a missing field', withOp(0, { op: 'msr', reg: 'CNTV_CTL_EL0' }), "ops[0]: 'msr' needs field 'value'"],
    ['a missing tick amount', withOp(2, { op: 'tick' }), "ops[2]: 'tick' needs field 'by'"],
    ['an unexpected field', withOp(1, { op: 'mrs', reg: 'CNTV_CTL_EL0', value: '0x1' }), "ops[1]: unexpected field 'value'"],
    ['a field on eret', withOp(1, { op: 'eret', reg: 'CNTV_CTL_EL0' }), "ops[1]: unexpected field 'reg'"],
    ['an unknown register', withOp(1, { op: 'mrs', reg: 'CNTV_CTL_EL3' }), "ops[1].reg: unknown register 'CNTV_CTL_EL3'"],
    ['a lower-case register name', withOp(1, { op: 'mrs', reg: 'cntv_ctl_el0' }), "ops[1].reg: unknown register 'cntv_ctl_el0' (names are upper case: 'CNTV_CTL_EL0')"],
    ['a register that is not a string', withOp(1, { op: 'mrs', reg: 7 }), 'ops[1].reg'],
    ['observations not a list', doc({ observations: {} }), 'observations: expected a list'],
    ['fewer observations than ops', doc({ observations: [{ irq: [] }] }), 'observations: expected one per op (3), got 1'],
    ['more observations than ops', doc({ observations: [{ irq: [] }, { irq: [] }, { irq: [] }, { irq: [] }] }), 'observations: expected one per op (3), got 4'],
    ['an unsorted irq list', doc({ observations: [{ irq: [] }, { irq: ['vtimer', 'ptimer'] }, { irq: [] }] }), 'observations[1].irq: must be sorted'],
    ['a repeated irq', doc({ observations: [{ irq: [] }, { irq: ['ptimer', 'ptimer'] }, { irq: [] }] }), 'observations[1].irq'],
    ['an unknown irq name', doc({ observations: [{ irq: [] }, { irq: [] }, { irq: ['timer0'] }] }), 'observations[2].irq[0]'],
    ['a missing irq', doc({ observations: [{ irq: [] }, {}, { irq: [] }] }), 'observations[1].irq'],
    ['a bad observed value', doc({ observations: [{ irq: [] }, { irq: [], value: 5 }, { irq: [] }] }), 'observations[1].value'],
    ['a bad unknown mask', doc({ observations: [{ irq: [] }, { irq: [], unknown: '0xZ' }, { irq: [] }] }), 'observations[1].unknown'],
    ['a bad elapsed', doc({ observations: [{ irq: [] }, { irq: [] }, { irq: [], elapsed: '1' }] }), 'observations[2].elapsed'],
    ['an unknown fault kind', doc({ observations: [{ irq: [], fault: 'abort' }, { irq: [] }, { irq: [] }] }), 'observations[0].fault'],
    ['an unexpected observation field', doc({ observations: [{ irq: [], el: 2 }, { irq: [] }, { irq: [] }] }), "observations[0]: unexpected field 'el'"],
  ];

  it.each(cases)('%s', (_what, d, place) => {
    const msg = errorOfDoc(d);
    expect(msg.startsWith('trace.json: ')).toBe(true);
    expect(msg).toContain(place);
  });

  it('not JSON at all', () => {
    const msg = errorOf('{"format": "nvconform-trace/1", ', 'broken.json');
    expect(msg).toMatch(/^broken\.json: not valid JSON/);
  });

  it('an empty file', () => {
    expect(errorOf('', 'empty.json')).toMatch(/^empty\.json: not valid JSON/);
  });

  it('the message is a single line', () => {
    for (const [, d] of cases) expect(errorOfDoc(d)).not.toContain('\n');
  });

  // Names of Object.prototype members must not be mistaken for op kinds or timer names.
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('an op named "%s" is an InputError at ops[0].op', (name) => {
    expect(errorOfDoc(withOp(0, { op: name }))).toContain('ops[0].op');
  });

  it.each(['constructor', 'toString', 'valueOf'])('an irq entry "%s" is an InputError at observations[0].irq[0]', (name) => {
    expect(errorOfDoc(doc({ observations: [{ irq: [name] }, { irq: [] }, { irq: [] }] }))).toContain('observations[0].irq[0]');
  });
});

describe('parseTraceText accepts well-formed input', () => {
  it('hex digits in either case, 1 to 16 digits, default count 0 and features []', () => {
    const t = parseTraceText(JSON.stringify({
      format: FMT,
      config: { guest: 'nvhe' },
      ops: [
        { op: 'msr', reg: 'CNTVOFF_EL2', value: '0xFFFFffffFFFFffff' },
        { op: 'tick', by: '0x0' },
        { op: 'wfi', limit: '0x0000000000000001' },
        { op: 'eret' },
        { op: 'exit' },
        { op: 'preempt', by: '0xAb' },
      ],
    }), 'ok.json');
    expect(t.config).toEqual({ guest: 'nvhe', features: [], count: 0n, init: {} });
    expect(t.ops).toEqual([
      { op: 'msr', reg: 'CNTVOFF_EL2', value: MASK },
      { op: 'tick', by: 0n },
      { op: 'wfi', limit: 1n },
      { op: 'eret' },
      { op: 'exit' },
      { op: 'preempt', by: 0xabn },
    ]);
    expect(t.observations).toBeUndefined();
  });

  it('observations become irq masks (bit0 hptimer .. bit3 vtimer) with value, unknown, fault, elapsed', () => {
    const t = parseTraceText(JSON.stringify({
      format: FMT,
      config: { guest: 'vhe', features: ['ecv'], count: '0x10', init: { CNTVOFF_EL2: '0x5' } },
      ops: [{ op: 'mrs', reg: 'CNTV_TVAL_EL02' }, { op: 'wfi', limit: '0x10' }, { op: 'eret' }, { op: 'mrs', reg: 'CNTHP_CTL_EL2' }],
      observations: [
        { irq: ['hptimer', 'hvtimer', 'ptimer', 'vtimer'], value: '0x0', unknown: '0xffffffffffffffff' },
        { irq: ['vtimer'], elapsed: '0x3' },
        { irq: ['hvtimer'] },
        { irq: [], fault: 'undefined' },
      ],
    }), 'obs.json');
    expect(t.config).toEqual({ guest: 'vhe', features: ['ecv'], count: 0x10n, init: { CNTVOFF_EL2: 5n } });
    expect(t.observations).toEqual([
      { irq: 15, value: 0n, unknown: MASK },
      { irq: 8, elapsed: 3n },
      { irq: 2 },
      { irq: 0, fault: 'undefined' },
    ]);
  });
});

// ---- round trips ----
const traceArb = anyTraceArb;
const opArb = anyOpArb({ values: u64Arb, times: u64Arb });

describe('round trips (property)', () => {
  it('formatTrace then parseTraceText gives the same trace', () => {
    fc.assert(fc.property(traceArb, (generated) => {
      const t = structuredClone(generated); // plain prototypes, so toStrictEqual compares data only
      const text = formatTrace(t);
      expect(parseTraceText(text, 'rt.json')).toStrictEqual(t);
      // and formatting is a fixed point
      expect(formatTrace(parseTraceText(text, 'rt.json'))).toBe(text);
    }));
  });

  it('encodeToken then decodeToken gives the same config and ops', () => {
    fc.assert(fc.property(traceArb, (generated) => {
      const t = structuredClone(generated);
      const token = encodeToken(t);
      expect(token.startsWith('nvc1:')).toBe(true);
      expect(token).toMatch(/^nvc1:[A-Za-z0-9_-]*$/);
      expect(decodeToken(token)).toStrictEqual({ config: t.config, ops: t.ops });
    }));
  });

  it('a corrupted token is an InputError', () => {
    const token = encodeToken({ config: { guest: 'vhe', features: [], count: 0n, init: {} }, ops: [{ op: 'eret' }] });
    for (const bad of ['nvc1:', 'nvc1:!!!!', token.slice(0, token.length - 3), 'nvc2:' + token.slice(5), 'nvc1:' + 'A'.repeat(20)]) {
      expect(() => decodeToken(bad), bad).toThrow(InputError);
    }
  });
});

// ---- fuzz ----
function parsesOrInputError(v: unknown): void {
  try {
    parseTraceValue(v);
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`non-InputError for ${JSON.stringify(v)?.slice(0, 200)}: ${String(e)}`);
  }
}

/** Replace the value at a random path of a well-formed document with an arbitrary JSON value. */
const mutatedDocArb = fc
  .tuple(traceArb, fc.jsonValue({ maxDepth: 3 }), fc.nat(), fc.nat())
  .map(([t, junk, a, b]) => {
    const d = JSON.parse(formatTrace(t)) as Record<string, unknown>;
    const holders: Record<string, unknown>[] = [d];
    const walk = (x: unknown): void => {
      if (typeof x === 'object' && x !== null) {
        holders.push(x as Record<string, unknown>);
        for (const y of Object.values(x)) walk(y);
      }
    };
    walk(d.config);
    walk(d.ops);
    walk(d.observations);
    const h = holders[a % holders.length]!;
    const keys = Object.keys(h);
    const key = keys.length > 0 && b % 3 !== 0 ? keys[b % keys.length]! : `k${b % 5}`;
    h[key] = junk;
    return d;
  });

describe('parser fuzz (property)', () => {
  it('arbitrary JSON values either parse or throw InputError', () => {
    fc.assert(fc.property(fc.jsonValue(), parsesOrInputError), { numRuns: 500 });
  });

  it('arbitrary JS values either parse or throw InputError', () => {
    fc.assert(fc.property(fc.anything(), parsesOrInputError), { numRuns: 500 });
  });

  it('objects shaped like traces with arbitrary fields either parse or throw InputError', () => {
    const shaped = fc.record({
      format: fc.oneof(fc.constant(FMT), fc.jsonValue()),
      config: fc.oneof(fc.record({ guest: fc.constantFrom('vhe', 'nvhe'), features: fc.jsonValue(), count: fc.jsonValue(), init: fc.jsonValue() }, { requiredKeys: ['guest'] }), fc.jsonValue()),
      ops: fc.array(fc.oneof(opArb.map((o) => JSON.parse(formatTrace({ config: { guest: 'vhe', features: [], count: 0n, init: {} }, ops: [o] })).ops[0]), fc.dictionary(fc.constantFrom('op', 'reg', 'value', 'by', 'limit', 'x'), fc.jsonValue()))),
      observations: fc.jsonValue(),
    }, { requiredKeys: ['format', 'config', 'ops'] });
    fc.assert(fc.property(shaped, parsesOrInputError), { numRuns: 500 });
  });

  it('a well-formed trace with one value replaced by arbitrary JSON either parses or throws InputError', () => {
    fc.assert(fc.property(mutatedDocArb, parsesOrInputError), { numRuns: 1000 });
  });

  it('arbitrary text either parses or throws InputError', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      try {
        parseTraceText(s, 'fuzz.json');
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
      }
    }), { numRuns: 300 });
  });
});
