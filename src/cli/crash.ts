/**
 * Internal errors: a failure of nvconform itself (never of its input or of the implementation
 * under test). It gets exit status 3, one line on stderr, and a crash report: a JSON file with the
 * stack, the command line, the versions, and the inputs needed to reproduce it (the seed, the
 * options, the trace or token being run). Written to $NVCONFORM_CRASH_DIR, else the system's
 * temporary directory.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../models/layouts/catalogue.js';
import { inFlight } from '../engine/runner.js';
import { encodeToken } from '../trace/token.js';

export const EXIT_INTERNAL = 3;
export const CRASH_DIR_ENV = 'NVCONFORM_CRASH_DIR';
export const CRASH_FORMAT = 'nvconform-crash/1';

/** What the running command was given, as far as it matters for reproducing a crash. */
const inputs: Record<string, unknown> = {};

/** Remember inputs of the running command for a crash report (the command, its options, its seed, its trace). */
export function noteInputs(x: Record<string, unknown>): void {
  Object.assign(inputs, x);
}

let argvSeen: readonly string[] = [];
export function noteArgv(argv: readonly string[]): void {
  argvSeen = [...argv];
}

/** The package's version (package.json), or 'unknown'. */
export function packageVersion(): string {
  try {
    const v = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

const json = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown): unknown => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Map ? (Object.fromEntries(v) as unknown) : v), 2);

/** Write a crash report for `e`; returns its path, or a reason it could not be written. */
export function writeCrashReport(e: unknown): { path: string } | { notWritten: string } {
  const err = e instanceof Error ? e : undefined;
  let running: Record<string, unknown> | undefined;
  try {
    const t = inFlight();
    if (t) running = { ops: t.ops.length, token: encodeToken(t) };
  } catch (x) {
    running = { unavailable: String(x) };
  }
  const report = {
    format: CRASH_FORMAT,
    time: new Date().toISOString(),
    message: err ? err.message : String(e),
    name: err?.name ?? typeof e,
    stack: err?.stack ?? null,
    argv: argvSeen,
    cwd: process.cwd(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    nvconform: packageVersion(),
    inputs,
    ...(running ? { running: { ...running, note: 'the trace being executed when it failed (ops so far, with the op being executed): nvconform run TOKEN' } } : {}),
  };
  const dir = process.env[CRASH_DIR_ENV] || tmpdir();
  const path = join(dir, `nvconform-crash-${report.time.replace(/[:.]/g, '-')}-${process.pid}.json`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, json(report) + '\n');
    return { path };
  } catch (x) {
    return { notWritten: (x as NodeJS.ErrnoException).code ?? String(x) };
  }
}

/** The one line an internal error prints. */
export function internalErrorLine(e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
  const r = writeCrashReport(e);
  const where = 'path' in r ? `crash report: ${r.path}` : `crash report not written (${r.notWritten})`;
  return `nvconform: internal error (a bug in nvconform, please report it): ${msg.replace(/[\u0000-\u001f\u007f]+/g, ' ')}; ${where}\n`;
}
