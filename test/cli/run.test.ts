/**
 * The built CLI (`node dist/src/cli/main.js run ...`), spawned as a user would. Assumes `dist`
 * exists (the test script builds first). Every failure must be exit 2 with one line on stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceRun } from '../../src/engine/runner.js';
import { observationJson } from '../../src/trace/format.js';
import { parseTraceText } from '../../src/trace/parse.js';
import { encodeToken } from '../../src/trace/token.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).sort();

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir = '';
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const trace = (config: object, ops: object[]): string => JSON.stringify({ format: 'nvconform-trace/1', config, ops });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvconform-cli-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nvconform run on the examples', () => {
  it('there are examples to run', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(3);
  });

  it.each(EXAMPLES)('run examples/%s exits 0 with a table of every op and nothing on stderr', (name) => {
    const r = cli('run', `examples/${name}`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const t = parseTraceText(readFileSync(join(ROOT, 'examples', name), 'utf8'), name);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^model reference {2}guest (vhe|nvhe)/);
    // header line, header row, rule, one row per op
    expect(lines.length).toBe(3 + t.ops.length);
    lines.slice(3).forEach((l, i) => expect(l.startsWith(`${i} `)).toBe(true));
  });

  it.each(EXAMPLES)('run --json examples/%s parses back with one observation per op, equal to the reference', (name) => {
    const r = cli('run', `examples/${name}`, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const back = parseTraceText(r.stdout, 'stdout');
    const orig = parseTraceText(readFileSync(join(ROOT, 'examples', name), 'utf8'), name);
    expect(back.config).toEqual(orig.config);
    expect(back.ops).toEqual(orig.ops);
    expect(back.observations).toHaveLength(orig.ops.length);
    const ref = referenceRun(orig).map((x) => observationJson(x.exp));
    expect(back.observations!.map((o) => observationJson(o))).toEqual(ref);
  });

  it('run on a replay token prints the same table as the file it encodes', () => {
    const name = EXAMPLES[0]!;
    const t = parseTraceText(readFileSync(join(ROOT, 'examples', name), 'utf8'), name);
    const fromFile = cli('run', `examples/${name}`);
    const fromToken = cli('run', encodeToken(t));
    expect(fromToken.status).toBe(0);
    expect(fromToken.stdout).toBe(fromFile.stdout);
  });

  it('run --json reports UNKNOWN bits and faults in the observations', () => {
    const p = file('unk.json', trace({ guest: 'nvhe', count: '0x10' }, [
      { op: 'mrs', reg: 'CNTV_TVAL_EL0' },
      { op: 'mrs', reg: 'CNTV_CTL_EL02' },
      { op: 'eret' },
      { op: 'mrs', reg: 'CNTP_CTL_EL0' },
    ]));
    const r = cli('run', p, '--json');
    expect(r.status).toBe(0);
    const obs = JSON.parse(r.stdout).observations;
    expect(obs).toEqual([
      { irq: [], value: '0x0', unknown: '0xffffffffffffffff' },
      { irq: [], fault: 'undefined' },
      { irq: [] },
      { irq: [], fault: 'trap' },
    ]);
  });
});

describe('nvconform run on bad input: exit 2, exactly one line on stderr, no stack trace', () => {
  function expectOneLineError(r: ReturnType<typeof cli>, mentions?: string | RegExp): void {
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    if (mentions !== undefined) expect(r.stderr).toMatch(mentions);
  }

  it('a missing file', () => {
    expectOneLineError(cli('run', join(dir, 'does-not-exist.json')), /does-not-exist\.json: cannot read/);
  });

  it('a directory instead of a file', () => {
    expectOneLineError(cli('run', dir), /is a directory|cannot read/);
  });

  it('malformed JSON', () => {
    expectOneLineError(cli('run', file('bad.json', '{"format": "nvconform-trace/1", "config": ')), /bad\.json: not valid JSON/);
  });

  it('an unknown register', () => {
    const p = file('reg.json', trace({ guest: 'vhe' }, [{ op: 'mrs', reg: 'CNTV_CTL_EL1' }]));
    expectOneLineError(cli('run', p), /ops\[0\]\.reg: unknown register 'CNTV_CTL_EL1'/);
  });

  it('a bad hex value', () => {
    const p = file('hex.json', trace({ guest: 'vhe' }, [{ op: 'tick', by: 10 }]));
    expectOneLineError(cli('run', p), /ops\[0\]\.by/);
  });

  it('eret at vEL1', () => {
    const p = file('eret.json', trace({ guest: 'vhe' }, [{ op: 'eret' }, { op: 'tick', by: '0x1' }, { op: 'eret' }]));
    expectOneLineError(cli('run', p), /ops\[2\]: eret at vEL1/);
  });

  it('exit at vEL2', () => {
    const p = file('exit.json', trace({ guest: 'nvhe' }, [{ op: 'exit' }]));
    expectOneLineError(cli('run', p), /ops\[0\]: exit at vEL2/);
  });

  it('an init register without state at vEL2 (CNTPOFF_EL2 without ecv)', () => {
    const p = file('init.json', trace({ guest: 'vhe', init: { CNTPOFF_EL2: '0x1' } }, []));
    expectOneLineError(cli('run', p), /CNTPOFF_EL2/);
  });

  it('an op named after an Object.prototype member', () => {
    const p = file('proto.json', trace({ guest: 'vhe' }, [{ op: 'constructor' }]));
    expectOneLineError(cli('run', p));
  });

  it('a bad replay token', () => {
    expectOneLineError(cli('run', 'nvc1:AAAA'), /replay token/);
  });

  it('an unknown flag', () => {
    expectOneLineError(cli('run', `examples/${EXAMPLES[0]}`, '--bogus'), /unknown option '--bogus'/);
  });

  it('a mistyped flag close to a real one (--jsn)', () => {
    expectOneLineError(cli('run', `examples/${EXAMPLES[0]}`, '--jsn'), /unknown option '--jsn'/);
  });

  it('a missing trace argument', () => {
    expectOneLineError(cli('run'), /missing required argument/);
  });
});
