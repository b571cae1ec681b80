/**
 * The `nvconform xcheck` commands, for src/cli/main.ts: each returns the text to print and the
 * exit status (0: everything agrees or is a known QEMU behaviour; 1: an unexplained disagreement
 * or a routing cell that differs). A missing QEMU or guest image is an NvcError (exit 2) whose
 * one line names what to run.
 *
 * Only the QEMU binary findQemu finds on PATH, or the one the user names with --qemu, is ever
 * run: nothing in a trace or a token names a program.
 */
import { InputError, NvcError } from '../../models/arch/errors.js';
import type { GuestMode, Trace } from '../../models/arch/vocabulary.js';
import { parseTraceText } from '../trace/parse.js';
import { decodeToken, isToken } from '../trace/token.js';
import { judgeTrace } from './classify.js';
import { crossCheck, DEFAULT_XCHECK_OPTIONS, type CrossCheckOptions } from './crosscheck.js';
import { unsupportedReason } from './format.js';
import { findQemu, runTracesInQemu, type QemuInfo } from './qemu.js';
import { crossCheckJson, crossCheckVerdict, figures, renderCrossCheck, renderReplay, renderRouting, replayJson, routingJson } from './report.js';
import { routingTable } from './routing.js';
import { readFileSync } from 'node:fs';

const SETUP = 'run scripts/setup-qemu.sh';

/** QEMU >= 10 and the guest image, or an NvcError (exit 2) naming what to run. */
export function requireQemu(qemu?: string): QemuInfo {
  const f = findQemu(qemu ? { qemu } : {});
  if (!f.qemu) {
    if (f.older) throw new NvcError(`xcheck: QEMU 10 not found (${f.older.path} is ${f.older.version}); ${SETUP}`, 2);
    if (qemu) throw new NvcError(`xcheck: --qemu ${qemu} is not a runnable qemu-system-aarch64`, 2);
    throw new NvcError(`xcheck: QEMU 10 not found; ${SETUP}`, 2);
  }
  if (!f.image.built) throw new NvcError(`xcheck: the guest image ${f.image.path} is not built; ${SETUP}`, 2);
  if (f.image.stale) throw new NvcError(`xcheck: the guest image ${f.image.path} is older than its sources; ${SETUP}`, 2);
  return f.qemu;
}

export interface XcheckQemuFlags {
  readonly runs?: number;
  readonly seed?: number;
  readonly maxOps?: number;
  readonly guest?: GuestMode;
  readonly ecv?: boolean;
  readonly qemu?: string;
  readonly json: boolean;
  /** Also print the routing table. */
  readonly routing?: boolean;
  /** Shrink one example of each known class too. */
  readonly shrinkKnown?: boolean;
  /** Run this one trace (replay token or trace file) instead of generating. */
  readonly replay?: string;
}

export async function xcheckQemuCommand(f: XcheckQemuFlags): Promise<{ text: string; code: number }> {
  const qemu = requireQemu(f.qemu);
  if (f.replay !== undefined) return replay(f.replay, qemu, f);
  const runs = f.runs ?? DEFAULT_XCHECK_OPTIONS.runs;
  const o: CrossCheckOptions = {
    runs, seed: f.seed ?? DEFAULT_XCHECK_OPTIONS.seed, maxOps: f.maxOps ?? DEFAULT_XCHECK_OPTIONS.maxOps,
    ...(f.guest ? { guest: f.guest } : {}), ...(f.ecv !== undefined ? { ecv: f.ecv } : {}), ...(f.shrinkKnown ? { shrinkKnown: true } : {}),
    run: { qemu: qemu.path },
  };
  const r = await crossCheck(o);
  let code = crossCheckVerdict(figures(r)) === 'pass' ? 0 : 1;
  let text = f.json ? '' : renderCrossCheck(r, qemu);
  let json: Record<string, unknown> = f.json ? crossCheckJson(r, qemu) : {};
  if (f.routing) {
    const rt = await routingTable({ qemu: qemu.path });
    if (rt.rows.some((x) => !x.agree)) code = 1;
    if (f.json) json = { ...json, routing: routingJson(rt, qemu) };
    else text += '\n' + renderRouting(rt, qemu);
  }
  return { text: f.json ? JSON.stringify(json, null, 2) + '\n' : text, code };
}

function loadTraceArg(arg: string): { trace: Trace; source: string } {
  if (isToken(arg)) return { trace: decodeToken(arg), source: 'replay token' };
  let text: string;
  try {
    text = readFileSync(arg, 'utf8');
  } catch (e) {
    throw new InputError(`xcheck: cannot read ${arg}: ${(e as Error).message}`);
  }
  return { trace: parseTraceText(text, arg), source: arg };
}

async function replay(arg: string, qemu: QemuInfo, f: XcheckQemuFlags): Promise<{ text: string; code: number }> {
  const { trace, source } = loadTraceArg(arg);
  const why = unsupportedReason(trace);
  if (why) throw new InputError(`xcheck: ${source}: QEMU cannot run this trace: ${why}`);
  const [result] = await runTracesInQemu([trace], { qemu: qemu.path, startAt: 'config' });
  const run = { trace, kept: [], transform: { longTicks: 0, longWaits: 0 }, result: result!, passes: 1, stable: true };
  const v = judgeTrace(trace, result!);
  const code = v.status === 'unexplained' ? 1 : 0;
  return { text: f.json ? JSON.stringify(replayJson(run, v), null, 2) + '\n' : renderReplay(run, v, qemu, source), code };
}

export async function xcheckRoutingCommand(f: { readonly qemu?: string; readonly json: boolean; readonly nvOnly?: boolean }): Promise<{ text: string; code: number }> {
  const qemu = requireQemu(f.qemu);
  const rt = await routingTable({ qemu: qemu.path, ...(f.nvOnly ? { nvOnly: true } : {}) });
  const code = rt.rows.every((x) => x.agree) ? 0 : 1;
  return { text: f.json ? JSON.stringify(routingJson(rt, qemu), null, 2) + '\n' : renderRouting(rt, qemu), code };
}
