/**
 * Scale (README, "Scale: workers, shards, budgets"): --workers, --shard with merge, --time, and the
 * progress line, from the built CLI (dist/ must be built). Nothing here times anything: runs are
 * compared by their output, budgets by the shape of their report.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Executor as ExecutorClass } from '../../src/check/executor.js';
import type { explore as Explore } from '../../src/layouts/explore.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');

function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000, maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** A JSON document without what depends on time (every `ms`, the ops/s rate). */
function untimed(text: string): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'ms' && k !== 'opsPerSecond').map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return strip(JSON.parse(text));
}

/** `check FLAG V` for each bad value V: exit 2, and the message names the flag. */
async function refusesEach(flag: string, values: readonly string[]): Promise<void> {
  for (const v of values) {
    const r = await cli('check', flag, v);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(flag));
  }
}

/** The same run with 1 and with 2 workers: the same document. */
async function sameWithWorkers(args: string[]): Promise<unknown> {
  const [one, two] = [await cli(...args, '--workers', '1', '--json'), await cli(...args, '--workers', '2', '--json')];
  expect(one.stderr).toBe('');
  expect(two.status, two.stderr).toBe(one.status);
  expect(untimed(two.stdout)).toEqual(untimed(one.stdout));
  return untimed(one.stdout);
}

describe('--workers: the output does not depend on the number of workers', () => {
  it('the default suite', async () => {
    const d = await sameWithWorkers(['check', '--runs', '100']) as { verdict: string; results: unknown[] };
    expect(d.results.length).toBeGreaterThan(10);
  }, 300_000);

  it('a configuration that fails, shrunk and searched for a shorter counterexample (random phase)', async () => {
    const d = await sameWithWorkers(['check', '--layout', 'architected', '--guest', 'vhe', '--property', 'architectural', '--depth', '0', '--stats']) as { results: { verdict: string; phase: string; token: string }[] };
    expect(d.results[0]).toMatchObject({ verdict: 'fail', phase: expect.stringMatching(/random|directed/) as unknown });
  }, 300_000);

  it('layouts', async () => {
    await sameWithWorkers(['layouts', '--runs', '50', '--guest', 'nvhe']);
  }, 300_000);

  it('layouts --explore (over four registers), its exhaustive phase and its verification included', async () => {
    // The built modules, so that the executor finds its worker entry (dist/src/check/worker.js).
    const dist = (m: string) => pathToFileURL(join(ROOT, 'dist', m)).href;
    const { explore } = await import(dist('src/layouts/explore.js')) as { explore: typeof Explore };
    const { Executor } = await import(dist('src/check/executor.js')) as { Executor: typeof ExecutorClass };
    const run = async (workers: number): Promise<string> => {
      const executor = new Executor({ workers });
      expect(executor.pool.size).toBe(workers);
      try {
        const e = await explore('vhe', { hostEcvTraps: false, runs: 30, seed: 5, maxOps: 40, depth: 1, keys: ['CNTV_CTL_EL0', 'CNTV_CVAL_EL0', 'CNTV_TVAL_EL0', 'CNTVOFF_EL2'], executor });
        return JSON.stringify(e, (k, v: unknown) => (k === 'ms' ? undefined : typeof v === 'bigint' ? v.toString() : v instanceof Map ? [...v] : v));
      } finally {
        await executor.close();
      }
    };
    const [one, two] = [await run(1), await run(2)];
    expect(two).toBe(one);
    expect(one).toContain('CNTV_TVAL_EL0');
  }, 300_000);

  it('bad input: one line, exit 2', async () => {
    for (const v of ['0', 'x', '999']) {
      const r = await cli('check', '--workers', v);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--workers/);
    }
  });
});

describe('--shard I/N and merge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvconform-shard-'));
  /** A check that takes a second. */
  const SMALL_CHECK = ['check', '--property', 'deferred', '--runs', '20', '--depth', '0'];
  /** The verdicts a merge must reproduce, per result. */
  const verdicts = (d: { verdict: string; results: Record<string, unknown>[] }) => ({
    verdict: d.verdict,
    results: d.results.map((r) => ({ name: r.name, property: r.property, verdict: r.verdict, asExpected: r.asExpected, runs: r.runs, token: r.token, counterexample: r.counterexample, explanation: r.explanation, phase: r.phase })),
  });

  /** Run shard i of n of `args` with --json, its output to the file `name`-i.json; the file. */
  async function shard(args: string[], i: number, n: number, name: string): Promise<string> {
    const r = await cli(...args, '--shard', `${i}/${n}`, '--json');
    expect(r.stderr).toBe('');
    const f = join(dir, `${name}-${i}.json`);
    writeFileSync(f, r.stdout);
    return f;
  }

  /** Every shard of n, in order: their files. */
  async function shards(args: string[], n: number, name: string): Promise<string[]> {
    const files: string[] = [];
    for (let i = 1; i <= n; i++) files.push(await shard(args, i, n, name));
    return files;
  }

  async function shardsMerge(args: string[], n: number): Promise<void> {
    const whole = await cli(...args, '--json');
    const files = await shards(args, n, args.join('_').replace(/[^a-z0-9]/gi, ''));
    const m = await cli('merge', ...files.reverse());
    expect(m.stderr).toBe('');
    expect(m.status).toBe(whole.status);
    expect(verdicts(JSON.parse(m.stdout))).toEqual(verdicts(JSON.parse(whole.stdout)));
  }

  it('the default suite in 2 shards merges to the unsharded verdicts', async () => {
    await shardsMerge(['check', '--runs', '100'], 2);
  }, 300_000);

  it('a failing configuration in 3 shards: the earliest failing run wins, as unsharded', async () => {
    await shardsMerge(['check', '--layout', 'architected', '--guest', 'vhe', '--depth', '0'], 3);
  }, 300_000);

  it('layouts in 2 shards merge to the unsharded judgement of every layout, each contract\'s counterexample included', async () => {
    const args = ['layouts', '--guest', 'vhe', '--runs', '200'];
    const whole = JSON.parse((await cli(...args, '--json')).stdout) as { layouts: Record<string, unknown>[] };
    const files = await shards(args, 2, 'layouts');
    // A shard alone is not the whole run: some layout's contract runs fewer traces.
    const one = JSON.parse(readFileSync(files[0]!, 'utf8')) as { layouts: { properties: { runs: number }[] }[] };
    expect(one.layouts.some((l, j) => l.properties.some((p, k) => p.runs !== (whole.layouts[j]!.properties as { runs: number }[])[k]!.runs))).toBe(true);
    const m = await cli('merge', ...files);
    expect(m.stderr).toBe('');
    expect(m.status).toBe(0);
    const merged = JSON.parse(m.stdout) as { layouts: Record<string, unknown>[]; merged: number };
    expect(merged.merged).toBe(2);
    expect(untimed(JSON.stringify(merged.layouts))).toEqual(untimed(JSON.stringify(whole.layouts)));
    const text = await cli(...args, '--shard', '1/2');
    expect(text.stdout).toMatch(/^shard: 1\/2 of each contract's random traces/m);
    const explore = await cli('layouts', '--explore', '--shard', '1/2');
    expect(explore.status).toBe(2);
    expect(explore.stderr.trim()).toBe('nvconform: layouts: --shard does not apply with --explore: the explorer picks each subset from the verdicts before it, so its shards could not be put together; use --workers');
    // A check's shard is not a shard of a layouts run.
    const mixed = await cli('merge', files[0]!, await shard(SMALL_CHECK, 2, 2, 'check'));
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(/check-2\.json: not a shard of the same run as .*layouts-1\.json/);
  }, 300_000);

  it('bad shards and incomplete merges are refused with one line, exit 2', async () => {
    await refusesEach('--shard', ['0/2', '3/2', '1', 'a/b']);
    const f = await shard(SMALL_CHECK, 1, 2, 'lonely');
    const m = await cli('merge', f);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/shard 2\/2 missing/);
    const twice = await cli('merge', f, f);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/given twice/);
  }, 120_000);
});

describe('--time: a budget that stops cleanly and says what it covered', () => {
  it('the default suite under a 2 s budget', async () => {
    const r = await cli('check', '--time', '2s', '--json');
    expect(r.stderr).toBe('');
    const d = JSON.parse(r.stdout) as { verdict: string; budget: Record<string, unknown>; results: { asExpected: boolean }[] };
    expect(r.status).toBe(d.results.every((x) => x.asExpected) ? 0 : 1);
    expect(d.budget).toMatchObject({ seconds: 2, stopped: expect.any(Boolean) as unknown, traces: expect.any(Number) as unknown, ops: expect.any(Number) as unknown });
    expect(d.budget.depth).toMatchObject({ reached: expect.any(Number) as unknown, of: 2 });
    expect(d.budget.cells).toMatchObject({ hit: expect.any(Number) as unknown, reachable: expect.any(Number) as unknown });
  }, 120_000);

  it('a soak of one configuration: runs until the budget, then passes (text report)', async () => {
    const r = await cli('check', '--property', 'vncr-verbatim', '--time', '2s', '--workers', '2');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^budget: 2 s, ran out: covered \d+ traces, \d+ ops, exhaustive depth \d of 2, \d+ of \d+ coverage cells$/m);
  }, 120_000);

  it('a budget that is not used up changes no verdict', async () => {
    const args = ['check', '--layout', 'architected', '--guest', 'vhe', '--property', 'architectural', '--runs', '300'];
    const [plain, timed] = [await cli(...args, '--json'), await cli(...args, '--time', '10m', '--json')];
    const { budget, coverage: _c, ...rest } = untimed(timed.stdout) as Record<string, unknown>;
    expect(budget).toMatchObject({ stopped: false });
    expect(rest).toEqual(untimed(plain.stdout));
    expect(timed.status).toBe(plain.status);
  }, 120_000);

  it('bad durations: one line, exit 2', async () => {
    await refusesEach('--time', ['0', '10x', '-1s', '']);
  });
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasScript)('progress on a terminal', () => {
  /** Run under a pseudo-terminal (util-linux script): stdout and stderr are the terminal. */
  const tty = (args: string[]): Promise<string> => new Promise((resolve) => {
    const cmd = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(' ');
    execFile('script', ['-qfec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000, maxBuffer: 1 << 26 }, (_err, stdout) => resolve(stdout));
  });

  it('shows runs, ops/s, failures and time left on stderr while a run of more than a second goes on', async () => {
    // Long enough to last more than a second on a quiet machine (about 3 s there).
    const out = await tty(['check', '--property', 'vncr-verbatim', '--runs', '20000', '--depth', '0', '--workers', '1']);
    expect(out).toMatch(/nvconform: \d+(\/\d+)? runs, [0-9.]+ (k |M )?ops\/s, \d+ failures? so far, (about \d+ s left|time left unknown)/);
    expect(out).toMatch(/^verdict: pass/m);
  }, 300_000);

  it('shows the time left of a budget', async () => {
    const out = await tty(['check', '--property', 'vncr-verbatim', '--time', '3s']);
    expect(out).toMatch(/nvconform: \d+ runs, .* ops\/s, 0 failures so far, \d s left/);
  }, 120_000);

  it('never with --json, and never when stderr is not a terminal', async () => {
    const out = await tty(['check', '--property', 'vncr-verbatim', '--runs', '10000', '--depth', '0', '--json']);
    expect(out).not.toMatch(/ops\/s/);
    expect(() => JSON.parse(out.replace(/\r/g, ''))).not.toThrow();
    const r = await cli('check', '--property', 'vncr-verbatim', '--time', '2s');
    expect(r.stderr).toBe('');
  }, 300_000);
});
