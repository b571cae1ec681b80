/**
 * The HTML report filled from real results: the TVAL-slot counterexample of `check --layout
 * tval-in-vncr` as a TimelineDoc (what the checker found, not a hand-built document), and the
 * pages of a check, a suite and the layouts table.
 */
import { describe, expect, it } from 'vitest';
import type { HostFeature } from '../../models/arch/implementation.js';
import { loadLayout } from '../../models/layouts/load.js';
import { check, type CheckResult } from '../../src/check/check.js';
import { runSuite } from '../../src/check/suite.js';
import { judgeLayout } from '../../src/layouts/evaluate.js';
import { opText } from '../../src/engine/runner.js';
import { checkPage, counterexampleDoc, layoutsPage, suitePage, timelineDoc } from '../../src/report/timeline.js';
import { decodeToken } from '../../src/trace/token.js';

/** A physical CPU without FEAT_ECV: the built-in host is exact there for a VHE guest hypervisor with the architected layout. */
const NO_ECV = { cpu: ['vhe', 'wfxt', 'nv2p1'] as HostFeature[] };

const divergentTags = (html: string): string[] => html.match(/<[^>]*\bclass="[^"]*\bdivergent\b[^"]*"[^>]*>/g) ?? [];

async function tvalCheck(properties: CheckResult['options']['properties'] = ['deferred']): Promise<CheckResult> {
  return check({ impl: 'nv2', layout: 'tval-in-vncr', hostEcvTraps: false, host: NO_ECV, guest: 'vhe', runs: 300, seed: 42, maxOps: 40, properties, stats: false });
}

describe('timelineDoc from the TVAL-slot counterexample', async () => {
  const r = await tvalCheck();
  const p = r.results[0]!;
  const doc = counterexampleDoc(p, r)!;

  it('is the minimal trace the text report prints: a TVAL store to the page, then a stale CVAL read', () => {
    expect(p.verdict).toBe('fail');
    expect(doc.ops.map((o) => o.text)).toEqual(p.counterexample!.ops.map(opText));
    expect(doc.ops).toHaveLength(2);
    expect(doc.ops[0]!.text).toMatch(/^msr CNTV_TVAL_EL02, 0x[0-9a-f]+$/);
    expect(doc.ops[1]!.text).toBe('mrs CNTV_CVAL_EL02');
    expect(doc.divergentOp).toBe(1);
    expect(doc.explanation).toBe(p.explanation);
    expect(doc.token).toBe(p.token);
    expect(decodeToken(doc.token!).ops).toHaveLength(2);
  });

  it('has what each side saw and what the hardware did', () => {
    const [w, rd] = doc.ops;
    const written = w!.op.value!;
    expect(w!.hardware).toContain('store VNCR[0x1f0] (CNTV_TVAL_EL0)');
    expect(w!.route).toBe('vncr');
    expect(w!.vncr).toEqual([{ offset: 0x1f0, key: 'CNTV_TVAL_EL0', before: '0x0', after: written }]);
    expect(rd!.hardware).toEqual(['load VNCR[0x168] (CNTV_CVAL_EL0)']);
    // The architecture: the TVAL write at count 0 sets CVAL to the value; the page's CVAL slot still holds 0.
    expect(rd!.expected).toEqual({ irq: [], value: written });
    expect(rd!.observed).toEqual({ irq: [], value: '0x0' });
    expect(w!.timerState.find((s) => s.timer === 'vtimer')).toMatchObject({ cval: written, enable: false, conditionMet: false });
    expect(w!.countBefore).toBe('0x0');
    expect(w!.el).toBe(2);
    expect(rd!.timerMap).toContain('vtimer');
  });

  it('draws the touched timer only and lists the layout\'s slots, TVAL slots included', () => {
    expect(doc.timers).toEqual(['vtimer']);
    expect(doc.slots.map((s) => s.offset)).toEqual([...doc.slots.map((s) => s.offset)].sort((a, b) => a - b));
    expect(doc.slots).toContainEqual({ offset: 0x1f0, key: 'CNTV_TVAL_EL0' });
    expect(doc.title).toBe('deferred: FAIL — layout tval-in-vncr, guest vhe');
    expect(doc.subtitle).toBe('nv2, layout tval-in-vncr, host-ecv-traps off, host-cpu vhe,wfxt,nv2p1');
  });

  it('renders one page that shows the divergence, the explanation and the token', () => {
    const html = checkPage(r);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('First divergence at op #1');
    expect(divergentTags(html)).toHaveLength(1);
    expect(html).toContain(p.token!);
    expect(html).toContain('served from VNCR slot 0x168');
    expect(html).not.toMatch(/https?:\/\//);
    expect(checkPage(r)).toBe(html);
  });
});

describe('pages of several results', () => {
  it('a check with several failing properties: the verdict table, each counterexample linked and embedded', async () => {
    const r = await tvalCheck(['architectural', 'deferred', 'cval-tval']);
    const failing = r.results.filter((x) => x.counterexample);
    expect(failing.length).toBeGreaterThanOrEqual(2);
    const html = checkPage(r);
    expect(html).toContain('id="verdicts"');
    for (const [i, x] of r.results.entries()) {
      if (x.counterexample) {
        expect(html).toContain(`href="#cx-${i}"`);
        expect(html).toContain(`id="cx-${i}"`);
        expect(html).toContain(x.token!);
      } else expect(html).not.toContain(`id="cx-${i}"`);
    }
  });

  it('a passing check: the table, no timeline', async () => {
    const r = await check({ impl: 'nv2', layout: 'architected', hostEcvTraps: false, host: NO_ECV, guest: 'vhe', runs: 50, seed: 1, maxOps: 20, properties: ['deferred'], stats: false });
    expect(r.verdict).toBe('pass');
    const html = checkPage(r);
    expect(html).toContain('PASS');
    expect(html).not.toContain('class="nvc-timeline');
  });

  it('a suite: one row per entry, an expected failure embedded and marked as expected', async () => {
    const suite = {
      name: 'two', entries: [
        { name: 'tval slot', impl: 'nv2', layout: 'tval-in-vncr', hostEcvTraps: false, hostCpu: NO_ECV.cpu, guest: 'vhe' as const, property: 'deferred' as const, expect: 'fail' as const, why: 'TVAL is a view' },
        { name: 'architected', impl: 'nv2', layout: 'architected', hostEcvTraps: false, hostCpu: NO_ECV.cpu, guest: 'vhe' as const, property: 'deferred' as const, expect: 'pass' as const, why: '' },
      ],
    };
    const r = await runSuite(suite, { runs: 50, seed: 42, maxOps: 20, stats: false });
    const html = suitePage(r);
    expect(html).toContain('expected failure');
    expect(html).toContain('#0 tval slot: deferred FAIL (expected)');
    expect(html).toContain('id="cx-0"');
    expect(html).not.toContain('id="cx-1"');
  });

  it('the layouts table: a failing layout links to its timeline, the baseline row has none', async () => {
    const v = [await judgeLayout(loadLayout('architected'), 'vhe', { hostEcvTraps: false, runs: 30, seed: 42, maxOps: 20 }), await judgeLayout(loadLayout('tval-in-vncr'), 'vhe', { hostEcvTraps: false, runs: 30, seed: 42, maxOps: 20 })];
    const html = layoutsPage(v, { baseline: { vhe: { linux: 1, tval: 2, random: 3 } }, hostEcvTraps: false, runs: 30, seed: 42 });
    expect(html).toContain('FEAT_NV only (baseline)');
    expect(html).toContain('id="cx-1"');
    expect(html).toContain('#1 tval-in-vncr, guest vhe: deferred FAIL');
  });
});

describe('timelineDoc of a run without a property', () => {
  it('the reference alone: observed is the architecture, no verdict, no divergence', () => {
    const config = { guest: 'vhe' as const, features: [], count: 0x100n, init: {} };
    const doc = timelineDoc({ config, ops: [{ op: 'msr', reg: 'CNTV_CVAL_EL02', value: 0x104n }, { op: 'msr', reg: 'CNTV_CTL_EL02', value: 1n }, { op: 'tick', by: 4n }] }, { title: 'run' });
    expect(doc.verdict).toBeUndefined();
    expect(doc.divergentOp).toBeUndefined();
    expect(doc.ops[2]!.countBefore).toBe('0x100');
    expect(doc.ops[2]!.countAfter).toBe('0x104');
    expect(doc.ops[2]!.expected).toEqual({ irq: ['vtimer'] });
    expect(doc.ops[2]!.observed).toEqual(doc.ops[2]!.expected);
    expect(doc.ops[2]!.timerState.find((s) => s.timer === 'vtimer')).toMatchObject({ enable: true, conditionMet: true });
    expect(doc.ops[1]!.timerState.find((s) => s.timer === 'vtimer')!.conditionMet).toBe(false);
    expect(doc.timers).toEqual(['vtimer']);
  });
});
