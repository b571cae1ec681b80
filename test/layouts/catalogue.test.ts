/**
 * Loading layouts: every catalogue layout loads cleanly, the example user layouts load, the
 * examples in examples/layouts/bad/ are rejected with the expected one-line messages, and the
 * loader's own errors (unknown name, unreadable file) are one-line InputErrors.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../models/arch/errors.js';
import { catalogueNames, packageRoot } from '../../models/layouts/catalogue.js';
import { clearLayoutCache, loadCatalogue, loadLayout } from '../../models/layouts/load.js';
import { SLOT_KEYS } from '../../models/arch/registers.js';
import { architectedOffsetOf, architectedRegisterAt, VNCR_OFFSETS } from '../../models/arch/vncr.js';

const examples = join(packageRoot(), 'examples', 'layouts');

function loadError(spec: string): string {
  try {
    loadLayout(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toMatch(/[\r\n]/);
    return msg;
  }
  throw new Error(`expected ${spec} to be rejected`);
}

describe('catalogue', () => {
  test('every catalogue layout loads, named after its file, architected first', () => {
    const names = catalogueNames();
    const layouts = loadCatalogue();
    expect(layouts.map((l) => l.name)).toEqual(names);
    expect(names[0]).toBe('architected');
    expect(names.length).toBeGreaterThanOrEqual(6);
    for (const l of layouts) {
      expect(l.source).toBe(`models/layouts/${l.name}.json`);
      expect(l.description).not.toBe('');
    }
  });

  test('the architected layout is exactly the timer part of the VNCR table', () => {
    const a = loadLayout('architected');
    for (const key of SLOT_KEYS) expect(a.slots.get(key)).toBe(architectedOffsetOf(key));
  });

  test('tval-in-vncr puts TVAL on offsets no architected register uses', () => {
    const t = loadLayout('tval-in-vncr');
    for (const reg of ['CNTV_TVAL_EL0', 'CNTP_TVAL_EL0']) {
      const off = t.slots.get(reg);
      expect(off).toBeDefined();
      expect(architectedRegisterAt(off!)).toBeUndefined();
    }
  });

  test('tval-instead-of-cval needs allowArchitectedOffsets', () => {
    const t = loadLayout('tval-instead-of-cval');
    expect(t.slots.get('CNTV_TVAL_EL0')).toBe(0x168);
    expect(t.slots.has('CNTV_CVAL_EL0')).toBe(false);
  });

  test('loads are cached by spec', () => {
    expect(loadLayout('architected')).toBe(loadLayout('architected'));
  });
});

describe('the VNCR offsets table', () => {
  test('timer offsets match the facts file; all offsets aligned, in the page, unique', () => {
    const timer: Record<string, number> = {
      CNTVOFF_EL2: 0x60,
      CNTV_CVAL_EL0: 0x168,
      CNTV_CTL_EL0: 0x170,
      CNTP_CVAL_EL0: 0x178,
      CNTP_CTL_EL0: 0x180,
      CNTPOFF_EL2: 0x1a8,
      HDFGRTR2_EL2: 0x1a0,
      HDFGWTR2_EL2: 0x1b0,
    };
    for (const [reg, off] of Object.entries(timer)) expect([reg, architectedOffsetOf(reg)]).toEqual([reg, off]);
    expect(architectedOffsetOf('CNTV_TVAL_EL0')).toBeUndefined();
    expect(architectedOffsetOf('CNTP_TVAL_EL0')).toBeUndefined();
    const offsets = VNCR_OFFSETS.map((s) => s.offset);
    expect(new Set(offsets).size).toBe(offsets.length);
    for (const o of offsets) {
      expect(o % 8).toBe(0);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThanOrEqual(0xff8);
    }
    expect(architectedRegisterAt(0x4c8)).toBe('ICH_VMCR_EL2');
    expect(architectedRegisterAt(0x478)).toBe('ICH_LR15_EL2');
    expect(architectedRegisterAt(0x978)).toBe('MPAMVPM7_EL2');
  });
});

describe('user layout files', () => {
  test('the example layouts load (YAML and JSON)', () => {
    const y = loadLayout(join(examples, 'tval-spare.yaml'));
    expect(y.name).toBe('tval-spare');
    expect(y.slots.get('CNTV_TVAL_EL0')).toBe(0x1f0);
    expect(y.slots.get('CNTP_TVAL_EL0')).toBe(0x1f8);
    expect(y.slots.size).toBe(8);
    const j = loadLayout(join(examples, 'virtual-only.json'));
    expect([...j.slots.keys()]).toEqual(['CNTVOFF_EL2', 'CNTV_CVAL_EL0', 'CNTV_CTL_EL0']);
  });

  const BAD: Record<string, { line: number; text: RegExp }> = {
    'misaligned.yaml': { line: 6, text: /slots\[1\]\.offset: 0x16c is not 8-byte aligned$/ },
    'shared-slot.json': { line: 7, text: /slots\[2\]\.offset: 0x1f0 holds two registers: CNTV_TVAL_EL0 \(slots\[0\], line 5\) and CNTP_TVAL_EL0 \(slots\[2\]\)$/ },
    'architected-clash.json': { line: 6, text: /slots\[0\]\.offset: 0x168 is the architected VNCR offset of CNTV_CVAL_EL0, not of CNTV_TVAL_EL0/ },
    'lower-case-reg.yaml': { line: 6, text: /slots\[1\]\.reg: unknown register "cntp_ctl_el0"; did you mean "CNTP_CTL_EL0"\?/ },
    'duplicate-key.yaml': { line: 6, text: /slots\[0\]: duplicate key "offset" \(first on line 5\)$/ },
    'syntax-error.json': { line: 7, text: /syntax error at column \d+: / },
    'outside-page.json': { line: 6, text: /slots\[1\]\.offset: 4096 \(0x1000\) is outside the 4 KiB VNCR page/ },
  };

  test('every file in examples/layouts/bad is covered here', () => {
    expect(readdirSync(join(examples, 'bad')).sort()).toEqual(Object.keys(BAD).sort());
  });

  for (const [file, want] of Object.entries(BAD)) {
    test(`bad/${file} is rejected`, () => {
      const path = join(examples, 'bad', file);
      const msg = loadError(path);
      expect(msg.startsWith(`${path}:${want.line}: `)).toBe(true);
      expect(msg).toMatch(want.text);
    });
  }

  test('unknown catalogue name: one line listing the catalogue', () => {
    expect(loadError('no-such-layout')).toMatch(/^--layout: no layout named 'no-such-layout' in the catalogue \(architected, .*trap-all.*\); to load a file give its path/);
  });

  test('missing file, directory, empty spec', () => {
    expect(loadError('./nope/none.yaml')).toBe('./nope/none.yaml: cannot read layout: no such file');
    expect(loadError(examples)).toBe(`${examples}: cannot read layout: it is a directory`);
    expect(loadError('')).toMatch(/^--layout: empty layout name/);
  });

  test('a file path with any extension is read; a rewritten file is re-read after clearLayoutCache', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvc-layout-'));
    const path = join(dir, 'layout.yml');
    writeFileSync(path, 'format: nvconform-layout/1\nname: one\nslots: []\n');
    expect(loadLayout(path).name).toBe('one');
    writeFileSync(path, 'format: nvconform-layout/1\nname: two\nslots: []\n');
    expect(loadLayout(path).name).toBe('one');
    clearLayoutCache();
    expect(loadLayout(path).name).toBe('two');
    const noExt = join(dir, 'plain');
    writeFileSync(noExt, '{"format": "nvconform-layout/1", "name": "plain", "slots": []}');
    expect(loadLayout(noExt).name).toBe('plain');
  });
});
