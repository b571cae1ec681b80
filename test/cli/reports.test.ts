/**
 * The report flags from the built CLI (dist/ must be built): --html on check, replay, run and
 * layouts; --junit read back by two JUnit readers (junit2json, an npm JUnit parser, and the schema
 * check of test/support/junit.ts); --reporter github; --quiet-timing making stdout
 * byte-identical for a seed; bad output paths and contradictions as one-line usage errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseJunit, type TestSuites } from 'junit2json';
import { readJunit } from '../support/junit.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TMP = mkdtempSync(join(tmpdir(), 'nvconform-reports-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), ...args], { cwd: TMP, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tokens = (s: string): string[] => [...s.matchAll(/nvconform replay (nvc1:[A-Za-z0-9_-]+)/g)].map((m) => m[1]!);
/** The TVAL slot's story: a virtual CPU with FEAT_ECV (without it the first finding is CNTPOFF_EL2, which it lacks, served from the page). */
const TVAL = ['check', '--layout', 'tval-in-vncr', '--guest', 'vhe', '--ecv'];

describe('--html', () => {
  it('check --layout tval-in-vncr --html: one page with the verdict table and every counterexample\'s timeline', () => {
    const r = cli('check', '--layout', 'tval-in-vncr', '--html', 'out.html');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout.endsWith('--html: wrote out.html\n')).toBe(true);
    const html = readFileSync(join(TMP, 'out.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('nvconform check: FAIL — nv2, layout tval-in-vncr, host-ecv-traps off');
    expect(html).toContain('First divergence at op #');
    const ts = tokens(r.stdout);
    expect(ts.length).toBeGreaterThanOrEqual(3);
    for (const t of ts) expect(html).toContain(t);
    expect(html).toContain('store VNCR[0x1f0] (CNTV_TVAL_EL0)');
    expect(html).not.toMatch(/https?:\/\//);
    // The README's "Seeing a counterexample" names the properties this command fails and passes.
    const failed = [...r.stdout.matchAll(/^x ([\w-]+): FAIL/gm)].map((m) => `\`${m[1]!}\``);
    const passed = [...r.stdout.matchAll(/^\+ ([\w-]+): pass/gm)].map((m) => `\`${m[1]!}\``);
    expect(failed).toHaveLength(4);
    expect(passed).toHaveLength(1);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(`four of the five properties fail (${failed.join(', ')}; ${passed[0]!} passes)`);
  });

  it('one failing property: the page is its timeline', () => {
    const r = cli(...TVAL, '--property', 'deferred', '--html', 'one.html');
    expect(r.status).toBe(1);
    const html = readFileSync(join(TMP, 'one.html'), 'utf8');
    expect(html).toContain('<title>deferred: FAIL — layout tval-in-vncr, guest vhe</title>');
    expect(html).toContain('store VNCR[0x1f0] (CNTV_TVAL_EL0)');
    expect(html).toContain('First divergence at op #1');
    expect(html).not.toContain('id="verdicts"');
  });

  it('replay, run and layouts write their pages; --json stays one document', () => {
    const token = tokens(cli(...TVAL, '--property', 'deferred').stdout)[0]!;
    const rp = cli('replay', token, '--html', 'replay.html', '--json');
    expect(rp.status).toBe(1);
    expect((JSON.parse(rp.stdout) as { verdict: string }).verdict).toBe('fail');
    expect(readFileSync(join(TMP, 'replay.html'), 'utf8')).toContain('First divergence at op #1');

    const run = cli('run', join(ROOT, 'examples', 'vhe-cval-basic.json'), '--model', 'nv2', '--html', 'run.html');
    expect(run.status, run.stderr).toBe(0);
    const page = readFileSync(join(TMP, 'run.html'), 'utf8');
    expect(page).toContain('<title>run: nv2, layout architected, guest vhe</title>');
    expect(page).toContain('store VNCR[0x168] (CNTV_CVAL_EL0)');
    expect(page).not.toContain('First divergence');

    const lay = cli('layouts', '--guest', 'vhe', '--runs', '20', '--html', 'layouts.html');
    expect(lay.status, lay.stderr).toBe(0);
    const lp = readFileSync(join(TMP, 'layouts.html'), 'utf8');
    expect(lp).toContain('FEAT_NV only (baseline)');
    expect(lp).toMatch(/href="#cx-\d+"/);
  });
});

describe('--junit', () => {
  it('check: one testsuite, a test case per property, each failure with the counterexample and token of the text report', () => {
    const r = cli(...TVAL, '--junit', 'check.xml');
    expect(r.status).toBe(1);
    const d = readJunit(readFileSync(join(TMP, 'check.xml'), 'utf8'));
    expect(d.suites).toHaveLength(1);
    const s = d.suites[0]!;
    expect(s.cases.map((c) => c.name)).toEqual(['architectural', 'deferred', 'cval-tval', 'no-tval-in-vncr', 'vncr-verbatim']);
    const failed = s.cases.filter((c) => c.failure);
    expect(failed.length).toBe(s.failures);
    const ts = tokens(r.stdout);
    expect(failed.flatMap((c) => tokens(c.failure!.body))).toEqual(ts);
    for (const c of failed) expect(r.stdout).toContain(c.failure!.body);
  });

  it('check: junit2json, a JUnit parser of its own, reads the same cases, failures and bodies', async () => {
    const r = cli(...TVAL, '--junit', 'check2.xml');
    expect(r.status).toBe(1);
    const xml = readFileSync(join(TMP, 'check2.xml'), 'utf8');
    const doc = (await parseJunit(xml)) as TestSuites;
    expect(doc.testsuite).toHaveLength(1);
    const s = doc.testsuite![0]!;
    const cases = s.testcase ?? [];
    expect(cases.map((c) => c.name)).toEqual(['architectural', 'deferred', 'cval-tval', 'no-tval-in-vncr', 'vncr-verbatim']);
    expect(s.tests).toBe(cases.length);
    const failed = cases.filter((c) => c.failure);
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(s.failures).toBe(failed.length);
    expect(doc.failures).toBe(failed.length);
    // The failure bodies: the text report's blocks, tokens and all, as the CLI printed them.
    expect(failed.flatMap((c) => tokens(c.failure![0]!.inner ?? ''))).toEqual(tokens(r.stdout));
    for (const c of failed) {
      expect(c.failure![0]!.type).toBe('counterexample');
      expect(r.stdout).toContain(c.failure![0]!.inner!);
    }
    expect(cases.find((c) => c.name === 'vncr-verbatim')!.failure).toBeUndefined();
  });

  it('a suite: a test case per entry, expected failures pass', async () => {
    const r = cli('check', '--junit', 'suite.xml');
    expect(r.status, r.stderr).toBe(0);
    const suite = JSON.parse(readFileSync(join(ROOT, 'suites', 'default.json'), 'utf8')) as { entries: { name: string; expect: string }[] };
    const s = readJunit(readFileSync(join(TMP, 'suite.xml'), 'utf8')).suites[0]!;
    expect(s.tests).toBe(suite.entries.length);
    expect(s.failures).toBe(0);
    expect(s.cases.map((c) => c.name)).toEqual(suite.entries.map((e, i) => `#${i} ${e.name} (${(e as { property?: string }).property})`));
    for (const [i, e] of suite.entries.entries()) if (e.expect === 'fail') expect(s.cases[i]!.systemOut).toMatch(/^expected failure: /);
    // junit2json reads the same file the same way.
    const other = (await parseJunit(readFileSync(join(TMP, 'suite.xml'), 'utf8'))) as TestSuites;
    const cases = other.testsuite![0]!.testcase!;
    expect(cases.map((c) => c.name)).toEqual(s.cases.map((c) => c.name));
    expect(cases.filter((c) => c.failure)).toEqual([]);
    expect(cases.map((c) => (c['system-out'] ?? []).join(''))).toEqual(s.cases.map((c) => c.systemOut ?? ''));
  });
});

describe('--reporter github', () => {
  it('a suite: an ::error annotation on the line of each entry whose verdict is not as expected', () => {
    const file = join(TMP, 'wrong.json');
    writeFileSync(file, [
      '{',
      '  "format": "nvconform-suite/1",',
      '  "name": "wrong",',
      '  "entries": [',
      '    {"name": "right", "layout": "architected", "hostCpu": ["vhe", "wfxt", "nv2p1"], "guest": "vhe", "property": "deferred", "expect": "pass"},',
      '    {"name": "wrong: TVAL in the page", "layout": "tval-in-vncr", "hostCpu": ["vhe", "wfxt", "nv2p1"], "guest": "vhe", "property": "deferred", "expect": "pass", "why": "100% sure"}',
      '  ]',
      '}',
      '',
    ].join('\n'));
    const r = cli('check', '--suite', 'wrong.json', '--reporter', 'github', '--runs', '50');
    expect(r.status).toBe(1);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^::error file=wrong\.json,line=6,title=nvconform%3A #1 wrong%3A TVAL in the page%3A deferred fails%2C expected to pass::expected pass: 100%25 sure%0Ax deferred: FAIL/);
    expect(lines[0]).toContain(`nvconform replay ${tokens(r.stdout)[0]!}`);
    // The text report is still there, before the annotations.
    expect(r.stdout.indexOf('verdict: 1 verdict NOT as expected')).toBeLessThan(r.stdout.indexOf('::error'));
  });
});

describe('--quiet-timing', () => {
  // A suite of two entries, one expected to fail (the default suite is the same code, ten times slower).
  writeFileSync(join(TMP, 'small.json'), JSON.stringify({
    format: 'nvconform-suite/1', name: 'small', entries: [
      { name: 'architected', layout: 'architected', hostCpu: ['vhe', 'wfxt', 'nv2p1'], guest: 'vhe', property: 'deferred', expect: 'pass' },
      { name: 'TVAL slots', layout: 'tval-in-vncr', hostCpu: ['vhe', 'wfxt', 'nv2p1'], guest: 'vhe', property: 'deferred', expect: 'fail', why: 'TVAL is a view' },
    ],
  }));
  it.each([
    ['check, one configuration', [...TVAL, '--property', 'deferred', '--property', 'architectural'], true],
    ['check, a suite', ['check', '--suite', 'small.json'], false],
    ['check --json', [...TVAL, '--property', 'deferred', '--json'], true],
  ])('%s: stdout is byte-identical across two runs, with no timing figure', (_name, args, without) => {
    const a = cli(...args, '--quiet-timing');
    const b = cli(...args, '--quiet-timing');
    expect(a.stdout.length).toBeGreaterThan(100);
    expect(b.stdout).toBe(a.stdout);
    expect(a.stdout).not.toMatch(/\d ms\b|traces\/s|ops\/s|"ms":|opsPerSecond/);
    // Without the flag the figures are there (so the comparison above means something).
    if (without) expect(cli(...args).stdout).toMatch(/\d ms\b|"ms":/);
  });

  it('replay, and the JUnit file: the same bytes twice', () => {
    const token = tokens(cli(...TVAL, '--property', 'deferred').stdout)[0]!;
    const a = cli('replay', token, '--quiet-timing', '--junit', 'a.xml');
    const b = cli('replay', token, '--quiet-timing', '--junit', 'b.xml');
    expect(b.stdout.replace('b.xml', 'a.xml')).toBe(a.stdout);
    expect(readFileSync(join(TMP, 'b.xml'), 'utf8')).toBe(readFileSync(join(TMP, 'a.xml'), 'utf8'));
    expect(readFileSync(join(TMP, 'a.xml'), 'utf8')).not.toMatch(/time="(?!0")/);
  });
});

describe('bad report flags: one line on stderr, exit 2, nothing run', () => {
  mkdirSync(join(TMP, 'adir'), { recursive: true });
  it.each([
    [['check', '--junit', 'no/such/dir/x.xml'], 'nvconform: --junit no/such/dir/x.xml: no such directory: no/such/dir'],
    [['check', '--html', 'adir'], 'nvconform: --html adir: is a directory; give a file name'],
    [['replay', 'nvc1:x', '--junit', 'missing/r.xml'], 'nvconform: --junit missing/r.xml: no such directory: missing'],
    [['check', '--reporter', 'github', '--json'], 'nvconform: check: --reporter github and --json: give one (annotations are lines of text, not JSON)'],
    [['check', '--html', 'same', '--junit', './same'], 'nvconform: check: --html and --junit name the same file (same)'],
    [['layouts', '--html', 'none/x.html'], 'nvconform: --html none/x.html: no such directory: none'],
  ])('%j', (args, message) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`${message}\n`);
    expect(r.stdout).toBe('');
    expect(existsSync(join(TMP, 'same'))).toBe(false);
  });

  it('an unknown reporter is commander\'s one-line usage error', () => {
    const r = cli('check', '--reporter', 'tap');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('Allowed choices are text, github');
  });
});

describe('the README quotes what the CLI prints', () => {
  it('`check --layout tval-in-vncr --guest vhe --ecv --property deferred`, and --html\'s last line', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const cmd = 'npx nvconform check --layout tval-in-vncr --guest vhe --ecv --property deferred\n```\n\n```\n';
    const at = readme.indexOf(cmd);
    expect(at).toBeGreaterThan(0);
    const block = readme.slice(at + cmd.length).split('```\n')[0]!;
    expect(block.split('\n').length).toBeGreaterThan(8);
    const r = cli(...TVAL, '--property', 'deferred', '--html', 'readme.html');
    expect(r.stdout).toContain(block);
    expect(readme).toContain('(`--html: wrote out.html`)');
    expect(r.stdout.split('\n').at(-2)).toBe('--html: wrote readme.html');
  });

  it('In CI: the --junit command, its last line and the head of the file it writes', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const cmd = '`npx nvconform check --layout tval-in-vncr --guest vhe --ecv --property deferred --quiet-timing --junit report.xml`';
    const at = readme.indexOf(cmd);
    expect(at).toBeGreaterThan(0);
    const rest = readme.slice(at + cmd.length);
    const head = /```xml\n([\s\S]*?)```\n/.exec(rest)![1]!;
    expect(head.split('\n').length).toBeGreaterThan(3);
    const r = cli(...cmd.replace(/^`npx nvconform |`$/g, '').split(' '));
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n').at(-2)).toBe('--junit: wrote report.xml');
    expect(rest.split('```xml')[0]).toContain('`--junit: wrote report.xml`');
    expect(readFileSync(join(TMP, 'report.xml'), 'utf8').startsWith(head)).toBe(true);
  });
});
