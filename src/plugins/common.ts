/**
 * Shared by module plug-ins and processes: checking an observation in its JSON form, and
 * quoting what an implementation printed or returned in a one-line message.
 */
import { InputError } from '../../models/arch/errors.js';
import type { Declaration } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import type { Observation, Vocabulary } from '../../models/arch/vocabulary.js';
import { parseObservation } from '../trace/parse.js';

/** Default per-op (and per-reset) answer time of an external implementation, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Environment variable that overrides the default answer time. */
export const TIMEOUT_ENV = 'NVCONFORM_EXEC_TIMEOUT_MS';

/** What the engine tells every external implementation (the CLI's `--layout` and `--host-ecv-traps`). */
export interface ExternalBaseOptions {
  /** The VNCR layout it is told it has (the implementation sees where it came from: its `source`). */
  readonly layout: Layout;
  readonly hostEcvTraps: boolean;
  /**
   * The trace vocabulary it understands (models/arch/vocabulary.ts): the checker asks it nothing
   * newer. Default 1, the first version's, unless a module plug-in's object says `vocabulary: 2`.
   */
  readonly vocabulary?: Vocabulary;
}

/**
 * Options of an external implementation on top of ExternalBaseOptions. The engine's registry
 * passes only the base options; callers of loadExternal() may add these.
 */
export interface ExternalOptions extends ExternalBaseOptions {
  /**
   * How long one reset or op may take before the implementation is declared hung, in ms.
   * Default: $NVCONFORM_EXEC_TIMEOUT_MS, else 5000. Processes are killed, and a module plug-in's
   * worker thread terminated, when it expires.
   */
  readonly timeoutMs?: number;
  /** The built-in implementation names, for the message about a path that does not exist. */
  readonly builtins?: readonly string[];
}

/** The answer time to use: the option, else the environment, else the default. InputError if malformed. */
export function resolveTimeoutMs(opts: ExternalOptions): number {
  if (opts.timeoutMs !== undefined) {
    if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
      throw new InputError(`timeoutMs: expected a positive number of milliseconds, got ${String(opts.timeoutMs)}`);
    }
    return opts.timeoutMs;
  }
  const env = process.env[TIMEOUT_ENV];
  if (env !== undefined && env !== '') {
    if (!/^[0-9]+$/.test(env.trim()) || Number(env) <= 0) {
      throw new InputError(`${TIMEOUT_ENV}: expected a positive whole number of milliseconds, got '${env}'`);
    }
    return Number(env);
  }
  return DEFAULT_TIMEOUT_MS;
}

/** Shorten `s` to at most `max` characters, keeping its start. */
export function clip(s: string, max = 80): string {
  return s.length <= max ? s : s.slice(0, max - 3) + '...';
}

/** Shorten `s` to at most `max` characters, keeping its end (the freshest output). */
export function clipTail(s: string, max = 200): string {
  return s.length <= max ? s : '...' + s.slice(s.length - (max - 3));
}

/** A value an implementation returned, as short one-line text (JSON where possible, bigints shown as `5n`). */
export function showValue(v: unknown, max = 80): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch {
    s = undefined;
  }
  return clip(oneLine(s ?? String(v)), max);
}

/** The first line of an error's message (or of anything thrown). */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'string' ? e : showValue(e);
  return oneLine(msg.split('\n')[0] ?? '').trim() || (e instanceof Error ? e.name : 'no message');
}

/** Collapse control characters so that text fits on one line. */
export function oneLine(s: string): string {
   
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/**
 * Check one observation an implementation produced, in the trace format's JSON form, and
 * convert it. Returns the observation or a one-line description of what is wrong with it.
 */
export function checkObservation(o: unknown): { ok: Observation } | { problem: string } {
  if (typeof o === 'object' && o !== null && !Array.isArray(o) && 'unknown' in o) {
    return { problem: `'unknown' is only for expectations; an implementation reports the value it produced` };
  }
  try {
    const e = parseObservation(o, '@');
    const obs: Observation = { irq: e.irq };
    if (e.value !== undefined) obs.value = e.value;
    if (e.fault !== undefined) obs.fault = e.fault;
    if (e.elapsed !== undefined) obs.elapsed = e.elapsed;
    return { ok: obs };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return { problem: err.message.replace(/^@\./, '').replace(/^@: /, '').replace(/^@/, '') };
  }
}

/** What an external implementation declares: what it was told on the command line, and whether it reports detail. */
export function externalDeclaration(kind: 'module' | 'process', opts: ExternalBaseOptions, detail: boolean, declared?: Vocabulary): Declaration {
  return { kind, sync: false, layout: opts.layout, page: true, host: { ecvTraps: opts.hostEcvTraps }, detail, vocabulary: opts.vocabulary ?? declared ?? 1 };
}
