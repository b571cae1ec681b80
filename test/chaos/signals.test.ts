/**
 * nvconform interrupted (SIGINT, SIGTERM) while an implementation process is running: it exits
 * with 128+signal and takes the process, and whatever it forked, with it. A plug-in that fails
 * while being made is reported like any implementation failure (exit 1, a report on stdout).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli, execSpec, leftovers, MAIN, marker, PLUGINS, ROOT, settledLeftovers } from './util.js';

async function interrupted(signal: NodeJS.Signals): Promise<{ status: number | null; m: string }> {
  const m = marker(`sig${signal}`);
  const p = spawn(process.execPath, [MAIN, 'check', '--impl', execSpec(m, 'fork-hang-at 3'), '--property', 'architectural', '--timeout', '30000'], { cwd: ROOT, stdio: 'ignore' });
  const exited = new Promise<number | null>((res) => p.on('close', (code) => res(code)));
  // Wait until the fixture runs with its grandchild (both carry the marker; on a loaded machine the workers take a while to start it).
  for (let i = 0; i < 400 && leftovers(m).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  expect(leftovers(m).length).toBeGreaterThanOrEqual(2);
  await new Promise((r) => setTimeout(r, 300)); // it has sent the message it hangs on
  p.kill(signal);
  return { status: await exited, m };
}

describe('interrupted', () => {
  // Both workers start an implementation process at once (the exhaustive phase is a task per family):
  // nvconform stops its workers before it kills, so that neither can start one after the kill.
  it('by SIGINT: exit 130, no process left', async () => {
    const { status, m } = await interrupted('SIGINT');
    expect(status).toBe(130);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('by SIGTERM: exit 143, no process left', async () => {
    const { status, m } = await interrupted('SIGTERM');
    expect(status).toBe(143);
    expect(await settledLeftovers(m)).toEqual([]);
  });
});

describe('a plug-in whose factory throws', () => {
  it('check: every property fails with the reason and its output, exit 1', async () => {
    const r = await cli(['check', '--impl', `${PLUGINS}/throws-factory.mjs`, '--property', 'architectural']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('\nx architectural: FAIL\n  why      the implementation failed before any trace: plug-in test/chaos/fixtures/plugins/throws-factory.mjs: createImplementation() threw: simulator license expired (last output: stdout: initialising the simulator)\n');
  });

  it('run: the reason on stdout and stderr, exit 1', async () => {
    const r = await cli(['run', 'examples/vhe-cval-basic.json', '--model', `${PLUGINS}/throws-factory.mjs`]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('the implementation failed before the trace: plug-in test/chaos/fixtures/plugins/throws-factory.mjs: createImplementation() threw: simulator license expired (last output: stdout: initialising the simulator)\n');
    expect(r.stderr).toBe('nvconform: plug-in test/chaos/fixtures/plugins/throws-factory.mjs: createImplementation() threw: simulator license expired (last output: stdout: initialising the simulator)\n');
  });
});
