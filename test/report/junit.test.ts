/**
 * JUnit and GitHub reports from real results, read back: the JUnit file by a JUnit reader
 * (fast-xml-parser plus the schema check of test/support/junit.ts), the annotations by the
 * workflow command syntax.
 */
import { describe, expect, it } from 'vitest';
import type { HostFeature } from '../../models/arch/implementation.js';
import { Nv2Model } from '../../models/nv2/model.js';
import { check, type CheckResult } from '../../src/check/check.js';
import { withBuiltins } from '../../src/engine/registry.js';
import { runSuite, type Suite } from '../../src/check/suite.js';
import { renderProperty } from '../../src/report/check.js';
import { errorCommand, escapeData, escapeProperty, githubCheck, githubSuite, suiteEntryLines } from '../../src/report/github.js';
import { junitCheck, junitSuite, xmlAttr, xmlText } from '../../src/report/junit.js';
import { readJunit } from '../support/junit.js';

/** A physical CPU without FEAT_ECV: the built-in host is exact there for a VHE guest hypervisor with the architected layout. */
const NO_ECV = { cpu: ['vhe', 'wfxt', 'nv2p1'] as HostFeature[] };

/** The built-in NV2 model, declaring no hardware detail: vncr-verbatim does not apply to it. */
const registry = withBuiltins([['nodetail', (o) => {
  const m = new Nv2Model({ layout: o.layout, hostEcvTraps: o.hostEcvTraps });
  return { name: 'nodetail', declaration: { ...m.declaration, detail: false }, reset: (c) => m.reset(c), step: (op) => m.step(op) };
}]]);

const tvalCheck = (): Promise<CheckResult> =>
  check({ impl: 'nv2', layout: 'tval-in-vncr', hostEcvTraps: false, host: NO_ECV, guest: 'vhe', runs: 100, seed: 42, maxOps: 30, properties: ['architectural', 'deferred', 'cval-tval', 'vncr-verbatim'], stats: false });

describe('junitCheck', async () => {
  const r = await tvalCheck();
  const xml = junitCheck(r);
  const doc = readJunit(xml);

  it('one testsuite, one testcase per property, failures with the counterexample and the token', () => {
    expect(doc.suites).toHaveLength(1);
    const s = doc.suites[0]!;
    expect(s.name).toBe('nvconform check: nv2, layout tval-in-vncr, host-ecv-traps off, host-cpu vhe,wfxt,nv2p1');
    expect(s.cases.map((c) => c.name)).toEqual(r.results.map((p) => p.property));
    expect(s.properties).toMatchObject({ impl: 'nv2', layout: 'tval-in-vncr', seed: '42', guest: 'vhe', host: 'host-cpu vhe,wfxt,nv2p1' });
    for (const [i, p] of r.results.entries()) {
      const c = s.cases[i]!;
      expect(c.classname).toBe('nvconform.check');
      if (p.verdict === 'fail') {
        expect(c.failure!.type).toBe('counterexample');
        expect(c.failure!.message).toContain(p.property);
        expect(c.failure!.message).not.toContain('\n');
        // The body is the text report of the property, byte for byte after unescaping.
        expect(c.failure!.body).toBe(renderProperty(p, r));
        if (p.token) expect(c.failure!.body).toContain(`nvconform replay ${p.token}`);
      } else expect(c.failure).toBeUndefined();
    }
    expect(s.failures).toBe(r.results.filter((p) => p.verdict === 'fail').length);
    expect(s.failures).toBeGreaterThanOrEqual(2);
    expect(doc.failures).toBe(s.failures);
    expect(doc.errors).toBe(0);
  });

  it('a property that does not apply is skipped, with the reason', async () => {
    const n = await check({ impl: 'nodetail', registry, layout: 'architected', hostEcvTraps: false, host: NO_ECV, guest: 'vhe', runs: 20, seed: 42, maxOps: 20, properties: ['vncr-verbatim', 'deferred'], stats: false });
    const s = s0(readJunit(junitCheck(n)));
    expect(s.cases[0]!.skipped).toEqual({ message: 'the implementation reports no hardware detail' });
    expect(s.cases[1]!.skipped).toBeUndefined();
    expect(s.skipped).toBe(1);
  });

  it('times in seconds, or all 0 without timing (the same bytes for a seed)', () => {
    expect(s0(doc).time).toBeCloseTo(r.ms / 1000, 2);
    const quiet = junitCheck(r, { timing: false });
    expect(readJunit(quiet).suites[0]!.cases.every((c) => c.time === 0)).toBe(true);
    expect(quiet).not.toMatch(/time="(?!0")/);
  });
});

const s0 = (d: ReturnType<typeof readJunit>) => d.suites[0]!;

describe('junitSuite', () => {
  it('an expected failure passes (its counterexample in system-out), an unexpected pass fails, n/a is skipped', async () => {
    const suite: Suite = {
      name: 'mixed', entries: [
        { name: 'tval slot', impl: 'nv2', layout: 'tval-in-vncr', hostEcvTraps: false, hostCpu: NO_ECV.cpu, guest: 'vhe', property: 'deferred', expect: 'fail', why: 'TVAL is a view' },
        { name: 'wrongly predicted', impl: 'nv2', layout: 'architected', hostEcvTraps: false, hostCpu: NO_ECV.cpu, guest: 'vhe', property: 'deferred', expect: 'fail', why: 'a wrong prediction' },
        { name: 'nv has no page', impl: 'nv', layout: 'architected', hostEcvTraps: false, guest: 'vhe', property: 'deferred', expect: 'pass', why: '' },
        { name: 'no detail', impl: 'nodetail', layout: 'architected', hostEcvTraps: false, hostCpu: NO_ECV.cpu, guest: 'vhe', property: 'vncr-verbatim', expect: 'pass', why: '' },
      ],
    };
    const r = await runSuite(suite, { runs: 50, seed: 42, maxOps: 20, stats: false, registry });
    const d = readJunit(junitSuite(r));
    const cases = s0(d).cases;
    expect(cases.map((c) => c.name)).toEqual(['#0 tval slot (deferred)', '#1 wrongly predicted (deferred)', '#2 nv has no page (deferred)', '#3 no detail (vncr-verbatim)']);
    expect(cases[3]!.skipped).toEqual({ message: 'the implementation reports no hardware detail' });
    expect(cases[0]!.failure).toBeUndefined();
    expect(cases[0]!.systemOut).toContain('expected failure: TVAL is a view');
    expect(cases[0]!.systemOut).toContain('nvconform replay nvc1:');
    expect(cases[1]!.failure!.message).toBe('deferred: expected to fail, but it passed (a wrong prediction)');
    expect(r.entries[2]!.asExpected).toBe(true);
    expect(cases[2]!.failure).toBeUndefined();
    expect(s0(d).failures).toBe(1);
    expect(s0(d).name).toBe('nvconform check: suite mixed');
  });
});

describe('XML escaping', () => {
  it('text and attributes survive a round trip through the reader, characters XML cannot hold do not break it', () => {
    const evil = 'a<b>&"c\' ]]> \u0001\u001f tab\tnew\nline\r\u{1F600} \ud800 x';
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="1" failures="1" errors="0" time="0"><testsuite name="${xmlAttr(evil)}" tests="1" failures="1" errors="0" time="0">` +
      `<testcase name="t"><failure message="${xmlAttr(evil)}">${xmlText(evil)}</failure></testcase></testsuite></testsuites>`;
    const d = readJunit(xml);
    const expected = evil.replace(/[\u0001\u001f\ud800]/g, '\ufffd');
    expect(s0(d).name).toBe(expected);
    expect(s0(d).cases[0]!.failure!.message).toBe(expected);
    expect(s0(d).cases[0]!.failure!.body).toBe(expected.replace(/\r/g, '\n'));
  });

  it('the reader rejects what the schema does not allow', () => {
    const ok = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="1" failures="0" errors="0" time="0"><testsuite name="s" tests="1" failures="0" errors="0" time="0"><testcase name="t"/></testsuite></testsuites>';
    expect(readJunit(ok).tests).toBe(1);
    expect(() => readJunit(ok.replace('<testcase name="t"/>', '<testcase name="t"><failure>x</failure>'))).toThrow(/well-formed/);
    expect(() => readJunit(ok.replace('tests="1" failures="0" errors="0" time="0"><testcase', 'tests="2" failures="0" errors="0" time="0"><testcase'))).toThrow(/tests="2" but 1/);
    expect(() => readJunit(ok.replace('<testsuite name="s" ', '<testsuite '))).toThrow(/required attribute 'name'/);
    expect(() => readJunit(ok.replace('<testcase name="t"/>', '<testcase name="t"><oops/></testcase>'))).toThrow(/<oops> may not be inside <testcase>/);
    expect(() => readJunit(ok.replace('time="0"><testcase', 'time="fast"><testcase'))).toThrow(/seconds/);
  });
});

describe('GitHub annotations', async () => {
  const r = await tvalCheck();

  it('one ::error line per failed property, its message the text report, escaped', () => {
    const out = githubCheck(r, { file: 'hosts/my,host.mjs' });
    const lines = out.split('\n').filter((l) => l);
    const failed = r.results.filter((p) => p.verdict === 'fail');
    expect(lines).toHaveLength(failed.length);
    for (const [i, p] of failed.entries()) {
      const m = /^::error file=([^,]*),title=([^:]*)::(.*)$/.exec(lines[i]!);
      expect(m, lines[i]).not.toBeNull();
      expect(m![1]).toBe('hosts/my%2Chost.mjs');
      expect(decodeURIComponent(m![2]!)).toBe(`nvconform: ${p.property} fails (nv2, layout tval-in-vncr, host-ecv-traps off, host-cpu vhe,wfxt,nv2p1)`);
      expect(decodeURIComponent(m![3]!)).toBe(renderProperty(p, r).replace(/\n+$/, ''));
    }
  });

  it('escapes %, CR and LF in messages, and : and , in properties', () => {
    expect(escapeData('100% done\r\nnext')).toBe('100%25 done%0D%0Anext');
    expect(escapeProperty('a:b,c%')).toBe('a%3Ab%2Cc%25');
    expect(errorCommand({ title: 't', message: 'x\ny\n' })).toBe('::error title=t::x%0Ay\n');
    expect(errorCommand({ title: 't', message: 'm', file: 'f.json', line: 7 })).toBe('::error file=f.json,line=7,title=t::m\n');
  });

  it('a suite: only the verdicts not as expected, on the entry\'s line', async () => {
    const text = '{\n  "format": "nvconform-suite/1",\n  "entries": [\n    {"name": "a", "property": "deferred", "expect": "pass"},\n    {"name": "b", "layout": "tval-in-vncr", "guest": "vhe", "property": "deferred", "expect": "pass"}\n  ]\n}\n';
    expect(suiteEntryLines(text, ['a', 'b'])).toEqual([4, 5]);
    const suite: Suite = { name: 's', entries: [
      { name: 'a', impl: 'nv2', layout: 'architected', hostEcvTraps: false, hostCpu: NO_ECV.cpu, guest: 'vhe', property: 'deferred', expect: 'pass', why: '' },
      { name: 'b', impl: 'nv2', layout: 'tval-in-vncr', hostEcvTraps: false, hostCpu: NO_ECV.cpu, guest: 'vhe', property: 'deferred', expect: 'pass', why: '' },
    ] };
    const sr = await runSuite(suite, { runs: 30, seed: 42, maxOps: 20, stats: false });
    const out = githubSuite(sr, { file: 'suites/s.json', lines: suiteEntryLines(text, ['a', 'b']) });
    expect(out.split('\n').filter((l) => l)).toHaveLength(1);
    expect(out).toMatch(/^::error file=suites\/s\.json,line=5,title=nvconform%3A #1 b%3A deferred fails%2C expected to pass::x deferred: FAIL/);
  });
});
