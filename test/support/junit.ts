/**
 * A JUnit XML reader for the tests: fast-xml-parser checks that the file is well-formed XML and
 * parses it; `readJunit` then checks it against the common JUnit schema (the one Jenkins, GitLab
 * and GitHub test reporters read: testsuites > testsuite > testcase > failure | error | skipped |
 * system-out) and that its counts agree with its test cases, and returns it as plain data.
 * Throws an Error saying what is wrong.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface JunitCase {
  name: string;
  classname?: string;
  time?: number;
  failure?: { message?: string; type?: string; body: string };
  skipped?: { message?: string };
  systemOut?: string;
}
export interface JunitSuite {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  time: number;
  properties: Record<string, string>;
  cases: JunitCase[];
}
export interface JunitDoc {
  name?: string;
  tests: number;
  failures: number;
  errors: number;
  time: number;
  suites: JunitSuite[];
}

type Node = Record<string, unknown>;

/** Allowed attributes and children per element (the schema), and the attributes it requires. */
const SCHEMA: Record<string, { attrs: string[]; required: string[]; children: string[]; text?: boolean }> = {
  testsuites: { attrs: ['name', 'tests', 'failures', 'errors', 'skipped', 'disabled', 'time'], required: ['tests', 'failures', 'errors', 'time'], children: ['testsuite'] },
  testsuite: {
    attrs: ['name', 'tests', 'failures', 'errors', 'skipped', 'disabled', 'time', 'timestamp', 'hostname', 'id', 'package'],
    required: ['name', 'tests', 'failures', 'errors', 'time'], children: ['properties', 'testcase', 'system-out', 'system-err'],
  },
  properties: { attrs: [], required: [], children: ['property'] },
  property: { attrs: ['name', 'value'], required: ['name', 'value'], children: [] },
  testcase: { attrs: ['name', 'classname', 'time', 'assertions', 'status', 'file', 'line'], required: ['name'], children: ['skipped', 'error', 'failure', 'system-out', 'system-err'] },
  failure: { attrs: ['message', 'type'], required: [], children: [], text: true },
  error: { attrs: ['message', 'type'], required: [], children: [], text: true },
  skipped: { attrs: ['message'], required: [], children: [] },
  'system-out': { attrs: [], required: [], children: [], text: true },
  'system-err': { attrs: [], required: [], children: [], text: true },
};
const COUNTS = ['tests', 'failures', 'errors', 'skipped', 'disabled'];

function check(tag: string, node: unknown, path: string): Node {
  const rule = SCHEMA[tag];
  if (!rule) throw new Error(`${path}: element <${tag}> is not in the JUnit schema`);
  if (typeof node === 'string') {
    if (!rule.text && node.trim() !== '') throw new Error(`${path}: <${tag}> may not hold text`);
    return { '#text': node };
  }
  const n = (node ?? {}) as Node;
  for (const [k, v] of Object.entries(n)) {
    if (k === '#text') {
      if (!rule.text && String(v).trim() !== '') throw new Error(`${path}: <${tag}> may not hold text`);
      continue;
    }
    if (k.startsWith('@_')) {
      const a = k.slice(2);
      if (!rule.attrs.includes(a)) throw new Error(`${path}: <${tag}> has no attribute '${a}' in the schema`);
      if (COUNTS.includes(a) && !/^(0|[1-9][0-9]*)$/.test(String(v))) throw new Error(`${path}/@${a}: expected a whole number, got '${String(v)}'`);
      if (a === 'time' && !/^[0-9]+(\.[0-9]+)?$/.test(String(v))) throw new Error(`${path}/@time: expected seconds as a decimal, got '${String(v)}'`);
      continue;
    }
    if (!rule.children.includes(k)) throw new Error(`${path}: <${k}> may not be inside <${tag}>`);
    const xs = Array.isArray(v) ? v : [v];
    xs.forEach((x, i) => check(k, x, `${path}/${k}[${i}]`));
  }
  for (const a of rule.required) if (!(`@_${a}` in n)) throw new Error(`${path}: <${tag}> lacks the required attribute '${a}'`);
  return n;
}

const list = (x: unknown): Node[] => (x === undefined ? [] : Array.isArray(x) ? (x as Node[]) : [x as Node]);
const text = (x: unknown): string => (typeof x === 'string' ? x : typeof (x as Node | undefined)?.['#text'] === 'string' ? ((x as Node)['#text'] as string) : '');
const num = (n: Node, a: string): number => Number(n[`@_${a}`] ?? 0);
const str = (n: Node, a: string): string | undefined => (n[`@_${a}`] === undefined ? undefined : String(n[`@_${a}`]));

export function readJunit(xml: string): JunitDoc {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  if (!xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) throw new Error('no XML declaration with UTF-8');
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseAttributeValue: false, parseTagValue: false, trimValues: false, ignoreDeclaration: true, htmlEntities: true }).parse(xml) as Node;
  const roots = Object.keys(doc).filter((k) => k !== '#text');
  if (roots.length !== 1 || roots[0] !== 'testsuites') throw new Error(`expected one root <testsuites>, got ${roots.join(', ')}`);
  const root = check('testsuites', doc.testsuites, '/testsuites');
  const suites = list(root.testsuite).map((s, si): JunitSuite => {
    const cases = list(s.testcase).map((c): JunitCase => {
      const f = list(c.failure);
      if (f.length > 1) throw new Error(`testcase ${str(c, 'name')}: more than one <failure>`);
      const sk = list(c.skipped)[0];
      const out = list(c['system-out']);
      return {
        name: str(c, 'name')!, ...(str(c, 'classname') !== undefined ? { classname: str(c, 'classname')! } : {}),
        ...(str(c, 'time') !== undefined ? { time: num(c, 'time') } : {}),
        ...(f[0] ? { failure: { ...(str(f[0], 'message') !== undefined ? { message: str(f[0], 'message')! } : {}), ...(str(f[0], 'type') !== undefined ? { type: str(f[0], 'type')! } : {}), body: text(f[0]) } } : {}),
        ...(sk !== undefined ? { skipped: typeof sk === 'object' && str(sk, 'message') !== undefined ? { message: str(sk, 'message')! } : {} } : {}),
        ...(out.length ? { systemOut: out.map(text).join('') } : {}),
      };
    });
    const suite: JunitSuite = {
      name: str(s, 'name')!, tests: num(s, 'tests'), failures: num(s, 'failures'), errors: num(s, 'errors'), skipped: num(s, 'skipped'), time: num(s, 'time'),
      properties: Object.fromEntries(list(list(s.properties)[0]?.property).map((p) => [str(p, 'name')!, str(p, 'value')!])),
      cases,
    };
    const where = `testsuite[${si}] '${suite.name}'`;
    if (suite.tests !== cases.length) throw new Error(`${where}: tests="${suite.tests}" but ${cases.length} <testcase>`);
    if (suite.failures !== cases.filter((c) => c.failure).length) throw new Error(`${where}: failures="${suite.failures}" but ${cases.filter((c) => c.failure).length} <failure>`);
    if (suite.skipped !== cases.filter((c) => c.skipped).length) throw new Error(`${where}: skipped="${suite.skipped}" but ${cases.filter((c) => c.skipped).length} <skipped>`);
    return suite;
  });
  const total = (k: 'tests' | 'failures' | 'errors'): number => suites.reduce((a, s) => a + s[k], 0);
  for (const k of ['tests', 'failures', 'errors'] as const) {
    if (num(root, k) !== total(k)) throw new Error(`testsuites: ${k}="${num(root, k)}" but the suites add up to ${total(k)}`);
  }
  return { ...(str(root, 'name') !== undefined ? { name: str(root, 'name')! } : {}), tests: num(root, 'tests'), failures: num(root, 'failures'), errors: num(root, 'errors'), time: num(root, 'time'), suites };
}
