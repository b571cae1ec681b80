/**
 * Fuzzing the layout parser: whatever the text, parseLayoutText either returns a layout whose slots
 * are registers that may have slots, on distinct 8-byte aligned offsets inside the 4 KiB page, or
 * throws an InputError with a one-line message naming the file. Valid layouts round-trip.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { InputError } from '../../models/arch/errors.js';
import { parseLayoutText } from '../../models/layouts/file.js';
import type { Layout } from '../../models/arch/layout.js';
import { SLOT_KEYS } from '../../models/arch/registers.js';
import { architectedOffsetOf, architectedRegisterAt } from '../../models/arch/vncr.js';

const SOURCE = 'fuzz/layout.yaml';

function checkLayout(l: Layout): void {
  // Plain checks rather than expect(): this runs thousands of times.
  const fail = (why: string): never => {
    throw new Error(`bad layout (${why}): ${JSON.stringify({ ...l, slots: [...l.slots] })}`);
  };
  if (typeof l.name !== 'string' || l.name.trim() === '') fail('name');
  if (l.source !== SOURCE) fail('source');
  const offsets = [...l.slots.values()];
  if (new Set(offsets).size !== offsets.length) fail('two registers share an offset');
  for (const [reg, off] of l.slots) {
    if (!SLOT_KEYS.includes(reg)) fail(`register ${reg}`);
    if (!Number.isInteger(off) || off % 8 !== 0 || off < 0 || off > 0xff8 || Object.is(off, -0)) fail(`offset ${off}`);
  }
}

/** Parse; on success check the layout; on failure the error must be a one-line InputError naming the file. */
function parseChecked(text: string): Layout | InputError {
  try {
    const l = parseLayoutText(text, SOURCE);
    checkLayout(l);
    return l;
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`not an InputError: ${String(e)}`);
    if (/[\r\n\u2028\u2029]/.test(e.message) || !e.message.startsWith(SOURCE)) throw new Error(`bad message: ${JSON.stringify(e.message)}`);
    return e;
  }
}

/** Offsets a register may use without allowArchitectedOffsets: unassigned ones, or its own. */
const FREE_OFFSETS = Array.from({ length: 512 }, (_, i) => i * 8).filter((o) => architectedRegisterAt(o) === undefined);

interface Doc {
  format: unknown;
  name: unknown;
  description?: unknown;
  allowArchitectedOffsets?: unknown;
  slots: Array<{ reg: unknown; offset: unknown }>;
  [k: string]: unknown;
}

/** A valid layout document, with offsets written as hex strings or integers. */
const validDoc: fc.Arbitrary<Doc> = fc
  .tuple(
    fc.shuffledSubarray([...SLOT_KEYS]),
    fc.uniqueArray(fc.constantFrom(...FREE_OFFSETS), { minLength: SLOT_KEYS.length, maxLength: SLOT_KEYS.length }),
    fc.array(fc.boolean(), { minLength: SLOT_KEYS.length, maxLength: SLOT_KEYS.length }),
    fc.array(fc.integer({ min: 0, max: 2 }), { minLength: SLOT_KEYS.length, maxLength: SLOT_KEYS.length }),
    fc.stringMatching(/^[a-z0-9-]{1,20}$/),
    fc.option(fc.string(), { nil: undefined }),
  )
  .map(([regs, free, useOwn, style, name, description]) => {
    const slots = regs.map((reg, i) => {
      const own = architectedOffsetOf(reg);
      const off = useOwn[i] && own !== undefined ? own : free[i]!;
      const offset = style[i] === 0 ? `0x${off.toString(16)}` : style[i] === 1 ? `0x${off.toString(16).toUpperCase()}` : off;
      return { reg, offset };
    });
    // Registers on their own offsets and others on free ones can still collide: keep the first.
    const seen = new Set<number>();
    const unique = slots.filter((s) => {
      const n = typeof s.offset === 'number' ? s.offset : parseInt(s.offset, 16);
      if (seen.has(n)) return false;
      seen.add(n);
      return true;
    });
    const doc: Doc = { format: 'nvconform-layout/1', name, slots: unique };
    if (description !== undefined) doc.description = description;
    return doc;
  });

const serialize = (doc: unknown, yaml: boolean): string => (yaml ? stringify(doc) : JSON.stringify(doc, null, 2));

const junk = fc.oneof(
  fc.jsonValue(),
  fc.integer({ min: -64, max: 5000 }),
  fc.integer({ min: -64, max: 5000 }).map((n) => `0x${n.toString(16)}`),
  fc.constantFrom(...SLOT_KEYS).map((k) => k.toLowerCase()),
  fc.constantFrom(...SLOT_KEYS),
  fc.constantFrom('0x168', '0x16c', '0x1000', '0xff8', 'nvconform-layout/1', '', 'CNTV_CVAL_EL02', 'HCR_EL2'),
);

type Mutation =
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'delete'; key: string }
  | { kind: 'slot'; index: number; field: string; value: unknown }
  | { kind: 'dropSlotField'; index: number; field: 'reg' | 'offset' }
  | { kind: 'replaceSlot'; index: number; value: unknown }
  | { kind: 'copySlot'; index: number };

const TOP = ['format', 'name', 'description', 'allowArchitectedOffsets', 'slots'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.oneof(fc.constantFrom(...TOP), fc.string()), value: junk }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...TOP) }),
  fc.record({ kind: fc.constant('slot' as const), index: fc.nat(9), field: fc.oneof(fc.constantFrom('reg', 'offset'), fc.string()), value: junk }),
  fc.record({ kind: fc.constant('dropSlotField' as const), index: fc.nat(9), field: fc.constantFrom('reg' as const, 'offset' as const) }),
  fc.record({ kind: fc.constant('replaceSlot' as const), index: fc.nat(9), value: junk }),
  fc.record({ kind: fc.constant('copySlot' as const), index: fc.nat(9) }),
);

function mutate(doc: Doc, muts: readonly Mutation[]): unknown {
  const d = structuredClone<Doc>(doc);
  const slots = d.slots as unknown[];
  for (const m of muts) {
    const n = slots.length;
    switch (m.kind) {
      case 'set':
        d[m.key] = m.value;
        break;
      case 'delete':
        delete d[m.key];
        break;
      case 'slot':
        if (n > 0 && typeof slots[m.index % n] === 'object' && slots[m.index % n] !== null) (slots[m.index % n] as Record<string, unknown>)[m.field] = m.value;
        break;
      case 'dropSlotField':
        if (n > 0 && typeof slots[m.index % n] === 'object' && slots[m.index % n] !== null) delete (slots[m.index % n] as Record<string, unknown>)[m.field];
        break;
      case 'replaceSlot':
        if (n > 0) slots[m.index % n] = m.value;
        break;
      case 'copySlot':
        if (n > 0) slots.push(structuredClone(slots[m.index % n]));
        break;
    }
  }
  return d;
}

/** Character-level edits: delete, or insert text that is meaningful to YAML/JSON. */
const textEdit = fc.record({
  at: fc.nat(),
  del: fc.nat(4),
  ins: fc.oneof(fc.constantFrom('', '{', '}', '[', ']', ':', ',', '"', "'", '- ', '#', '&a ', '*a', '!!str ', '\n', '\t', '  ', '0x', '---\n', '? '), fc.string({ maxLength: 4 })),
});

function applyEdits(text: string, edits: ReadonlyArray<{ at: number; del: number; ins: string }>): string {
  let t = text;
  for (const e of edits) {
    const at = t.length === 0 ? 0 : e.at % (t.length + 1);
    t = t.slice(0, at) + e.ins + t.slice(at + e.del);
  }
  return t;
}

describe('layout parser fuzzing', () => {
  test('valid documents (JSON and YAML) parse to exactly their slots', () => {
    fc.assert(
      fc.property(validDoc, fc.boolean(), (doc, yaml) => {
        const got = parseChecked(serialize(doc, yaml));
        expect(got).not.toBeInstanceOf(InputError);
        const l = got as Layout;
        expect(l.name).toBe(doc.name);
        expect(l.description).toBe(doc.description ?? '');
        expect([...l.slots]).toEqual(doc.slots.map((s) => [s.reg, typeof s.offset === 'number' ? s.offset : parseInt(s.offset as string, 16)]));
      }),
      { numRuns: 400 },
    );
  });

  test('arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, yaml) => {
        parseChecked(serialize(v, yaml));
      }),
      { numRuns: 1200 },
    );
  });

  test('arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom(...'{}[]:,"\'-#&*!|>?%@` \n\t0x18abcFORMATslots'.split('')) })), (s) => {
        parseChecked(s);
      }),
      { numRuns: 800 },
    );
  });

  test('structurally mutated valid documents', () => {
    fc.assert(
      fc.property(validDoc, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (doc, muts, yaml) => {
        parseChecked(serialize(mutate(doc, muts), yaml));
      }),
      { numRuns: 1200 },
    );
  });

  test('textually mutated valid documents', () => {
    fc.assert(
      fc.property(validDoc, fc.array(textEdit, { minLength: 1, maxLength: 4 }), fc.boolean(), (doc, edits, yaml) => {
        parseChecked(applyEdits(serialize(doc, yaml), edits));
      }),
      { numRuns: 1200 },
    );
  });
});
