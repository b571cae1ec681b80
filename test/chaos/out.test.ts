/** --out: checked before the run, every counterexample written and numbered, and said so. */
import { existsSync, mkdirSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outPaths } from '../../src/cli/check.js';
import { parseTraceText } from '../../src/trace/parse.js';
import { readFileSync } from 'node:fs';
import { cli, oneLine, tmp } from './util.js';

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.concurrent('--out', () => {
  it('names: FILE, FILE.2, ...; the observed beside each', () => {
    expect(outPaths('ce.json', 1)).toEqual({ expected: 'ce.json', observed: 'ce.observed.json' });
    expect(outPaths('ce.json', 3)).toEqual({ expected: 'ce.3.json', observed: 'ce.3.observed.json' });
    expect(outPaths('out/ce', 1)).toEqual({ expected: 'out/ce', observed: 'out/ce.observed.json' });
    expect(outPaths('out/ce', 2)).toEqual({ expected: 'out/ce.2', observed: 'out/ce.2.observed.json' });
  });

  it('a missing directory: exit 2 at once, before the run', async () => {
    const r = await cli(['check', '--layout', 'tval-in-vncr', '--out', join(dir, 'nope', 'ce.json')]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe(`nvconform: --out ${join(dir, 'nope', 'ce.json')}: no such directory: ${join(dir, 'nope')}`);
  });

  it('a directory as FILE, and a directory that cannot be written', async () => {
    const r = await cli(['check', '--out', dir]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe(`nvconform: --out ${dir}: is a directory; give a file name`);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      const r2 = await cli(['check', '--out', join(ro, 'ce.json')]);
      expect(oneLine(r2.stderr)).toBe(`nvconform: --out ${join(ro, 'ce.json')}: cannot write in ${ro} (permission denied)`);
    }
  });

  it('on a pass: nothing written, and it says so', async () => {
    const out = join(dir, 'pass.json');
    const r = await cli(['check', '--property', 'no-tval-in-vncr', '--runs', '10', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('--out: no counterexample, nothing written');
    expect(existsSync(out)).toBe(false);
  });

  it('several counterexamples: every one written, numbered, one line each', async () => {
    const sub = join(dir, 'many');
    mkdirSync(sub);
    const out = join(sub, 'ce.json');
    const r = await cli(['check', '--layout', 'tval-in-vncr', '--guest', 'vhe', '--runs', '100', '--out', out]);
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('--out: '));
    const failed = [...r.stdout.matchAll(/^x (\S+): FAIL/gm)].map((m) => m[1]!);
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(lines).toEqual(failed.map((p, i) => {
      const { expected, observed } = outPaths(out, i + 1);
      return `--out: wrote ${expected} (expected observations) and ${observed} (the implementation's): ${p}`;
    }));
    expect(readdirSync(sub).sort()).toEqual(failed.flatMap((_p, i) => Object.values(outPaths('ce.json', i + 1))).sort());
    for (const f of readdirSync(sub)) parseTraceText(readFileSync(join(sub, f), 'utf8'), f);
  });

  it('--json: what was written is in the document', async () => {
    const sub = join(dir, 'json');
    mkdirSync(sub);
    const r = await cli(['check', '--layout', 'tval-in-vncr', '--guest', 'vhe', '--property', 'deferred', '--json', '--out', join(sub, 'x')]);
    expect(r.status, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout) as { out: unknown };
    expect(j.out).toEqual([{ file: join(sub, 'x'), observed: join(sub, 'x.observed.json'), property: 'deferred' }]);
  });

  it('a suite: every counterexample, expected failures included, named by entry', async () => {
    const sub = join(dir, 'suite');
    mkdirSync(sub);
    const r = await cli(['check', '--out', join(sub, 's.json')]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('--out: '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^--out: wrote \S+s\.json \(expected observations\) and \S+s\.observed\.json \(the implementation's\): #\d+ .+, \S+$/);
    expect(lines[1]).toMatch(/^--out: wrote \S+s\.2\.json /);
  });
});
