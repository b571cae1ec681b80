/**
 * Running the guest image in qemu-system-aarch64: finding QEMU, one bounded QEMU process per
 * batch, several in parallel. Runs only the QEMU binary that findQemu found on PATH or that the
 * caller named, and never leaves a process behind (killed on timeout, on error, and when Node
 * exits).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Trace } from '../../models/arch/vocabulary.js';
import {
  BATCH_ADDR, DEFAULT_MAX_TICK, XcheckError, decodeProbe, decodeResults, encodeBatch, encodeProbe,
  type ProbeCellInput, type QemuOpResult, type RawProbeResult, type ResultHeader,
} from './format.js';

export interface QemuInfo {
  readonly path: string;
  /** First line of `--version`. */
  readonly version: string;
  readonly major: number;
  readonly minor: number;
}

export interface FindQemuResult {
  /** A qemu-system-aarch64 >= 10, if one was found. */
  readonly qemu?: QemuInfo;
  /** Without one: the first older qemu-system-aarch64 found. */
  readonly older?: QemuInfo;
  /** The guest image path, whether it is built, and whether a source beside it is newer (stale). */
  readonly image: { readonly path: string; readonly built: boolean; readonly stale: boolean };
  /** Ready to run: QEMU >= 10 found and the image built. */
  readonly ok: boolean;
  /** What is missing and how to get it, when !ok. */
  readonly reason?: string;
}

/** The repository root (the folder with nvconform's package.json), from this module's location. */
function projectRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'nvconform') return d;
      } catch { /* keep looking */ }
    }
    d = dirname(d);
  }
  return process.cwd();
}

/** Default guest image: xcheck/guest/build/nvx.elf in the repository (built by scripts/setup-qemu.sh). */
export const defaultImagePath = (): string => join(projectRoot(), 'xcheck', 'guest', 'build', 'nvx.elf');

function qemuVersion(path: string): QemuInfo | undefined {
  try {
    const out = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n')[0] ?? '';
    const m = /version (\d+)\.(\d+)/.exec(line);
    if (!m) return undefined;
    return { path, version: line.trim(), major: Number(m[1]), minor: Number(m[2]) };
  } catch {
    return undefined;
  }
}

/** An image in <guest>/build/ is stale when a source in <guest>/ (*.c, *.S, *.h, Makefile, link.ld) is newer. */
function staleImage(imagePath: string): boolean {
  const guestDir = dirname(dirname(imagePath));
  let sources: string[];
  try {
    sources = readdirSync(guestDir).filter((f) => /\.(c|S|h|ld)$|^Makefile$/.test(f));
  } catch {
    return false;
  }
  const built = statSync(imagePath).mtimeMs;
  return sources.some((f) => statSync(join(guestDir, f)).mtimeMs > built);
}

export interface FindQemuOptions {
  /** A qemu-system-aarch64 to use instead of searching PATH. */
  readonly qemu?: string;
  /** The guest image; default defaultImagePath(). */
  readonly image?: string;
}

/** Locate qemu-system-aarch64 >= 10 (the named one, else the first on PATH) and the guest image. */
export function findQemu(options: FindQemuOptions = {}): FindQemuResult {
  const imagePath = resolve(options.image ?? defaultImagePath());
  const built = existsSync(imagePath) && statSync(imagePath).size > 0;
  const image = { path: imagePath, built, stale: built && staleImage(imagePath) };
  const candidates = options.qemu
    ? [options.qemu]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'qemu-system-aarch64')).filter((p) => existsSync(p));
  let found: QemuInfo | undefined;
  let older: QemuInfo | undefined;
  for (const c of candidates) {
    const info = qemuVersion(c);
    if (!info) continue;
    if (info.major >= 10) {
      found = info;
      break;
    }
    older ??= info;
  }
  let reason: string | undefined;
  if (!found) {
    reason = older
      ? `${older.path} is ${older.version}: QEMU 10 or later is needed for FEAT_NV2/ECV (run scripts/setup-qemu.sh as root)`
      : options.qemu
        ? `${options.qemu} is not a runnable qemu-system-aarch64`
        : 'no qemu-system-aarch64 on PATH (run scripts/setup-qemu.sh as root: QEMU 10 from bookworm-backports)';
  } else if (!image.built) reason = `the guest image ${imagePath} is not built (make -C xcheck/guest, or scripts/setup-qemu.sh)`;
  else if (image.stale) reason = `the guest image ${imagePath} is older than its sources (make -C xcheck/guest)`;
  return { ...(found ? { qemu: found } : {}), ...(!found && older ? { older } : {}), image, ok: !reason, ...(reason ? { reason } : {}) };
}

// ---- processes ----

const LIVE = new Set<ChildProcess>();
let exitHookInstalled = false;
const killAll = (): void => {
  for (const c of LIVE) c.kill('SIGKILL');
};
/**
 * Kill every live QEMU when Node exits, and on SIGINT/SIGTERM when nobody else handles them (then
 * the signal is re-raised so that Node still terminates as it would have). A QEMU orphaned by a
 * SIGKILL of Node finishes its batch by itself: every op is bounded (waits jump the clock).
 */
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killAll);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      if (process.listenerCount(sig) > 0) continue;
      const onSignal = (): void => {
        killAll();
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      };
      process.on(sig, onSignal);
    }
  }
  LIVE.add(child);
  child.once('exit', () => LIVE.delete(child));
}

/** QEMU processes of this module still running (for tests). */
export const liveQemuProcesses = (): number => LIVE.size;

export interface QemuRunOptions {
  /** qemu-system-aarch64 to run; default: findQemu()'s. */
  readonly qemu?: string;
  /** Guest image; default defaultImagePath(). */
  readonly image?: string;
  /** Kill a QEMU process after this many ms. Default 60 000. */
  readonly timeoutMs?: number;
  /** Traces (or probe cells) per QEMU process. Default 400 traces, 4000 cells. */
  readonly batchSize?: number;
  /** QEMU processes at a time. Default: the number of CPUs. */
  readonly parallel?: number;
  /** Longest tick/preempt accepted (counts). Default 2^20. */
  readonly maxTick?: bigint;
  /** Boot with secure=on and the EL3 shim (needed for SCR_EL3.ECVEn, wfi and long ticks). Default true. */
  readonly el3?: boolean;
  /**
   * When each trace starts (the count op 0 runs a fixed ~100 counts after):
   * - 'asap' (default): right after the previous trace of the batch; a trace's counts then depend
   *   on every trace before it in its batch;
   * - 'spaced': at (its index in `traces` + 1) * 2^46, so that its counts depend on itself and its
   *   index only, whatever batch it runs in (at most 65 535 traces per call);
   * - 'config': at config.count when that is ahead of the count (and below 2^62), else asap;
   * - a function of the trace and its index in `traces`, giving the count (0n: asap). Within one
   *   batch the counts must increase, or the later trace starts asap (`startMissed`).
   */
  readonly startAt?: 'asap' | 'spaced' | 'config' | ((trace: Trace, index: number) => bigint);
  /** Also read the GIC's pending bits after every op (QemuOpResult.gic). Default true. */
  readonly gic?: boolean;
}

export const SPACING = 1n << 46n;

function startAtFn(o: QemuRunOptions, n: number): ((t: Trace, i: number) => bigint) | undefined {
  const s = o.startAt ?? 'asap';
  if (typeof s === 'function') return s;
  switch (s) {
    case 'asap': return undefined;
    case 'spaced':
      if (n > 65535) throw new XcheckError(`startAt 'spaced' takes at most 65 535 traces per call, got ${n}`);
      return (_t, i) => BigInt(i + 1) * SPACING;
    case 'config': return (t) => (t.config.count < 1n << 62n ? t.config.count : 0n);
  }
}

function resolveRun(o: QemuRunOptions): { qemu: string; image: string } {
  const f = findQemu({ ...(o.qemu ? { qemu: o.qemu } : {}), ...(o.image ? { image: o.image } : {}) });
  if (!f.ok || !f.qemu) throw new XcheckError(`cannot run the QEMU cross-check: ${f.reason}`);
  return { qemu: f.qemu.path, image: f.image.path };
}

export function qemuArgs(image: string, batchFile: string, el3 = true): string[] {
  return [
    '-M', `virt,virtualization=on,gic-version=2${el3 ? ',secure=on' : ''}`, '-cpu', 'max', '-m', '256M',
    '-nodefaults', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-semihosting',
    '-icount', 'shift=0,sleep=off', '-kernel', image,
    '-device', `loader,file=${batchFile},addr=0x${BATCH_ADDR.toString(16)},force-raw=on`,
  ];
}

/** Run one batch in one QEMU process; resolves with the result file's bytes. */
export async function runBatchBytes(
  build: (resultPath: string) => Uint8Array,
  run: { qemu: string; image: string; timeoutMs: number; el3: boolean },
): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'nvx-'));
  const batchFile = join(dir, 'batch.bin');
  const resultFile = join(dir, 'result.bin');
  try {
    writeFileSync(batchFile, build(resultFile));
    const output = await new Promise<string>((res, rej) => {
      const child = spawn(run.qemu, qemuArgs(run.image, batchFile, run.el3), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      track(child);
      let out = '';
      child.stdout.on('data', (d: Buffer) => { if (out.length < 1 << 16) out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { if (out.length < 1 << 16) out += d.toString(); });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        rej(new XcheckError(`QEMU did not finish the batch in ${run.timeoutMs} ms (killed); output: ${out.trim().slice(0, 500)}`));
      }, run.timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        rej(new XcheckError(`cannot start ${run.qemu}: ${e.message}`));
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        if (code === 0) res(out);
        else rej(new XcheckError(`QEMU exited with ${sig ?? `code ${code}`}: ${out.trim().slice(0, 500)}`));
      });
    });
    if (!existsSync(resultFile)) throw new XcheckError(`QEMU wrote no result file; output: ${output.trim().slice(0, 500)}`);
    return new Uint8Array(readFileSync(resultFile));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run jobs with at most n at a time, keeping the order of results. */
async function pool<T>(jobs: readonly (() => Promise<T>)[], n: number): Promise<T[]> {
  const out = new Array<T>(jobs.length);
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && failed === undefined) {
      const i = next++;
      try {
        out[i] = await jobs[i]!();
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, jobs.length)) }, worker));
  if (failed !== undefined) throw failed instanceof Error ? failed : new Error(typeof failed === 'string' ? failed : 'a QEMU job failed');
  return out;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export interface QemuTraceResult {
  /** The count when op 0 began (its access count; for a tick, when its burn began). */
  readonly startCount: bigint;
  /** The count after the init writes, before op 0. */
  readonly count0: bigint;
  readonly initFault?: { readonly index: number; readonly faultEl: number; readonly esr: bigint };
  /** The requested start (options.startAt) had already passed. */
  readonly startMissed?: boolean;
  readonly ops: readonly QemuOpResult[];
  /** Calibration and IDs of the QEMU process that ran it. */
  readonly header: ResultHeader;
}

/**
 * Run every trace in QEMU, in batches of options.batchSize traces per process. Traces the guest
 * cannot run (wfi, a tick longer than maxTick, see unsupportedReason) make it throw an
 * XcheckError naming the trace and op before any QEMU starts.
 */
export async function runTracesInQemu(traces: readonly Trace[], options: QemuRunOptions = {}): Promise<QemuTraceResult[]> {
  const run = resolveRun(options);
  const maxTick = options.maxTick ?? DEFAULT_MAX_TICK;
  const global = startAtFn(options, traces.length);
  const size = options.batchSize ?? 400;
  const batches = chunks(traces, size);
  // Validate everything first (encodeBatch throws), naming the global trace index.
  // encodeBatch numbers traces within a batch; startAt is given the index in `traces`.
  const startFor = (bi: number): ((t: Trace, i: number) => bigint) | undefined => (global ? (t, i) => global(t, bi * size + i) : undefined);
  batches.forEach((b, bi) => {
    const startAt = startFor(bi);
    try {
      encodeBatch(b, { resultPath: '/x', maxTick, gic: options.gic ?? true, ...(startAt ? { startAt } : {}) });
    } catch (e) {
      if (e instanceof XcheckError) throw new XcheckError(e.message.replace(/^traces\[(\d+)\]/, (_m, i: string) => `traces[${bi * size + Number(i)}]`));
      throw e;
    }
  });
  const jobs = batches.map((b, bi) => async (): Promise<QemuTraceResult[]> => {
    const startAt = startFor(bi);
    const bytes = await runBatchBytes((resultPath) => encodeBatch(b, { resultPath, maxTick, gic: options.gic ?? true, ...(startAt ? { startAt } : {}) }), {
      ...run, timeoutMs: options.timeoutMs ?? 60_000, el3: options.el3 ?? true,
    });
    const d = decodeResults(bytes, b);
    return d.traces.map((t) => ({
      startCount: t.ops[0]?.countAtAccess ?? t.count0, count0: t.count0,
      ...(t.initFault ? { initFault: t.initFault } : {}), ...(t.startMissed ? { startMissed: true } : {}), ops: t.ops, header: d.header,
    }));
  });
  return (await pool(jobs, options.parallel ?? Math.max(1, cpus().length))).flat();
}

export interface ProbeResult extends RawProbeResult {
  readonly cell: ProbeCellInput;
}

/** Run routing-probe cells in QEMU (batches of options.batchSize, default 4000 cells). */
export async function probeRouting(cells: readonly ProbeCellInput[], options: QemuRunOptions = {}): Promise<ProbeResult[]> {
  const run = resolveRun(options);
  const batches = chunks(cells, options.batchSize ?? 4000);
  const jobs = batches.map((b) => async (): Promise<ProbeResult[]> => {
    const bytes = await runBatchBytes((resultPath) => encodeProbe(b, { resultPath }), {
      ...run, timeoutMs: options.timeoutMs ?? 60_000, el3: options.el3 ?? true,
    });
    return decodeProbe(bytes, b).cells.map((r, i) => ({ ...r, cell: b[i]! }));
  });
  return (await pool(jobs, options.parallel ?? Math.max(1, cpus().length))).flat();
}
