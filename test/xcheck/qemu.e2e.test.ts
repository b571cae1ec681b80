/**
 * End-to-end: traces and probe cells run in QEMU. Skipped, with the reason printed, when no
 * QEMU >= 10 is on PATH or the guest image is not built (scripts/setup-qemu.sh does both).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ReferenceModel } from '../../models/reference/reference.js';
import {
  collapseObservations, disagreement, findQemu, liveQemuProcesses, probeRouting, qemuObservations, rebuildTrace,
  runTracesInQemu, XcheckError, esrClass,
} from '../../src/xcheck/index.js';
import type { Trace } from '../../models/arch/vocabulary.js';
import { eret, exit, mrs, msr, tick, trace } from './helpers.js';

const found = findQemu();
const qemu = found.ok;
if (!qemu) console.warn(`test/xcheck/qemu.e2e.test.ts: skipping the QEMU end-to-end tests: ${found.reason}`);

/** Child processes of this process whose command is qemu-system-aarch64. */
function qemuChildren(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n').filter((l) => /qemu-system/.test(l));
  } catch {
    return [];
  }
}

afterAll(() => {
  expect(liveQemuProcesses()).toBe(0);
  expect(qemuChildren()).toEqual([]);
});

describe('findQemu', () => {
  it('reports a QEMU that is missing as a clear reason, and runTracesInQemu refuses to run', async () => {
    const f = findQemu({ qemu: '/nonexistent/qemu-system-aarch64' });
    expect(f.ok).toBe(false);
    expect(f.reason).toMatch(/not a runnable qemu-system-aarch64/);
    await expect(runTracesInQemu([trace([mrs('CNTPCT_EL0')])], { qemu: '/nonexistent/qemu-system-aarch64' })).rejects.toThrow(XcheckError);
    const g = findQemu({ image: '/nonexistent/nvx.elf' });
    expect(g.image.built).toBe(false);
    expect(g.ok).toBe(false);
  });
  it.skipIf(!qemu)('finds QEMU >= 10 and the built image', () => {
    expect(found.qemu!.major).toBeGreaterThanOrEqual(10);
    expect(found.image.built).toBe(true);
  });
});

describe.skipIf(!qemu)('traces in QEMU', () => {
  it('calibrates: an EL2 access executes 1 count after the CNTPCT_EL0 read before it; CNTPCT_EL0 reads its own count', async () => {
    const [r] = await runTracesInQemu([trace([mrs('CNTPCT_EL0'), mrs('CNTPCT_EL0')], { guest: 'nvhe' })]);
    expect(r!.header.deltaEl2).toBe(1n);
    expect(r!.header.calibrationOk).toBe(true);
    expect(r!.header.cntfrq).toBe(1_000_000_000n);
    for (const o of r!.ops) expect(o.value).toBe(o.countAtAccess);
  });

  it('at vEL1, CNTPCT_EL0 (untrapped) reads exactly countAtAccess; with CNTHCTL_EL2 = 0 it traps to vEL2', async () => {
    const [a, b] = await runTracesInQemu([
      trace([eret, mrs('CNTPCT_EL0'), mrs('CNTPCT_EL0'), exit], { init: { CNTHCTL_EL2: 0xc00n } }),
      trace([eret, mrs('CNTPCT_EL0'), mrs('CNTPCT_EL0')]),
    ]);
    expect(a!.ops[1]).toMatchObject({ elBefore: 1, elAfter: 1 });
    expect(a!.ops[1]!.value).toBe(a!.ops[1]!.countAtAccess);
    expect(a!.ops[2]!.value).toBe(a!.ops[2]!.countAtAccess);
    expect(b!.ops[1]).toMatchObject({ fault: 'trap', faultEl: 2, elBefore: 1, elAfter: 2 });
    expect(esrClass(b!.ops[1]!.esr!)).toBe(0x18);
    expect(b!.ops[2]).toMatchObject({ elBefore: 2 });
    expect(b!.ops[2]!.value).toBe(b!.ops[2]!.countAtAccess);
  });

  it('a CVAL write then a CVAL read returns the value, for every CVAL name at vEL2', async () => {
    const rs = await runTracesInQemu([
      trace([msr('CNTV_CVAL_EL02', 0x123456789n), mrs('CNTV_CVAL_EL02'), msr('CNTP_CVAL_EL02', 0xfedcba9876543210n), mrs('CNTP_CVAL_EL02')]),
      trace([msr('CNTV_CVAL_EL0', 0x42n), mrs('CNTV_CVAL_EL0'), msr('CNTP_CVAL_EL0', 0x43n), mrs('CNTP_CVAL_EL0')], { guest: 'nvhe' }),
      trace([msr('CNTHV_CVAL_EL2', 0x44n), mrs('CNTHV_CVAL_EL2'), msr('CNTHP_CVAL_EL2', 0x45n), mrs('CNTHP_CVAL_EL2')], { guest: 'nvhe' }),
    ]);
    expect(rs.map((r) => [r.ops[1]!.value, r.ops[3]!.value])).toEqual([[0x123456789n, 0xfedcba9876543210n], [0x42n, 0x43n], [0x44n, 0x45n]]);
  });

  it('TVAL write 0x100 then CVAL read = count at the write + 0x100 (and - CNTVOFF_EL2 for the virtual timer)', async () => {
    const off = 0x1000n;
    const [a, b] = await runTracesInQemu([
      trace([msr('CNTHP_TVAL_EL2', 0x100n), mrs('CNTHP_CVAL_EL2'), msr('CNTP_TVAL_EL0', 0xffffff00n), mrs('CNTP_CVAL_EL0')]),
      trace([msr('CNTV_TVAL_EL0', 0x100n), mrs('CNTV_CVAL_EL0')], { guest: 'nvhe', init: { CNTVOFF_EL2: off } }),
    ]);
    expect(a!.ops[1]!.value).toBe(a!.ops[0]!.countAtAccess + 0x100n);
    expect(a!.ops[3]!.value).toBe(a!.ops[2]!.countAtAccess - 0x100n);
    expect(b!.ops[1]!.value).toBe(BigInt.asUintN(64, b!.ops[0]!.countAtAccess - off + 0x100n));
  });

  it('CNTV_CTL_EL02 is UNDEFINED with nvhe (EC 0 at EL2), and an EL2 name is UNDEFINED at vEL1 (EC 0 at EL1)', async () => {
    const [a] = await runTracesInQemu([trace([mrs('CNTV_CTL_EL02'), eret, mrs('CNTHP_CTL_EL2'), exit], { guest: 'nvhe' })]);
    expect(a!.ops[0]).toMatchObject({ fault: 'undefined', faultEl: 2, elAfter: 2 });
    expect(esrClass(a!.ops[0]!.esr!)).toBe(0);
    expect(a!.ops[2]).toMatchObject({ fault: 'undefined', faultEl: 1, elBefore: 1, elAfter: 1 });
  });

  it('samples each line at its own count: a CVAL a few counts ahead shows the line rise at the right sample', async () => {
    // Learn the count of the CTL write, then put CVAL 3 counts after the hvtimer sample.
    const mk = (cval: bigint): Trace => trace([msr('CNTHP_CVAL_EL2', cval), msr('CNTHP_CTL_EL2', 1n), mrs('CNTHP_CTL_EL2')], { guest: 'nvhe' });
    const [p] = await runTracesInQemu([mk(0n)]);
    const cval = p!.ops[1]!.lines[1]!.count + 3n;
    const [r] = await runTracesInQemu([mk(cval)]);
    expect(r!.ops[1]!.lines.map((l) => l.count)).toEqual(p!.ops[1]!.lines.map((l) => l.count)); // deterministic
    expect(r!.ops[1]!.lines[0]!.ctl).toBe(1n); // hptimer sampled before CVAL: not met
    expect(r!.ops[2]!.value).toBe(5n);
    expect(r!.ops[2]!.lines[0]!.ctl).toBe(5n);
  });

  it('the same batch gives the same counts twice (icount is deterministic)', async () => {
    const ts = [trace([tick(1000n), mrs('CNTPCT_EL0'), eret, mrs('CNTVCT_EL0'), exit]), trace([msr('CNTV_TVAL_EL02', 5n), tick(3n), mrs('CNTV_CTL_EL02')])];
    const a = await runTracesInQemu(ts);
    const b = await runTracesInQemu(ts);
    expect(a.map((r) => r.ops.map((o) => [o.countAtAccess, o.countAfter, o.value]))).toEqual(b.map((r) => r.ops.map((o) => [o.countAtAccess, o.countAfter, o.value])));
    expect(a[0]!.ops[0]!.countAfter! - a[0]!.ops[0]!.countAtAccess).toBeGreaterThanOrEqual(999n);
    expect(a[0]!.ops[0]!.countAfter! - a[0]!.ops[0]!.countAtAccess).toBeLessThanOrEqual(1001n);
  });

  it('the reference agrees with QEMU on a rebuilt trace with ticks, a trap and samples', async () => {
    const t = trace([
      msr('CNTHCTL_EL2', 0x3n), msr('CNTP_TVAL_EL0', 0x80n), msr('CNTP_CTL_EL0', 1n), tick(0x100n), mrs('CNTP_CTL_EL0'),
      eret, mrs('CNTP_TVAL_EL0'), mrs('CNTVCT_EL0'), mrs('CNTHP_CTL_EL2'), exit, msr('CNTHCTL_EL2', 0n), eret, mrs('CNTP_CTL_EL0'),
    ], { guest: 'nvhe', init: { CNTVOFF_EL2: 0x10n } });
    const [r] = await runTracesInQemu([t]);
    const rb = rebuildTrace(t, r!);
    const ref = new ReferenceModel(rb.trace.config);
    const exp = collapseObservations(rb, rb.trace.ops.map((op) => ref.step(op)));
    const obs = qemuObservations(r!);
    exp.forEach((e, i) => expect(disagreement(e, obs[i]!), `op ${i}`).toEqual([]));
    expect(obs[4]!.value).toBe(5n);
    expect(obs[12]!.fault).toBe('trap');
  });

  it('wfi: woken by its limit after exactly the limit, by a timer line at the count CVAL is met, at once if a line is asserted', async () => {
    const [r] = await runTracesInQemu([trace([
      { op: 'wfi', limit: 1000n }, { op: 'wfi', limit: 0n },
      msr('CNTHP_TVAL_EL2', 500n), msr('CNTHP_CTL_EL2', 1n), { op: 'wfi', limit: 100000n }, mrs('CNTHP_CVAL_EL2'), { op: 'wfi', limit: 100000n },
    ])]);
    const o = r!.ops;
    expect(o[0]).toMatchObject({ elapsed: 1000n, wake: 'limit' });
    expect(o[1]).toMatchObject({ elapsed: 0n, wake: 'limit' });
    expect(o[4]).toMatchObject({ wake: 'line' });
    expect(o[4]!.countAtAccess + o[4]!.elapsed!).toBe(o[5]!.value);
    expect(o[4]!.countAtAccess + o[4]!.elapsed!).toBe(o[2]!.countAtAccess + 500n);
    expect(o[6]).toMatchObject({ elapsed: 0n, wake: 'line' });
  });

  it('a long tick is a WFI until the limit timer: 2^40 counts pass at once, exactly reported', async () => {
    const t0 = performance.now();
    const [r] = await runTracesInQemu([trace([tick(1n << 40n), mrs('CNTPCT_EL0'), tick(5000n), mrs('CNTPCT_EL0')])]);
    expect(performance.now() - t0).toBeLessThan(5000);
    const [a, b, c, d] = r!.ops;
    expect(a).toMatchObject({ waited: true });
    expect(a!.countAfter! - a!.countAtAccess).toBe((1n << 40n) + r!.header.warpC0);
    expect(b!.value).toBe(b!.countAtAccess);
    expect(b!.value! > 1n << 40n).toBe(true);
    expect(c!.countAfter! - c!.countAtAccess).toBe(5000n + r!.header.warpC0);
    expect(d!.value).toBe(d!.countAtAccess);
  });

  it('the reference agrees with QEMU on a rebuilt trace with wfi and long ticks', async () => {
    const t = trace([
      msr('CNTV_CVAL_EL02', 0n), { op: 'wfi', limit: 0x10000n }, msr('CNTV_CTL_EL02', 1n), { op: 'wfi', limit: 0x10000n },
      msr('CNTV_TVAL_EL02', 0x300n), eret, { op: 'wfi', limit: 0x10000n }, mrs('CNTV_CTL_EL0'), tick(0x123456n), { op: 'preempt', by: 1n << 30n }, exit,
    ], { init: { CNTVOFF_EL2: 0x1000n } });
    const [r] = await runTracesInQemu([t]);
    const rb = rebuildTrace(t, r!);
    const ref = new ReferenceModel(rb.trace.config);
    const exp = collapseObservations(rb, rb.trace.ops.map((op) => ref.step(op)));
    const obs = qemuObservations(r!);
    exp.forEach((e, i) => expect(disagreement(e, obs[i]!), `op ${i}`).toEqual([]));
    expect(obs.map((o) => o.elapsed)).toEqual([undefined, 0x10000n, undefined, 0n, undefined, undefined, obs[6]!.elapsed, undefined, undefined, undefined, undefined]);
    expect(obs[6]!.elapsed! > 0n && obs[6]!.elapsed! < 0x300n).toBe(true);
  });

  it('runs hundreds of traces per process (batches and parallel processes keep the order)', async () => {
    const ts = Array.from({ length: 300 }, (_, i) => trace([msr('CNTHV_CVAL_EL2', BigInt(i)), mrs('CNTHV_CVAL_EL2')]));
    const rs = await runTracesInQemu(ts, { batchSize: 70, parallel: 2 });
    expect(rs.map((r) => r.ops[1]!.value)).toEqual(ts.map((_, i) => BigInt(i)));
  });

  it('kills a QEMU that runs past the timeout and leaves no process behind', async () => {
    const ts = Array.from({ length: 50 }, () => trace([tick(4000n), tick(4000n)]));
    await expect(runTracesInQemu(ts, { timeoutMs: 5 })).rejects.toThrow(/did not finish the batch in 5 ms/);
    await new Promise((r) => setTimeout(r, 50));
    expect(liveQemuProcesses()).toBe(0);
    expect(qemuChildren()).toEqual([]);
  });
});

describe.skipIf(!qemu)('NV2 routing in QEMU', () => {
  it('CNTV_CVAL_EL02 goes to VNCR offset 0x168 with NV1=0, and traps with NV1=1; CNTV_CVAL_EL0 goes to 0x168 with NV1=1', async () => {
    const open = 0xc00n;
    const rs = await probeRouting([
      { reg: 'CNTV_CVAL_EL02', write: true, nv1: 0, cnthctl: open, ecvEn: true },
      { reg: 'CNTV_CVAL_EL02', write: false, nv1: 0, cnthctl: open, ecvEn: true },
      { reg: 'CNTV_CVAL_EL02', write: false, nv1: 1, cnthctl: open, ecvEn: true },
      { reg: 'CNTV_CVAL_EL0', write: true, nv1: 1, cnthctl: open, ecvEn: true, value: 0x1234n },
      { reg: 'CNTV_TVAL_EL02', write: false, nv1: 0, cnthctl: open, ecvEn: true },
      { reg: 'CNTHCTL_EL2', write: true, nv1: 0, cnthctl: open, ecvEn: true },
      { reg: 'CNTV_CTL_EL0', write: false, nv1: 0, cnthctl: open, ecvEn: true },
      { reg: 'CNTVOFF_EL2', write: true, nv1: 1, cnthctl: open, ecvEn: false, hostE2h: false },
      { reg: 'CNTV_CVAL_EL02', write: true, nv1: 0, cnthctl: open | (1n << 16n), ecvEn: true },
    ]);
    expect(rs.map((r) => r.outcome.kind)).toEqual(['vncr', 'vncr', 'trap', 'vncr', 'trap', 'trap', 'hw', 'vncr', 'trap']);
    expect(rs[0]!.outcome).toEqual({ kind: 'vncr', offset: 0x168 });
    expect(rs[0]!.changed).toMatchObject({ offset: 0x168, n: 1 });
    expect(rs[1]!.outcome).toEqual({ kind: 'vncr', offset: 0x168 });
    expect(rs[3]!.changed).toEqual({ offset: 0x168, value: 0x1234n, n: 1 });
    expect(rs[7]!.outcome).toEqual({ kind: 'vncr', offset: 0x60 });
    for (const i of [2, 4, 5, 8]) expect(rs[i]!.outcome).toMatchObject({ ec: 0x18, el: 2 });
  });
});

describe.skipIf(!qemu)('start counts', () => {
  it("startAt 'spaced' gives a trace the same counts whatever runs before it; 'config' starts near config.count", async () => {
    const a = trace([mrs('CNTPCT_EL0'), { op: 'wfi', limit: 300n }, mrs('CNTPCT_EL0')]);
    const b = trace([tick(5000n), { op: 'wfi', limit: 7000n }]);
    const [x1, y1] = await runTracesInQemu([a, a], { startAt: 'spaced' });
    const [, y2] = await runTracesInQemu([b, a], { startAt: 'spaced' });
    expect(y1!.ops.map((o) => o.countAtAccess)).toEqual(y2!.ops.map((o) => o.countAtAccess));
    expect(x1!.startCount > 1n << 46n && x1!.startCount < (1n << 46n) + 1000n).toBe(true);
    const [z] = await runTracesInQemu([trace([mrs('CNTPCT_EL0')], { count: 0x10000000n })], { startAt: 'config' });
    expect(z!.startCount > 0x10000000n && z!.startCount < 0x10000000n + 1000n).toBe(true);
    const [, w] = await runTracesInQemu([trace([mrs('CNTPCT_EL0')], { count: 0x10000000n }), trace([mrs('CNTPCT_EL0')], { count: 0x1000n })], { startAt: 'config' });
    expect(w!.startMissed).toBe(true);
  });
});
