/**
 * The chaos suite, module plug-ins (test/chaos/fixtures/plugins): a plug-in runs in a worker
 * thread, so its process.exit(), its console output, its endless loops and its unpassable
 * answers are reported as implementation failures at the op (exit 1), never end or corrupt the
 * checker's own run, and never pose as an internal error.
 */
import { describe, expect, it } from 'vitest';
import { cli, markedRows, PLUGINS, withDefaults } from './util.js';

const check = (plugin: string, ...more: string[]) =>
  cli(withDefaults(['check', '--impl', `${PLUGINS}/${plugin}`, ...more], { '--property': 'architectural', '--runs': '20', '--timeout': '300' }));

describe.concurrent('plug-ins that misbehave', () => {
  it('process.exit(0) in step(): exit 1, the op, what it printed', async () => {
    const r = await check('exit0.mjs');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    expect(markedRows(r.stdout)[0]).toMatch(/^>0 vEL2 .* \(no answer\)$/);
    expect(r.stdout).toMatch(/^ {2}why {6}the implementation failed: plug-in test\/chaos\/fixtures\/plugins\/exit0\.mjs: step\(ops\[0\]\): the plug-in called process\.exit\(0\) \(last output: stdout: about to exit, as if done\)$/m);
    expect(r.stdout).toMatch(/^verdict: fail$/m);
  });

  it('a BigInt for a value: an implementation error naming the op and the field', async () => {
    const r = await check('bigint.mjs');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ {2}why {6}the implementation failed: plug-in \S+bigint\.mjs: step\(ops\[0\]\) returned a BigInt for value; expected a "0x…" string$/m);
  });

  it('a function for a value: the same', async () => {
    const r = await check('function.mjs');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ {2}why {6}the implementation failed: plug-in \S+function\.mjs: step\(ops\[0\]\) returned a function for value; expected a "0x…" string$/m);
  });

  it('a synchronous endless loop: stopped after --timeout, reported', async () => {
    const r = await check('spin.mjs');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/why {6}the implementation failed: plug-in \S+spin\.mjs: step\(ops\[\d+\]\) did not settle within 300 ms \(the plug-in was stopped\)$/m);
  });

  it('an exception thrown from a timer (uncaught in the plug-in)', async () => {
    const r = await check('async-throw.mjs');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/the plug-in threw outside any call \(uncaught\): background task failed$/m);
  });

  it('console.log and console.error at every step: --json stays one JSON document; the run passes', async () => {
    const r = await cli(['check', '--impl', `${PLUGINS}/console-log.mjs`, '--runs', '10', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as { verdict: string };
    expect(j.verdict).toBe('pass');
  });

  it('console output next to a real bug: the report is clean, the counterexample found', async () => {
    const r = await check('console-log-buggy.mjs', '--runs', '300');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).not.toMatch(/^step /m);
    expect(r.stdout).toMatch(/^x architectural: FAIL after \d+ traces \(\d+ shrinks\): minimal trace of 2 ops$/m);
  });
});
