/** scripts/setup-qemu.sh: when it cannot, one line `setup-qemu: …` on stderr naming what is missing, and exit code 2. */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve('scripts/setup-qemu.sh');
const TOOLS = ['bash', 'sed', 'awk', 'grep', 'head', 'id', 'date', 'dirname', 'cat', 'tail', 'timeout'];

/** A PATH with the shell tools the script needs, and no QEMU, compiler or apt. */
function barePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nvx-setup-'));
  for (const t of TOOLS) {
    const found = ['/usr/bin', '/bin', '/usr/local/bin'].map((d) => join(d, t)).find((p) => existsSync(p));
    if (found) symlinkSync(found, join(dir, t));
  }
  return dir;
}

describe('scripts/setup-qemu.sh', () => {
  it('refuses an unknown option with one line and exit 2', () => {
    const r = spawnSync('bash', [SCRIPT, '--bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["setup-qemu: unknown option '--bogus' (known: --no-install, --force-install)"]);
  });

  it('with --no-install and no QEMU on PATH, says so in one line and exits 2', () => {
    const dir = barePath();
    try {
      const r = spawnSync(join(dir, 'bash'), [SCRIPT, '--no-install'], { encoding: 'utf8', env: { PATH: dir } });
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^setup-qemu: no qemu-system-aarch64 >= 10 on PATH and --no-install was given$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without QEMU, compiler and apt-get, names what is missing in one line and exits 2 (CI reports this as skipped)', () => {
    const dir = barePath();
    try {
      const r = spawnSync(join(dir, 'bash'), [SCRIPT], { encoding: 'utf8', env: { PATH: dir } });
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^setup-qemu: missing qemu-system-aarch64 >= 10, aarch64-linux-gnu-gcc\/objcopy or make(; installing needs root|, and no apt-get to install it)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
