/**
 * JUnit XML reports (`--junit FILE`), read by CI systems: one <testsuite> per command run, one
 * <testcase> per property (check, replay) or per suite entry, a <failure> with the counterexample
 * as the text report prints it (the replay token included) in its body. A suite's expected
 * failure is a pass (its counterexample goes to <system-out>); a property that does not apply
 * is <skipped>. Pure: result data in, text out.
 */
import type { CheckResult, PropertyResult } from '../check/check.js';
import type { SuiteResult } from '../check/suite.js';
import { hostText, implLine, renderProperty } from './check.js';

export interface JunitOptions {
  /** Report times in seconds; false: every `time` is 0, so that the file is byte-identical for a seed. Default true. */
  readonly timing?: boolean;
}

/** Characters XML 1.0 does not allow, even escaped: C0 controls but tab, LF and CR; lone surrogates; U+FFFE, U+FFFF. */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text content: `&`, `<`, `>` escaped, characters XML cannot hold replaced by U+FFFD. */
export function xmlText(s: string): string {
  return s.replace(NOT_XML, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value in double quotes: as text, plus quotes, and tab/LF/CR as character references (a parser would turn them into spaces). */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

interface Case {
  readonly name: string;
  readonly classname: string;
  readonly ms: number;
  readonly failure?: { readonly message: string; readonly body: string };
  readonly skipped?: string;
  readonly out?: string;
}

interface SuiteXml {
  readonly name: string;
  readonly ms: number;
  readonly properties: readonly (readonly [string, string])[];
  readonly cases: readonly Case[];
}

const seconds = (ms: number, timing: boolean): string => (timing ? (Math.max(ms, 0) / 1000).toFixed(3) : '0');

function render(s: SuiteXml, o: JunitOptions): string {
  const timing = o.timing ?? true;
  const failures = s.cases.filter((c) => c.failure).length;
  const skipped = s.cases.filter((c) => c.skipped !== undefined).length;
  const counts = `tests="${s.cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(s.ms, timing)}"`;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="nvconform" ${counts}>`, `  <testsuite name="${xmlAttr(s.name)}" ${counts}>`];
  if (s.properties.length) {
    out.push('    <properties>');
    for (const [k, v] of s.properties) out.push(`      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`);
    out.push('    </properties>');
  }
  for (const c of s.cases) {
    const head = `    <testcase name="${xmlAttr(c.name)}" classname="${xmlAttr(c.classname)}" time="${seconds(c.ms, timing)}"`;
    const inner: string[] = [];
    if (c.failure) inner.push(`      <failure message="${xmlAttr(c.failure.message)}" type="counterexample">${xmlText(c.failure.body)}</failure>`);
    if (c.skipped !== undefined) inner.push(`      <skipped message="${xmlAttr(c.skipped)}"/>`);
    if (c.out !== undefined) inner.push(`      <system-out>${xmlText(c.out)}</system-out>`);
    out.push(inner.length ? `${head}>\n${inner.join('\n')}\n    </testcase>` : `${head}/>`);
  }
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n') + '\n';
}

/** The one-line failure message of a result: its explanation (the text report's "why"), with the length of the counterexample. */
function message(r: PropertyResult): string {
  const ce = r.counterexample;
  const len = ce ? ` (counterexample of ${ce.ops.length} op${ce.ops.length === 1 ? '' : 's'}${r.token ? `; nvconform replay ${r.token}` : ''})` : '';
  return `${r.property}: ${(r.explanation ?? 'FAIL').split('\n')[0]}${len}`;
}

function propertyCase(r: PropertyResult, c: CheckResult, classname: string): Case {
  const base = { name: r.property, classname, ms: r.ms };
  if (r.verdict === 'n/a') return { ...base, skipped: r.explanation ?? 'not applicable' };
  if (r.verdict === 'pass') return base;
  return { ...base, failure: { message: message(r), body: renderProperty(r, c) } };
}

const optionProperties = (c: CheckResult): [string, string][] => [
  ['impl', c.options.impl], ['layout', c.layout.name], ['hostEcvTraps', String(c.options.hostEcvTraps)],
  ...(c.options.host ? [['host', hostText(c.options.host).replace(/^, /, '')] as [string, string]] : []),
  ['guest', c.options.guest ?? 'vhe+nvhe'], ['ecv', c.options.ecv === undefined ? 'with and without' : String(c.options.ecv)],
  ['runs', String(c.options.runs)], ['maxOps', String(c.options.maxOps)], ['seed', String(c.options.seed)],
];

/** A check's (or a replay's: `command` 'replay') report: one test case per property. */
export function junitCheck(r: CheckResult, o: JunitOptions & { readonly command?: string } = {}): string {
  const command = o.command ?? 'check';
  return render({
    name: `nvconform ${command}: ${implLine(r)}`, ms: r.ms, properties: optionProperties(r),
    cases: r.results.map((p) => propertyCase(p, r, `nvconform.${command}`)),
  }, o);
}

/** A suite run's report: one test case per entry; an expected failure passes, an unexpected pass fails. */
export function junitSuite(r: SuiteResult, o: JunitOptions = {}): string {
  const classname = `nvconform.suite.${r.suite.name}`;
  const cases = r.entries.map((e, i): Case => {
    const res = e.result;
    const base = { name: `#${i} ${e.entry.name} (${e.entry.property})`, classname, ms: res.ms };
    const text = renderProperty(res, e.check);
    if (e.asExpected) {
      if (res.verdict === 'fail') return { ...base, out: `expected failure: ${e.entry.why}\n${text}` };
      return res.verdict === 'n/a' ? { ...base, skipped: res.explanation ?? 'not applicable' } : base;
    }
    if (e.entry.expect === 'fail') {
      return { ...base, failure: { message: `${e.entry.property}: expected to fail, but it passed (${e.entry.why.split('\n')[0]})`, body: `expected: fail: ${e.entry.why}\n${text}` } };
    }
    return { ...base, failure: { message: message(res), body: `expected: pass: ${e.entry.why}\n${text}` } };
  });
  const seed = r.entries[0]?.check.options;
  return render({
    name: `nvconform check: suite ${r.suite.name}`, ms: r.ms,
    properties: seed ? [['runs', String(seed.runs)], ['maxOps', String(seed.maxOps)], ['seed', String(seed.seed)]] : [],
    cases,
  }, o);
}
