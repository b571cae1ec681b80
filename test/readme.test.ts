/**
 * The README quotes what the CLI prints now: each quoted block below is found in the README after
 * its command, and every line of it (but a `...` elision) is a line of what the command prints.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const cli = (args: readonly string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });

/** The first fenced block after `marker` in the README, as lines. */
function blockAfter(marker: string): string[] {
  const at = README.indexOf(marker);
  expect(at, `README has ${marker}`).toBeGreaterThanOrEqual(0);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(README.slice(at + marker.length))!;
  return m[1]!.split('\n').filter((l) => l !== '');
}

const QUOTES: [string, string, readonly string[]][] = [
  ['the default suite', 'From `npx nvconform check` (default suite', ['check']],
  ['the layouts table on a CPU without ECV', '(`npx nvconform layouts --guest vhe --host-cpu vhe,wfxt,nv2p1 examples/layouts/tval-spare.yaml`)', ['layouts', '--guest', 'vhe', '--host-cpu', 'vhe,wfxt,nv2p1', 'examples/layouts/tval-spare.yaml']],
  ['a pass and its scope', 'A pass says what it covered:', ['check', '--layout', 'architected', '--guest', 'vhe', '--host-cpu', 'vhe,wfxt,nv2p1', '--property', 'deferred']],
];

describe('the README quotes what the CLI prints', () => {
  it.each(QUOTES)('%s', (_name, marker, args) => {
    const r = cli(args);
    expect(r.stderr).toBe('');
    const printed = new Set(r.stdout.split('\n'));
    const quoted = blockAfter(marker).filter((l) => l !== '...' && !l.startsWith('$ '));
    expect(quoted.length).toBeGreaterThanOrEqual(2);
    for (const l of quoted) expect(printed.has(l), `README line not printed by nvconform ${args.join(' ')}:\n${l}`).toBe(true);
  }, 300_000);

  it('the kvm suite\'s table has a row per failing entry of suites/kvm.json', () => {
    const suite = JSON.parse(readFileSync(join(ROOT, 'suites', 'kvm.json'), 'utf8')) as { entries: { expect: string }[] };
    const fails = suite.entries.filter((e) => e.expect === 'fail').length;
    const section = README.slice(README.indexOf('### The kvm host profile'), README.indexOf('## Why the VNCR page'));
    expect(section.split('\n').filter((l) => /^\| \d+ \|/.test(l))).toHaveLength(fails);
  });
});
