/**
 * One test per check of the layout file format, each in YAML and in JSON: the error is an
 * InputError whose one-line message names the file, the line and the path (with the slot index).
 */
import { describe, expect, test } from 'vitest';
import { InputError } from '../../models/arch/errors.js';
import { parseLayoutText } from '../../models/layouts/file.js';

/** The 1-based line of the `nth` (0-based) line containing `token`. */
function lineOf(text: string, token: string, nth = 0): number {
  const hits = text.split('\n').flatMap((l, i) => (l.includes(token) ? [i + 1] : []));
  const hit = hits[nth];
  if (hit === undefined) throw new Error(`test bug: ${JSON.stringify(token)} not found`);
  return hit;
}

function errorOf(text: string, source: string): InputError {
  try {
    parseLayoutText(text, source);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const err = e as InputError;
    expect(err.message).not.toMatch(/[\r\n]/);
    return err;
  }
  throw new Error(`expected ${source} to be rejected:\n${text}`);
}

interface Case {
  readonly name: string;
  readonly yaml: string;
  readonly json: string;
  /** The path the message names after `FILE:LINE: ` ('' for none). */
  readonly path: string;
  /** A token on the line the error must name, and which occurrence (default the first). */
  readonly at: string;
  readonly nth?: number;
  readonly jsonAt?: string;
  readonly jsonNth?: number;
  /** What the message must say (per format where the two differ, e.g. in a line number). */
  readonly msg: RegExp | { readonly yaml: RegExp; readonly json: RegExp };
}

const F = 'format: nvconform-layout/1';
const JF = '"format": "nvconform-layout/1",';

const CASES: readonly Case[] = [
  {
    name: 'format missing',
    yaml: 'name: t\nslots: []\n',
    json: '{\n  "name": "t",\n  "slots": []\n}\n',
    path: 'format',
    at: 'name',
    jsonAt: '{',
    msg: /format: missing; a layout file starts with format: nvconform-layout\/1/,
  },
  {
    name: 'format wrong',
    yaml: 'name: t\nformat: nvconform-layout/2\nslots: []\n',
    json: '{\n  "name": "t",\n  "format": "nvconform-layout/2",\n  "slots": []\n}\n',
    path: 'format',
    at: 'layout/2',
    msg: /expected "nvconform-layout\/1", got the string "nvconform-layout\/2"/,
  },
  {
    name: 'name missing',
    yaml: `${F}\nslots: []\n`,
    json: `{\n  ${JF}\n  "slots": []\n}\n`,
    path: 'name',
    at: 'format',
    jsonAt: '{',
    msg: /: name: missing; give the layout a name/,
  },
  {
    name: 'name empty',
    yaml: `${F}\nname: "  "\nslots: []\n`,
    json: `{\n  ${JF}\n  "name": "",\n  "slots": []\n}\n`,
    path: 'name',
    at: 'name',
    msg: /must not be empty/,
  },
  {
    name: 'name not a string',
    yaml: `${F}\nname: 42\nslots: []\n`,
    json: `{\n  ${JF}\n  "name": 42,\n  "slots": []\n}\n`,
    path: 'name',
    at: 'name',
    msg: /expected a string, got the number 42/,
  },
  {
    name: 'description not a string',
    yaml: `${F}\nname: t\ndescription: [a]\nslots: []\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "description": ["a"],\n  "slots": []\n}\n`,
    path: 'description',
    at: 'description',
    msg: /expected a string, got a list/,
  },
  {
    name: 'unknown top-level field',
    yaml: `${F}\nname: t\nslot: []\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slot": []\n}\n`,
    path: '',
    at: 'slot',
    msg: /unknown field "slot" \(did you mean "slots"\?\); a layout has the fields format, name, description, allowArchitectedOffsets, slots/,
  },
  {
    name: 'allowArchitectedOffsets not a boolean',
    yaml: `${F}\nname: t\nallowArchitectedOffsets: yes\nslots: []\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "allowArchitectedOffsets": "true",\n  "slots": []\n}\n`,
    path: 'allowArchitectedOffsets',
    at: 'allowArchitectedOffsets',
    msg: /expected true or false, got the string/,
  },
  {
    name: 'slots missing',
    yaml: `${F}\nname: t\n`,
    json: `{\n  ${JF}\n  "name": "t"\n}\n`,
    path: 'slots',
    at: 'format',
    jsonAt: '{',
    msg: /: slots: missing; list the slots/,
  },
  {
    name: 'slots not a list',
    yaml: `${F}\nname: t\nslots:\n  reg: CNTV_CVAL_EL0\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": {"reg": "CNTV_CVAL_EL0"}\n}\n`,
    path: 'slots',
    at: 'reg',
    jsonAt: 'slots',
    msg: /expected a list of \{reg, offset\}, got a mapping/,
  },
  {
    name: 'slot not an object',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_CVAL_EL0, offset: 0x168 }\n  - CNTV_CTL_EL0\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x168"},\n    "CNTV_CTL_EL0"\n  ]\n}\n`,
    path: 'slots[1]',
    at: 'CNTV_CTL_EL0',
    msg: /expected a mapping like \{reg: CNTV_CVAL_EL0, offset: "0x168"\}, got the string "CNTV_CTL_EL0"/,
  },
  {
    name: 'unknown slot field',
    yaml: `${F}\nname: t\nslots:\n  - reg: CNTV_CVAL_EL0\n    offest: 0x168\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0",\n     "offest": "0x168"}\n  ]\n}\n`,
    path: 'slots[0]',
    at: 'offest',
    msg: /unknown field "offest" \(did you mean "offset"\?\); a slot has the fields reg, offset/,
  },
  {
    name: 'slot without reg',
    yaml: `${F}\nname: t\nslots:\n  - offset: 0x168\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"offset": "0x168"}\n  ]\n}\n`,
    path: 'slots[0].reg',
    at: 'offset',
    msg: /: slots\[0\]\.reg: missing; name the register/,
  },
  {
    name: 'slot without offset',
    yaml: `${F}\nname: t\nslots:\n  - reg: CNTV_CVAL_EL0\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0"}\n  ]\n}\n`,
    path: 'slots[0].offset',
    at: 'CNTV_CVAL_EL0',
    msg: /: slots\[0\]\.offset: missing; give CNTV_CVAL_EL0's byte offset/,
  },
  {
    name: 'register in lower case',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTVOFF_EL2, offset: 0x60 }\n  - { reg: cntv_ctl_el0, offset: 0x170 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTVOFF_EL2", "offset": "0x60"},\n    {"reg": "cntv_ctl_el0", "offset": "0x170"}\n  ]\n}\n`,
    path: 'slots[1].reg',
    at: 'cntv_ctl_el0',
    msg: /unknown register "cntv_ctl_el0"; did you mean "CNTV_CTL_EL0"\?.*registers that may have a slot: .*CNTV_CTL_EL0.*CNTPOFF_EL2/,
  },
  {
    name: 'register unknown',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTHCTL_EL3, offset: 0x1f0 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTHCTL_EL3", "offset": "0x1f0"}\n  ]\n}\n`,
    path: 'slots[0].reg',
    at: 'CNTHCTL_EL3',
    msg: /unknown register "CNTHCTL_EL3"; registers that may have a slot: CNTP_CTL_EL0, .*CNTVOFF_EL2, CNTPOFF_EL2/,
  },
  {
    name: 'register without a slot (EL02 alias)',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTP_CTL_EL02, offset: 0x180 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTP_CTL_EL02", "offset": "0x180"}\n  ]\n}\n`,
    path: 'slots[0].reg',
    at: 'CNTP_CTL_EL02',
    msg: /"CNTP_CTL_EL02" is an EL02 alias; its slot is the one of "CNTP_CTL_EL0"/,
  },
  {
    name: 'register in the VNCR page but not modelled',
    yaml: `${F}\nname: t\nslots:\n  - { reg: VTTBR_EL2, offset: 0x20 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "VTTBR_EL2", "offset": "0x20"}\n  ]\n}\n`,
    path: 'slots[0].reg',
    at: 'VTTBR_EL2',
    msg: /VTTBR_EL2 is in the VNCR page \(at 0x20\) but is not a register nvconform models/,
  },
  {
    name: 'offset not a number or hex string',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_CVAL_EL0, offset: "360" }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x"}\n  ]\n}\n`,
    path: 'slots[0].offset',
    at: 'offset',
    msg: /is not an offset; expected a hex string like "0x168" or a non-negative integer/,
  },
  {
    name: 'offset of the wrong type',
    yaml: `${F}\nname: t\nslots:\n  - reg: CNTV_CVAL_EL0\n    offset: [0x168]\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": true}\n  ]\n}\n`,
    path: 'slots[0].offset',
    at: 'offset',
    msg: /expected a hex string like "0x168" or a non-negative integer, got (a list|true)/,
  },
  {
    name: 'offset not an integer',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_CVAL_EL0, offset: 360.5 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": 360.5}\n  ]\n}\n`,
    path: 'slots[0].offset',
    at: '360.5',
    msg: /360\.5 is not an offset/,
  },
  {
    name: 'offset negative',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_CVAL_EL0, offset: -8 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": -8}\n  ]\n}\n`,
    path: 'slots[0].offset',
    at: '-8',
    msg: /-8 is negative; offsets lie in the 4 KiB VNCR page \(0x0\.\.0xff8\)/,
  },
  {
    name: 'offset not 8-byte aligned',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_CVAL_EL0, offset: 0x168 }\n  - { reg: CNTV_CTL_EL0, offset: 0x16c }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x168"},\n    {"reg": "CNTV_CTL_EL0", "offset": "0x16c"}\n  ]\n}\n`,
    path: 'slots[1].offset',
    at: '0x16c',
    msg: /: 0x16c is not 8-byte aligned$/,
  },
  {
    name: 'offset not 8-byte aligned (decimal)',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_CTL_EL0, offset: 364 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CTL_EL0", "offset": 364}\n  ]\n}\n`,
    path: 'slots[0].offset',
    at: '364',
    msg: /: 364 \(0x16c\) is not 8-byte aligned$/,
  },
  {
    name: 'offset outside the page',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTPOFF_EL2, offset: 0x1000 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTPOFF_EL2", "offset": 4096}\n  ]\n}\n`,
    path: 'slots[0].offset',
    at: 'CNTPOFF_EL2',
    msg: /is outside the 4 KiB VNCR page \(0x0\.\.0xff8\)/,
  },
  {
    name: 'two registers in one slot',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_TVAL_EL0, offset: 0x1f0 }\n  - { reg: CNTV_CVAL_EL0, offset: 0x168 }\n  - { reg: CNTP_TVAL_EL0, offset: 0x1f0 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_TVAL_EL0", "offset": "0x1f0"},\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x168"},\n    {"reg": "CNTP_TVAL_EL0", "offset": "0x1f0"}\n  ]\n}\n`,
    path: 'slots[2].offset',
    at: 'CNTP_TVAL_EL0',
    msg: {
      yaml: /: 0x1f0 holds two registers: CNTV_TVAL_EL0 \(slots\[0\], line 4\) and CNTP_TVAL_EL0 \(slots\[2\]\)$/,
      json: /: 0x1f0 holds two registers: CNTV_TVAL_EL0 \(slots\[0\], line 5\) and CNTP_TVAL_EL0 \(slots\[2\]\)$/,
    },
  },
  {
    name: 'one register twice',
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_CVAL_EL0, offset: 0x168 }\n  - { reg: CNTV_CVAL_EL0, offset: 0x1f0 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x168"},\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x1f0"}\n  ]\n}\n`,
    path: 'slots[1].reg',
    at: 'CNTV_CVAL_EL0',
    nth: 1,
    msg: { yaml: /CNTV_CVAL_EL0 has two slots: slots\[0\] \(line 4\) and slots\[1\]$/, json: /CNTV_CVAL_EL0 has two slots: slots\[0\] \(line 5\) and slots\[1\]$/ },
  },
  {
    name: "a slot on another register's architected offset",
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_CVAL_EL0, offset: 0x168 }\n  - { reg: CNTP_TVAL_EL0, offset: 0x178 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x168"},\n    {"reg": "CNTP_TVAL_EL0", "offset": "0x178"}\n  ]\n}\n`,
    path: 'slots[1].offset',
    at: '0x178',
    msg: /0x178 is the architected VNCR offset of CNTP_CVAL_EL0, not of CNTP_TVAL_EL0; use a free offset, or set "allowArchitectedOffsets": true/,
  },
  {
    name: "a slot on a non-timer register's architected offset",
    yaml: `${F}\nname: t\nslots:\n  - { reg: CNTV_TVAL_EL0, offset: 0x1a0 }\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_TVAL_EL0", "offset": "0x1a0"}\n  ]\n}\n`,
    path: 'slots[0].offset',
    at: '0x1a0',
    msg: /0x1a0 is the architected VNCR offset of HDFGRTR2_EL2, not of CNTV_TVAL_EL0/,
  },
  {
    name: 'duplicate key',
    yaml: `${F}\nname: t\nslots:\n  - reg: CNTV_CVAL_EL0\n    offset: 0x168\n    reg: CNTV_CTL_EL0\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x168",\n     "reg": "CNTV_CTL_EL0"}\n  ]\n}\n`,
    path: 'slots[0]',
    at: 'CNTV_CTL_EL0',
    msg: { yaml: /duplicate key "reg" \(first on line 4\)$/, json: /duplicate key "reg" \(first on line 5\)$/ },
  },
  {
    name: 'duplicate top-level key',
    yaml: `${F}\nname: t\nslots: []\nname: u\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [],\n  "name": "u"\n}\n`,
    path: '',
    at: 'name',
    nth: 1,
    msg: { yaml: /: duplicate key "name" \(first on line 2\)$/, json: /: duplicate key "name" \(first on line 3\)$/ },
  },
  {
    name: 'syntax error',
    yaml: `${F}\nname: t\nslots: [\n  { reg: CNTV_CVAL_EL0, offset: 0x168 }\nfoo: 1\n`,
    json: `{\n  ${JF}\n  "name": "t",\n  "slots": [\n    {"reg": "CNTV_CVAL_EL0", "offset": "0x168"}\n  ,\n}\n`,
    path: 'syntax error',
    at: 'foo',
    jsonAt: '}',
    jsonNth: 1,
    msg: /syntax error at column \d+: /,
  },
  {
    name: 'not a mapping at the top level',
    yaml: '- format: nvconform-layout/1\n- name: t\n',
    json: '[\n  {"format": "nvconform-layout/1"}\n]\n',
    path: '',
    at: 'format',
    jsonAt: '[',
    msg: /expected a mapping with format: nvconform-layout\/1, name and slots at the top level, got a list/,
  },
];

describe('layout file validation', () => {
  for (const c of CASES) {
    for (const kind of ['yaml', 'json'] as const) {
      test(`${c.name} (${kind})`, () => {
        const text = c[kind];
        const source = `dir/case.${kind}`;
        const line = kind === 'json' ? lineOf(text, c.jsonAt ?? c.at, c.jsonNth ?? c.nth) : lineOf(text, c.at, c.nth);
        const err = errorOf(text, source);
        expect(err.message.startsWith(`${source}:${line}: ${c.path}`)).toBe(true);
        expect(err.message).toMatch(c.msg instanceof RegExp ? c.msg : c.msg[kind]);
      });
    }
  }

  test('allowArchitectedOffsets: true admits a slot on another register\'s offset', () => {
    const text = `${F}\nname: t\nallowArchitectedOffsets: true\nslots:\n  - { reg: CNTV_TVAL_EL0, offset: 0x168 }\n`;
    expect([...parseLayoutText(text, 't.yaml').slots]).toEqual([['CNTV_TVAL_EL0', 0x168]]);
  });

  test('a register may sit on a free offset other than its own architected one', () => {
    const text = `{"format": "nvconform-layout/1", "name": "t", "slots": [{"reg": "CNTV_CVAL_EL0", "offset": "0x1f0"}]}`;
    expect(parseLayoutText(text, 't.json').slots.get('CNTV_CVAL_EL0')).toBe(0x1f0);
  });

  test('offsets: hex strings (any case), YAML hex integers, decimal integers', () => {
    const text = `${F}\nname: t\nslots:\n  - { reg: CNTV_CVAL_EL0, offset: "0X168" }\n  - { reg: CNTV_CTL_EL0, offset: 0x170 }\n  - { reg: CNTP_CVAL_EL0, offset: 376 }\n  - { reg: CNTP_CTL_EL0, offset: "0x0180" }\n`;
    expect([...parseLayoutText(text, 't.yaml').slots]).toEqual([
      ['CNTV_CVAL_EL0', 0x168],
      ['CNTV_CTL_EL0', 0x170],
      ['CNTP_CVAL_EL0', 0x178],
      ['CNTP_CTL_EL0', 0x180],
    ]);
  });

  test('description and name are returned; description defaults to empty', () => {
    const a = parseLayoutText(`${F}\nname: Any Name\nslots: []\n`, 'a.yaml');
    expect(a).toMatchObject({ name: 'Any Name', description: '', source: 'a.yaml' });
    const b = parseLayoutText(`${F}\nname: b\ndescription: |\n  two\n  lines\nslots: []\n`, 'b.yaml');
    expect(b.description).toBe('two\nlines\n');
  });

  test('YAML anchors and aliases resolve', () => {
    const text = `${F}\nname: t\nslots:\n  - &s { reg: CNTV_CVAL_EL0, offset: 0x168 }\n  - { reg: CNTV_CTL_EL0, offset: 0x170 }\n  - *s\n`;
    expect(errorOf(text, 'a.yaml').message).toMatch(/^a\.yaml:6: slots\[2\]\.reg: CNTV_CVAL_EL0 has two slots/);
  });

  test('more than one YAML document', () => {
    const text = `${F}\nname: t\nslots: []\n---\n${F}\n`;
    expect(errorOf(text, 'm.yaml').message).toMatch(/^m\.yaml:4: syntax error at column 1: more than one YAML document/);
  });

  test('an empty file', () => {
    expect(errorOf('', 'e.yaml').message).toBe('e.yaml: empty layout file; expected a mapping with format: nvconform-layout/1, name and slots');
    expect(errorOf('# only a comment\n', 'e.yaml').message).toMatch(/^e\.yaml: empty layout file/);
  });

  test('a name with a newline is rejected (messages stay one line)', () => {
    expect(errorOf(`${F}\nname: "a\\nb"\nslots: []\n`, 'n.yaml').message).toMatch(/^n\.yaml:2: name: must be one line/);
  });

  test('deep nesting is an InputError, not a stack overflow', () => {
    const deep = `${'['.repeat(20000)}${']'.repeat(20000)}`;
    expect(() => parseLayoutText(deep, 'd.json')).toThrow(InputError);
    const deepValue = `{"format": "nvconform-layout/1", "name": "t", "x": ${'['.repeat(5000)}${']'.repeat(5000)}, "slots": []}`;
    expect(errorOf(deepValue, 'd.json').message).toMatch(/^d\.json(:1)?: /);
  });
});
