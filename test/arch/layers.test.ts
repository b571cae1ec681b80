/** The layer rule is enforced: the project passes, and a planted upward import fails. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const depcruise = join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

describe('the layer check (dependency-cruiser)', () => {
  it('passes on the project', () => {
    const r = spawnSync(depcruise, ['models', 'properties', 'src', 'bench', '--config', CONFIG], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no dependency violations found/);
  });

  it.each([
    ['models/arch', 'src/cli', 'layer-models/arch'],
    ['models/reference', 'models/nv2', 'layer-models/reference+models/layouts'],
    ['models/nv2', 'properties', 'layer-models/nv2'],
    ['properties', 'src/report', 'layer-properties'],
    ['src/check', 'src/report', 'layer-src/check'],
    ['models/reference', 'models/layouts', 'peer-models/reference-models/layouts'],
    ['src/report', 'src/api', 'layer-src/report'],
    ['src/api', 'src/cli', 'peer-src/api-src/cli'],
    ['src/cli', 'src/api', 'peer-src/cli-src/api'],
  ])('fails on a planted import from %s up to %s (%s)', (from, to, rule) => {
    const dir = mkdtempSync(join(tmpdir(), 'nvconform-layers-'));
    try {
      mkdirSync(join(dir, from), { recursive: true });
      mkdirSync(join(dir, to), { recursive: true });
      writeFileSync(join(dir, to, 'top.ts'), 'export const x = 1;\n');
      const up = from.split('/').map(() => '..').join('/');
      writeFileSync(join(dir, from, 'low.ts'), `import { x } from '${up}/${to}/top.js';\nexport const y = x;\n`);
      writeFileSync(join(dir, 'tsconfig.json'), '{"compilerOptions":{"module":"NodeNext","moduleResolution":"NodeNext"}}\n');
      const r = spawnSync(depcruise, [from.split('/')[0]!, to.split('/')[0]!, '--config', CONFIG], { cwd: dir, encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stdout).toContain(`error ${rule}: ${from}/low.ts → ${to}/top.ts`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['src/cli/top.ts', 'vitest-not-cli'],
    ['src/report/top.ts', 'allowed'],
  ])('src/vitest.ts importing %s: %s', (target, rule) => {
    const dir = mkdtempSync(join(tmpdir(), 'nvconform-layers-'));
    try {
      mkdirSync(join(dir, 'src', target.split('/')[1]!), { recursive: true });
      writeFileSync(join(dir, target), 'export const x = 1;\n');
      writeFileSync(join(dir, 'src', 'vitest.ts'), `import { x } from './${target.slice('src/'.length).replace(/\.ts$/, '.js')}';\nexport const y = x;\n`);
      writeFileSync(join(dir, 'tsconfig.json'), '{"compilerOptions":{"module":"NodeNext","moduleResolution":"NodeNext"}}\n');
      const r = spawnSync(depcruise, ['src', '--config', CONFIG], { cwd: dir, encoding: 'utf8' });
      if (rule === 'allowed') expect(r.status, r.stdout).toBe(0);
      else {
        expect(r.status).not.toBe(0);
        expect(r.stdout).toContain(`error ${rule}: src/vitest.ts → ${target}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
