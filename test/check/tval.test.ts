/**
 * The checker's verdict on TVAL slots: a layout with a TVAL slot is refuted under the NV2
 * contract with a trace of at most three ops, and flagged by `no-tval-in-vncr`; the architected
 * layout is not.
 */
import { describe, expect, it } from 'vitest';
import { check, DEFAULT_CHECK_OPTIONS } from '../../src/check/check.js';
import { replayCommand } from '../../src/cli/check.js';
import { decodeToken } from '../../src/trace/token.js';

/** A CPU without FEAT_ECV: there the page holds no CNTPOFF_EL2 a virtual CPU without ECV could read, so the shortest failure is the TVAL one. */
const NO_ECV = ['vhe', 'wfxt', 'nv2p1'] as const;

describe('tval-in-vncr under deferred (guest vhe)', () => {
  it('is refuted with a counterexample of at most 3 ops that goes through a TVAL slot', async () => {
    const r = await check({ ...DEFAULT_CHECK_OPTIONS, layout: 'tval-in-vncr', guest: 'vhe', host: { cpu: NO_ECV }, properties: ['deferred'] });
    expect(r.verdict).toBe('fail');
    const p = r.results[0]!;
    expect(p.verdict).toBe('fail');
    const ce = p.counterexample!;
    expect(ce.ops.length).toBeGreaterThanOrEqual(1);
    expect(ce.ops.length).toBeLessThanOrEqual(3);
    expect(ce.config.guest).toBe('vhe');
    // Every op ran at vEL2, and some TVAL access was a plain load/store of a TVAL slot.
    expect(ce.els.every((el) => el === 2)).toBe(true);
    const tvalSlotAccess = ce.details.some((d) => d?.actions.some((a) => a.kind === 'vncr' && /_TVAL_/.test(a.key)));
    expect(tvalSlotAccess).toBe(true);
    expect(ce.ops.some((op) => (op.op === 'msr' || op.op === 'mrs') && /_TVAL_/.test(op.reg))).toBe(true);
    // The divergent op is the last one, and the explanation names it.
    expect(ce.violation!.index).toBe(ce.ops.length - 1);
    expect(p.explanation).toContain(`op #${ce.violation!.index}`);

    const d = decodeToken(p.token!);
    expect(d.ops).toEqual(ce.ops);
    const rep = await replayCommand(p.token!, { json: true });
    expect(rep.code).toBe(1);
    expect(JSON.parse(rep.text)).toMatchObject({ verdict: 'fail', results: [{ property: 'deferred', verdict: 'fail', divergentOp: ce.violation!.index }] });
  });

  it('the same trace under the architected layout is no counterexample', async () => {
    const r = await check({ ...DEFAULT_CHECK_OPTIONS, layout: 'tval-in-vncr', guest: 'vhe', host: { cpu: NO_ECV }, properties: ['deferred'] });
    const rep = await replayCommand(r.results[0]!.token!, { json: true, layout: 'architected' });
    expect(rep.code, rep.text).toBe(0);
  });

  it('tval-instead-of-cval is refuted too, within 3 ops', async () => {
    const r = await check({ ...DEFAULT_CHECK_OPTIONS, layout: 'tval-instead-of-cval', guest: 'vhe', host: { cpu: NO_ECV }, properties: ['deferred'] });
    expect(r.results[0]!.verdict).toBe('fail');
    expect(r.results[0]!.counterexample!.ops.length).toBeLessThanOrEqual(3);
  });
});

describe('no-tval-in-vncr', () => {
  it('fails for tval-in-vncr, naming both TVAL slots', async () => {
    const r = await check({ ...DEFAULT_CHECK_OPTIONS, layout: 'tval-in-vncr', properties: ['no-tval-in-vncr'] });
    const p = r.results[0]!;
    expect(p.verdict).toBe('fail');
    expect(p.explanation).toContain("layout 'tval-in-vncr' gives");
    expect(p.explanation).toMatch(/CNTV_TVAL_EL0 a slot at 0x1f0/);
    expect(p.explanation).toMatch(/CNTP_TVAL_EL0 a slot at 0x1f8/);
    // The dynamic part: a TVAL access served from the page is shown.
    const ce = p.counterexample!;
    expect(ce.ops.length).toBeLessThanOrEqual(3);
    const last = ce.ops[ce.violation!.index]!;
    expect(last.op === 'msr' || last.op === 'mrs').toBe(true);
    expect((last as { reg: string }).reg).toMatch(/_TVAL_/);
    expect(p.explanation).toMatch(/was served from VNCR slot 0x1f[08]/);
  });

  it.each(['vhe', 'nvhe'] as const)('fails for tval-in-vncr with guest %s', async (guest) => {
    const r = await check({ ...DEFAULT_CHECK_OPTIONS, layout: 'tval-in-vncr', guest, properties: ['no-tval-in-vncr'] });
    expect(r.results[0]!.verdict).toBe('fail');
  });

  it('passes for architected', async () => {
    const r = await check({ ...DEFAULT_CHECK_OPTIONS, layout: 'architected', properties: ['no-tval-in-vncr'] });
    expect(r.verdict).toBe('pass');
    expect(r.results[0]).toMatchObject({ verdict: 'pass' });
    expect(r.results[0]!.runs - (r.results[0]!.directed ?? 0)).toBe(DEFAULT_CHECK_OPTIONS.runs);
    expect(r.results[0]!.counterexample).toBeUndefined();
  });
});
