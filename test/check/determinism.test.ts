/**
 * Determinism: the same seed and options give byte-identical output apart from timings, from
 * the built CLI (dist/ must be built: `npx tsc -p tsconfig.build.json`) and from `check` itself.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { check, DEFAULT_CHECK_OPTIONS } from '../../src/check/check.js';
import { checkJson } from '../../src/report/check.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Run the CLI (asynchronously, so that the two runs of a pair overlap). */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['dist/src/cli/main.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** Text output without its timing line. */
const untimed = (s: string): string => s.split('\n').filter((l) => !l.startsWith('performance:')).join('\n');

/** JSON output without `ms` and `performance`, re-serialised with key order kept. */
const untimedJson = (s: string): string => {
  const j = JSON.parse(s) as Record<string, unknown>;
  expect(typeof j.ms).toBe('number');
  expect(j.performance).toBeTypeOf('object');
  delete j.ms;
  delete j.performance;
  return JSON.stringify(j, null, 2);
};

describe.each([
  ['check --layout tval-in-vncr --seed 7', ['check', '--layout', 'tval-in-vncr', '--seed', '7'], 1],
  ['check --seed 3 (the default suite)', ['check', '--seed', '3'], 0],
] as const)('%s', (_name, args, code) => {
  it('twice: the same text apart from the performance line', async () => {
    const [a, b] = await Promise.all([cli(...args), cli(...args)]);
    expect(a.status, a.stderr).toBe(code);
    expect(b.status).toBe(code);
    expect(a.stdout).toMatch(/^performance: /m);
    expect(untimed(a.stdout)).toContain('verdict: ');
    expect(untimed(a.stdout).length).toBeGreaterThan(1000);
    expect(untimed(b.stdout)).toBe(untimed(a.stdout));
    expect(b.stderr).toBe(a.stderr);
  }, 300_000);

  it('twice with --json: the same document apart from ms and performance', async () => {
    const [a, b] = await Promise.all([cli(...args, '--json'), cli(...args, '--json')]);
    expect(a.status, a.stderr).toBe(code);
    expect(b.status).toBe(code);
    const ja = untimedJson(a.stdout);
    expect(ja).toContain('"seed": ');
    expect(untimedJson(b.stdout)).toBe(ja);
    // Nothing else in the raw text differs either (the timing fields are the only variable lines).
    const rawLines = (s: string) => s.split('\n').filter((l) => !/^ {2}"ms": |^ {2}"performance": |^ {4}"(traces|ops|opsPerSecond)": |^ {2}\},?$/.test(l));
    expect(rawLines(b.stdout)).toEqual(rawLines(a.stdout));
  }, 300_000);
});

describe('check() in process', () => {
  it('the same options give the same counterexample, token and explanation', async () => {
    const o = { ...DEFAULT_CHECK_OPTIONS, layout: 'architected', guest: 'nvhe' as const, properties: ['deferred' as const], seed: 11 };
    const a = await check(o);
    const b = await check(o);
    const strip = (r: typeof a) => {
      const j = checkJson(r);
      delete j.ms;
      delete j.performance;
      return j;
    };
    expect(a.results[0]!.verdict).toBe('fail');
    expect(strip(b)).toEqual(strip(a));
    expect(b.results[0]!.token).toBe(a.results[0]!.token);
    expect(b.results[0]!.opsExecuted).toBe(a.results[0]!.opsExecuted);
  });
});
