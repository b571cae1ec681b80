/**
 * Replay tokens: encode then decode gives back the same config, ops and extra, for generated
 * traces (resolved against the reference, as check does) and for arbitrary ops; a corrupted
 * token is always an InputError, never another exception.
 */
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReferenceModel } from '../../models/reference/reference.js';
import { REGISTER_NAMES } from '../../models/arch/registers.js';
import { InputError } from '../../models/arch/errors.js';
import { traceArb, type GenOp } from '../../src/check/generate.js';
import { resolveOp } from '../../src/engine/abstract-ops.js';
import { decodeToken, encodeToken, TOKEN_PREFIX, type DecodedToken } from '../../src/trace/token.js';
import type { Op, TraceConfig } from '../../models/arch/vocabulary.js';

const MASK64 = (1n << 64n) - 1n;
const u64 = fc.bigInt({ min: 0n, max: MASK64 });

/** The concrete trace check would run for a generated one. */
function resolve([config, gops]: [TraceConfig, GenOp[]]): { config: TraceConfig; ops: Op[] } {
  const ref = new ReferenceModel(config);
  const ops: Op[] = [];
  for (const g of gops) {
    const op = resolveOp(g, ref);
    if (!op) continue;
    ref.step(op);
    ops.push(op);
  }
  return { config, ops };
}

const generatedTrace = traceArb({ maxOps: 40 }).map(resolve);

/** Any op, valid at its EL or not (a token does not judge validity), any register, any value. */
const anyOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('msr' as const), reg: fc.constantFrom(...REGISTER_NAMES), value: u64 }),
  fc.record({ op: fc.constant('mrs' as const), reg: fc.constantFrom(...REGISTER_NAMES) }),
  fc.record({ op: fc.constant('tick' as const), by: u64 }),
  fc.record({ op: fc.constant('preempt' as const), by: u64 }),
  fc.record({ op: fc.constant('wfi' as const), limit: u64 }),
  fc.constant<Op>({ op: 'eret' }),
  fc.constant<Op>({ op: 'exit' }),
);
const anyConfig: fc.Arbitrary<TraceConfig> = fc.record({
  guest: fc.constantFrom('vhe' as const, 'nvhe' as const),
  features: fc.constantFrom<TraceConfig['features']>([], ['ecv']),
  count: u64,
  init: fc.dictionary(fc.constantFrom('CNTHCTL_EL2', 'CNTVOFF_EL2', 'CNTKCTL_EL1', 'CNTV_CVAL_EL02', 'CNTP_CTL_EL02'), u64),
});
const directTrace = fc.record({ config: anyConfig, ops: fc.array(anyOp, { maxLength: 60 }) });

/** Extra objects: anything JSON can carry as an object. */
const extraArb: fc.Arbitrary<object> = fc.dictionary(fc.string(), fc.jsonValue());
const asJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

describe('replay tokens round-trip', () => {
  it('generated traces with arbitrary extra objects', () => {
    fc.assert(fc.property(generatedTrace, extraArb, (t, extra) => {
      const tok = encodeToken(t, extra);
      expect(tok.startsWith(TOKEN_PREFIX)).toBe(true);
      expect(tok.slice(TOKEN_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]*$/);
      const d = decodeToken(tok);
      expect(d.config).toEqual(t.config);
      expect(d.ops).toEqual(t.ops);
      expect(d.extra).toEqual(asJson(extra));
      expect(d.observations).toBeUndefined();
    }), { numRuns: 300, seed: 1 });
  });

  it('arbitrary ops and configs, with and without extra', () => {
    fc.assert(fc.property(directTrace, fc.option(extraArb, { nil: undefined }), (t, extra) => {
      const d = decodeToken(encodeToken(t, extra));
      expect(d.config).toEqual(t.config);
      expect(d.ops).toEqual(t.ops);
      if (extra === undefined) expect('extra' in d).toBe(false);
      else expect(d.extra).toEqual(asJson(extra));
    }), { numRuns: 300, seed: 2 });
  });

  it('the replay options check puts in a token come back as they were', () => {
    const extra = { impl: 'nv2', layout: { name: 'mine', slots: [['CNTV_CVAL_EL0', 0x168]] }, hostEcvTraps: true, property: 'deferred' };
    const t = { config: { guest: 'nvhe' as const, features: ['ecv' as const], count: MASK64, init: { CNTVOFF_EL2: 1n } }, ops: [{ op: 'eret' as const }] };
    expect(decodeToken(encodeToken(t, extra))).toEqual({ ...t, extra });
  });
});

/** Decode, and insist that the only failure is an InputError with a one-line message. */
function decodeOrInputError(s: string): DecodedToken | InputError {
  try {
    return decodeToken(s);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).not.toContain('\n');
    expect((e as Error).message).toMatch(/^replay token: /);
    return e as InputError;
  }
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const validToken = fc.tuple(directTrace, fc.option(extraArb, { nil: undefined })).map(([t, x]) => encodeToken(t, x));
const rawToken = (text: string): string => TOKEN_PREFIX + deflateRawSync(Buffer.from(text, 'utf8')).toString('base64url');

describe('corrupted tokens are InputErrors, never anything else', () => {
  it('a base64url character replaced', () => {
    fc.assert(fc.property(validToken, fc.nat(), fc.constantFrom(...B64URL), (tok, at, ch) => {
      const i = TOKEN_PREFIX.length + (at % (tok.length - TOKEN_PREFIX.length));
      decodeOrInputError(tok.slice(0, i) + ch + tok.slice(i + 1));
    }), { numRuns: 500, seed: 3 });
  });

  it('truncated, or with characters inserted', () => {
    fc.assert(fc.property(validToken, fc.nat(), fc.string({ unit: fc.constantFrom(...B64URL), minLength: 1, maxLength: 8 }), (tok, at, ins) => {
      const i = TOKEN_PREFIX.length + (at % (tok.length - TOKEN_PREFIX.length));
      decodeOrInputError(tok.slice(0, i));
      decodeOrInputError(tok.slice(0, i) + ins + tok.slice(i));
    }), { numRuns: 300, seed: 4 });
  });

  it('random bodies after the prefix', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...B64URL), maxLength: 200 }), (body) => {
      decodeOrInputError(TOKEN_PREFIX + body);
    }), { numRuns: 500, seed: 5 });
  });

  it('well-deflated JSON that is not a trace (arbitrary JSON values)', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const r = decodeOrInputError(rawToken(JSON.stringify(v) ?? 'null'));
      expect(r).toBeInstanceOf(InputError);
    }), { numRuns: 500, seed: 6 });
  });

  it('well-deflated token documents with one field replaced by arbitrary JSON', () => {
    const field = fc.constantFrom('c', 'o', 'x', 'c.guest', 'c.features', 'c.count', 'c.init', 'o.0', 'o.0.op', 'o.0.reg', 'o.0.value');
    fc.assert(fc.property(field, fc.jsonValue(), (path, v) => {
      const doc: Record<string, unknown> = {
        c: { guest: 'vhe', features: [], count: '0x0', init: { CNTVOFF_EL2: '0x1' } },
        o: [{ op: 'msr', reg: 'CNTV_CVAL_EL02', value: '0x5' }],
        x: { impl: 'nv2' },
      };
      const keys = path.split('.');
      let at = doc;
      for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
      at[keys.at(-1)!] = v;
      decodeOrInputError(rawToken(JSON.stringify(doc)));
    }), { numRuns: 500, seed: 7 });
  });

  it.each([
    ['no prefix', 'hello'],
    ['another prefix', 'nvc2:' + encodeToken({ config: { guest: 'vhe', features: [], count: 0n, init: {} }, ops: [] }).slice(TOKEN_PREFIX.length)],
    ['empty body', TOKEN_PREFIX],
    ['not base64url', TOKEN_PREFIX + 'ab+/cd=='],
    ['garbage', TOKEN_PREFIX + 'garbage'],
    ['a JSON array', rawToken('[1,2]')],
    ['null', rawToken('null')],
    ['extra is an array', rawToken('{"c":{"guest":"vhe"},"o":[],"x":[]}')],
    ['extra is a string', rawToken('{"c":{"guest":"vhe"},"o":[],"x":"nv2"}')],
    ['an unknown register', rawToken('{"c":{"guest":"vhe"},"o":[{"op":"mrs","reg":"toString"}]}')],
    ['a __proto__ init key', rawToken('{"c":{"guest":"vhe","init":{"__proto__":"0x1"}},"o":[]}')],
    ['deeply nested', rawToken('{"c":' + '['.repeat(100_000) + ']'.repeat(100_000) + ',"o":[]}')],
    ['not UTF-8 JSON', TOKEN_PREFIX + deflateRawSync(Buffer.from([0xff, 0xfe, 0x00])).toString('base64url')],
  ])('%s', (_name, tok) => {
    expect(decodeOrInputError(tok)).toBeInstanceOf(InputError);
  });
});
