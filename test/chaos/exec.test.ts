/**
 * The chaos suite, processes: misbehaving `exec:` implementations (test/chaos/fixtures/chaos-exec.mjs)
 * checked by the real CLI. Each failure is a reported counterexample (exit 1, the failing op, the
 * trace, the process's last output), even when it does not recur, and no process is left behind.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, execSpec, marker, markedRows, settledLeftovers, tmp, withDefaults } from './util.js';

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `check --impl SPEC` on one property with few runs and a short timeout, in the random phase only
 * (`--depth 0`: these tests are about shrinking and replaying; the exhaustive phase has its own).
 */
const check = (spec: string, ...more: string[]) =>
  cli(withDefaults(['check', '--impl', spec, ...more], { '--property': 'architectural', '--runs': '30', '--timeout': '400', '--depth': '0' }));

interface JsonResult {
  verdict: string;
  explanation: string;
  divergentOp: number;
  reproducible: boolean;
  counterexample: { ops: unknown[] };
  alsoFailed?: { explanation: string; token: string };
}

describe.concurrent('a process that fails once and not again is still reported', () => {
  it('dies on its 4th message over its life: exit 1, the failure, its stderr, "not reproducible"', async () => {
    const m = marker('die4');
    const r = await check(execSpec(m, 'die-at 4'));
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^x architectural: FAIL after \d+ traces? \(\d+ shrinks\): trace of \d+ ops? \(not reproducible\)$/m);
    expect(r.stdout).toMatch(/^ {2}why {6}the implementation failed: exec:node .* die-at 4: exited with code 1 before answering (reset|ops\[\d+\]) \(last output: stdout: .*; stderr: chaos: message 4 \| Fatal: simulated crash in die-at\)$/m);
    expect(r.stdout).toContain('\n  note     not reproducible: shown as first observed (a rerun of this trace did not fail the same way)\n');
    expect(r.stdout).toMatch(/^ {2}replay {3}nvconform replay nvc1:\S+ --impl 'exec:node .* die-at 4'$/m);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('dies on its 4th message in the exhaustive phase: reported as first observed, not as a shortest counterexample', async () => {
    const m = marker('die4x');
    const r = await check(execSpec(m, 'die-at 4'), '--depth', '1');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^x architectural: FAIL in the exhaustive phase: trace of \d+ ops? \(not reproducible\)$/m);
    expect(r.stdout).not.toContain('shortest');
    expect(r.stdout).toMatch(/^ {2}why {6}the implementation failed: exec:node .* die-at 4: exited with code 1 before answering/m);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('dies after 200 messages: the op it died on, marked, with the trace that led to it', async () => {
    const m = marker('die200');
    const r = await check(execSpec(m, 'die-at 200'), '--json');
    expect(r.status, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout) as { results: JsonResult[] };
    const p = j.results[0]!;
    expect(p.verdict).toBe('fail');
    expect(p.reproducible).toBe(false);
    expect(p.explanation).toMatch(/exited with code 1 before answering ops\[(\d+)\] .*stderr: chaos: message 200/);
    const i = Number(/ops\[(\d+)\]/.exec(p.explanation)![1]);
    expect(p.divergentOp).toBe(i);
    expect(p.counterexample.ops).toHaveLength(i + 1);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('dies once ever (at message 30 over every process): the same, and the check goes on to other properties', async () => {
    const m = marker('once');
    // One worker: "once ever" is counted over every process, so with a process per worker which property meets it depends on timing.
    const r = await cli(['check', '--impl', execSpec(m, `die-once-at 30 --state ${join(dir, 'once.json')}`), '--property', 'architectural', '--property', 'cval-tval', '--runs', '20', '--depth', '0', '--workers', '1']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^x architectural: FAIL .*\(not reproducible\)$/m);
    expect(r.stdout).toMatch(/^\+ cval-tval: pass \(\d+ directed traces and 20 random traces\)$/m);
    expect(await settledLeftovers(m)).toEqual([]);
  });
});

describe.concurrent('a process that fails every time is shrunk and replayed', () => {
  it('answers an mrs without a value: an implementation error naming the op', async () => {
    const m = marker('nomrs');
    const r = await check(execSpec(m, 'nomrsvalue'));
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^x architectural: FAIL after \d+ traces? \(\d+ shrinks\): minimal trace of 1 op$/m);
    expect(markedRows(r.stdout)[0]).toMatch(/^>0 vEL2 mrs \S+ .* irq=\[\]$/);
    expect(r.stdout).toMatch(/^ {2}why {6}the implementation failed: exec:node .*: answered ops\[0\] \(mrs \S+\) with \{"irq":\[\]\}: no value, but an mrs that completes reads one$/m);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('hangs: reported after the timeout, the process killed', async () => {
    const m = marker('hang');
    const r = await check(execSpec(m, 'hang-at 3'), '--runs', '5');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/why {6}the implementation failed: exec:node .*: no answer to (reset|ops\[\d+\]) within 400 ms \(last output: stdout: /);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('prints garbage: quoted', async () => {
    const m = marker('garbage');
    const r = await check(execSpec(m, 'garbage-at 5'));
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/answered (reset|ops\[\d+\]) with a line that is not JSON: "Segmentation fault \(core dumped\)"/);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('crashes during a reset (its 2nd): reported at the reset', async () => {
    const m = marker('reset');
    const r = await check(execSpec(m, 'reset-crash 2'));
    expect(r.status, r.stderr).toBe(1);
    expect(markedRows(r.stdout)).toEqual(['>0 (reset failed)']);
    expect(r.stdout).toMatch(/exited with code 1 before answering reset \(last output: .*stderr: chaos: reset 2/);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('crashes in the middle of shrinking a real counterexample: the counterexample stands, the crash is reported beside it', async () => {
    const m = marker('shrink');
    // One worker: the fixture dies at the first reset after its bug shows, in whichever process (the state file is shared);
    // with two, the other worker's process may be the one to die, in the middle of its own search, not while shrinking.
    const r = await cli(['check', '--impl', execSpec(m, `shrink-crash --bug --state ${join(dir, 'shrink.json')}`), '--property', 'architectural', '--runs', '50', '--json', '--workers', '1']);
    expect(r.status, r.stderr).toBe(1);
    const p = (JSON.parse(r.stdout) as { results: JsonResult[] }).results[0]!;
    expect(p.explanation).toMatch(/^op #\d+ `/); // the property's counterexample, not the crash
    expect(p.reproducible).toBe(true);
    expect(p.alsoFailed?.explanation).toMatch(/^the implementation failed: .*exited with code 1 .*stderr: chaos: during shrinking/);
    expect(p.alsoFailed?.token).toMatch(/^nvc1:/);
    expect(await settledLeftovers(m)).toEqual([]);
  });
});

describe.concurrent('lines out of turn are reported the same way every time', () => {
  it('two lines per request: the second {"ready":true} is the answer to ops[0], quoted, in every run', async () => {
    const m = marker('double');
    const runs = await Promise.all([1, 2, 3].map(() => check(execSpec(m, 'double'))));
    for (const r of runs) {
      expect(r.status, r.stderr).toBe(1);
      expect(markedRows(r.stdout)[0]).toMatch(/^>0 vEL2 /);
      expect(r.stdout).toMatch(/^ {2}why {6}the implementation failed: exec:node .* double: answered ops\[0\] with \{"ready":true\} \(out of turn\), expected an observation \(last output: stdout: .*\{"ready":true\}/m);
    }
    const why = (out: string) => /^ {2}why .*$/m.exec(out)![0];
    expect(new Set(runs.map((r) => why(r.stdout))).size).toBe(1);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('one op answered twice (two separate writes): the extra line is read as the next answer and reported, the same in every run', async () => {
    const m = marker('doubleat');
    // Its fault comes at its process's 7th message: with several workers, each has a process of its own, and which
    // worker runs which task (a shrink, a search for a shorter counterexample) is a matter of timing. One worker.
    const runs = await Promise.all([1, 2].map(() => check(execSpec(m, 'double-at 7'), '--max-ops', '8', '--json', '--workers', '1')));
    const results = runs.map((r) => {
      expect(r.status, r.stderr).toBe(1);
      return (JSON.parse(r.stdout) as { results: JsonResult[] }).results[0]!;
    });
    expect(results[0]).toEqual(results[1]);
    expect(JSON.stringify(results[0])).toMatch(/out of turn/);
    expect(await settledLeftovers(m)).toEqual([]);
  });
});

describe.concurrent('processes that are slow, chatty or fork, but answer correctly, pass', () => {
  it('a slow start (1.5 s before reading) under --timeout 400: the first reset gets 5 s', async () => {
    const m = marker('slow');
    const r = await check(execSpec(m, 'slow-start 1500'), '--runs', '5');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\+ architectural: pass \(\d+ directed traces and 5 random traces\)$/m);
  });

  it('answers written in pieces (partial lines)', async () => {
    const r = await check(execSpec(marker('partial'), 'partial'), '--runs', '5');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('a flood on stderr (8 MiB at start, 64 KiB per message) does not block it', async () => {
    const r = await check(execSpec(marker('flood'), 'stderr-flood'), '--runs', '10');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('forks a child that ignores SIGTERM: the whole process group is gone afterwards', async () => {
    const m = marker('fork');
    const r = await check(execSpec(m, 'fork'), '--runs', '5');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(await settledLeftovers(m)).toEqual([]);
  });
});

describe.concurrent('more misbehaviour', () => {
  it('forks a child, then dies: reported, and the child is killed with it', async () => {
    const m = marker('forkdie');
    const r = await check(execSpec(m, 'fork-die-at 6'));
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/exited with code 1 before answering/);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('a line of 2 MiB: a protocol error, not a memory problem', async () => {
    const m = marker('huge');
    const r = await check(execSpec(m, 'huge-at 4'));
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/why {6}the implementation failed: exec:node .*: printed a line longer than 1048576 characters while answering (reset|ops\[\d+\]): \{"irq":\[\],"pad":"z+\.\.\. \(last output: stdout: .*\)$/m);
    expect(r.stdout.length).toBeLessThan(20_000);
    expect(await settledLeftovers(m)).toEqual([]);
  });
});
