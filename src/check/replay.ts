/**
 * Replaying one fixed trace: each property judged on exactly that trace (no generation, no
 * shrinking), with a token for each failure, and the implementation's answers compared with the
 * trace's own observations if it has any. What `nvconform replay` and the library's `replay`
 * run. Long traces are replayed keeping only the last REPLAY_WINDOW ops of each run and get no
 * token.
 */
import { ImplementationError, InputError } from '../../models/arch/errors.js';
import { HOST_FEATURE_NAMES, type HostFeature, type Implementation } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import { catalogueNames } from '../../models/layouts/catalogue.js';
import { LAYOUT_FORMAT, parseLayoutText } from '../../models/layouts/file.js';
import { loadLayout } from '../../models/layouts/load.js';
import { isHostProfile } from '../../models/nv2/host/policy.js';
import { oneLine } from '../plugins/common.js';
import type { Expectation, Observation, Trace } from '../../models/arch/vocabulary.js';
import { propertyByName, type PropertyName } from '../../properties/index.js';
import { createImplementation, type HostOptions, type Registry } from '../engine/registry.js';
import { Runner, runOps, validateTrace } from '../engine/runner.js';
import { agrees } from '../trace/compare.js';
import { encodeToken } from '../trace/token.js';
import { DEFAULT_CHECK_OPTIONS, replayInfo, type CheckResult, type PropertyResult } from './check.js';

/**
 * A layout carried by a replay token: a catalogue name, or the layout itself as data (name and
 * slots), checked like a layout file. A token never names a file: it is data from a CI log or a
 * bug report, and nothing in it is read from, or run on, this machine.
 */
export function layoutFromToken(x: unknown): Layout | undefined {
  if (x === undefined) return undefined;
  if (typeof x === 'string') {
    if (!catalogueNames().includes(x)) {
      throw new InputError(`replay token: layout ${JSON.stringify(oneLine(x).slice(0, 60))} is not a catalogue layout (${catalogueNames().join(', ')}); a token names a catalogue layout or carries its slots, never a file`);
    }
    return loadLayout(x);
  }
  const o = x as { name?: unknown; slots?: unknown };
  if (typeof o?.name !== 'string' || !Array.isArray(o.slots)) throw new InputError('replay token: corrupt layout');
  const slots: { reg: unknown; offset: unknown }[] = [];
  for (const s of o.slots) {
    if (!Array.isArray(s) || s.length !== 2 || typeof s[0] !== 'string' || typeof s[1] !== 'number') throw new InputError('replay token: corrupt layout slot');
    slots.push({ reg: s[0], offset: s[1] });
  }
  // The same checks as a layout file's (register names, offsets inside the page, no shared slot).
  const doc = JSON.stringify({ format: LAYOUT_FORMAT, name: o.name, allowArchitectedOffsets: true, slots });
  const parsed = parseLayoutText(doc, 'replay token');
  return { ...parsed, description: '(from a replay token)', source: 'replay token' };
}

/** A word single-quoted for a POSIX shell, control characters shown as escapes so that the message stays one line. */
export function shellQuote(s: string): string {
  const visible = s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `'${visible.replace(/'/g, `'\\''`)}'`;
}

/**
 * The implementation a replay runs: the one named on the command line; else the token's, only if
 * it is a built-in name; else nv2. A token that names anything else (a process, a module path) is
 * refused with the command that would run it: a token is data, never a command.
 */
export function replayImplementation(flag: string | undefined, fromToken: unknown, registry: Registry): string {
  if (flag !== undefined) return flag;
  if (fromToken === undefined) return DEFAULT_CHECK_OPTIONS.impl;
  if (typeof fromToken !== 'string') throw new InputError('replay token: corrupt (impl is not a string)');
  if (registry.has(fromToken)) return fromToken;
  const shown = shellQuote(fromToken);
  throw new InputError(`replay: this token was made with the implementation ${shown}; to run it, name it yourself: nvconform replay TOKEN --impl ${shown}`);
}

/** The host a token names (profile, CPU features, counter offset), every field checked. */
export function hostFromToken(x: unknown): HostOptions | undefined {
  if (x === undefined) return undefined;
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new InputError('replay token: corrupt host');
  const { profile, cpu, counterOffset } = x as { profile?: unknown; cpu?: unknown; counterOffset?: unknown };
  if (profile !== undefined && (typeof profile !== 'string' || !isHostProfile(profile))) throw new InputError('replay token: corrupt host profile');
  const features: HostFeature[] | undefined = cpu === undefined ? undefined : [];
  if (cpu !== undefined) {
    if (!Array.isArray(cpu)) throw new InputError('replay token: corrupt host CPU');
    for (const f of cpu as unknown[]) {
      if (typeof f !== 'string' || !HOST_FEATURE_NAMES.includes(f as HostFeature)) throw new InputError('replay token: corrupt host CPU');
      features!.push(f as HostFeature);
    }
  }
  if (counterOffset !== undefined && (typeof counterOffset !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(counterOffset))) throw new InputError('replay token: corrupt counter offset');
  return {
    ...(profile !== undefined ? { profile } : {}), ...(features ? { cpu: features } : {}),
    ...(counterOffset !== undefined ? { counterOffset: BigInt(counterOffset) } : {}),
  };
}

/** Traces longer than this are replayed keeping only the last REPLAY_WINDOW ops of each run for the report, and get no token. */
export const REPLAY_FULL_OPS = 10_000;
export const REPLAY_WINDOW = 40;

/** The first op where an implementation's observations differ from a trace's own, if any. */
export interface ObservationsCheck {
  /** Ops the implementation answered. */
  readonly ops: number;
  readonly mismatch?: { readonly index: number; readonly want: Observation | Expectation; readonly got: Observation };
}

export interface ReplayTraceOptions {
  /** The implementation: a name in `registry`, or a spec (module path, exec:COMMAND) the caller named. */
  readonly impl: string;
  readonly registry: Registry;
  readonly layout: Layout;
  readonly hostEcvTraps: boolean;
  /** The host (profile, CPU, counter offset). Default the implementation's. */
  readonly host?: HostOptions;
  /** External implementations: per-op answer timeout in ms. Default theirs. */
  readonly timeoutMs?: number;
  /** The properties judged, in order. */
  readonly properties: readonly PropertyName[];
}

export interface ReplayResult {
  /** One result per property, as a check's. */
  readonly check: CheckResult;
  /** The comparison with the trace's own observations; absent when it has none. */
  readonly observations?: ObservationsCheck;
}

/**
 * Judge `trace` under each property. Throws InputError (naming the op) for a trace the
 * architecture rejects as written; an implementation that fails while being made fails every
 * property.
 */
export async function replayTrace(trace: Trace, o: ReplayTraceOptions): Promise<ReplayResult> {
  // A replayed trace must be valid as written (eret only at vEL2, exit only at vEL1).
  validateTrace(trace);
  const { impl, layout, hostEcvTraps, host, properties } = o;
  const long = trace.ops.length > REPLAY_FULL_OPS;
  const window = long ? { window: REPLAY_WINDOW } : {};
  const opts = { ...DEFAULT_CHECK_OPTIONS, impl, layout, hostEcvTraps, properties, ...(host ? { host } : {}) };
  const results: PropertyResult[] = [];
  let observations: ObservationsCheck | undefined;
  const t0 = performance.now();
  let implementation: Implementation | undefined;
  try {
    implementation = await createImplementation(impl, {
      layout, hostEcvTraps, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}), ...(host ? { host } : {}),
    }, o.registry);
  } catch (e) {
    // An implementation that fails while being made fails every property, with a report.
    if (!(e instanceof ImplementationError)) throw e;
    for (const property of properties) results.push({ property, verdict: 'fail', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation: `the implementation failed before any trace: ${e.message}` });
  }
  if (implementation) {
    try {
      for (const name of properties) {
        const p = propertyByName(name);
        const runner = new Runner(implementation, { property: p, hosts: !long, ...window });
        const rc = runner.runContext(trace.config);
        const na = p.inapplicable?.(rc);
        if (na) {
          results.push({ property: name, verdict: 'n/a', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation: na });
          continue;
        }
        const t1 = performance.now();
        runner.record = true;
        const out = await runOps(runner, trace.config, trace.ops);
        runner.record = false;
        const executed = (out.first ?? 0) + out.ops.length;
        const staticFault = p.staticCheck?.(rc);
        const failed = !!out.violation || !!staticFault;
        // The counterexample is the trace up to the failing op.
        const prefix = out.violation ? trace.ops.slice(0, out.violation.index + 1) : [];
        results.push({
          property: name, verdict: failed ? 'fail' : 'pass', runs: 1, shrinks: 0, opsExecuted: executed, ms: performance.now() - t1, phase: 'replay',
          ...(out.violation ? { counterexample: out, ...(long ? {} : { token: encodeToken({ config: trace.config, ops: prefix }, replayInfo(opts, layout, name)) }) } : {}),
          ...(failed ? { explanation: [staticFault, out.violation?.explanation].filter(Boolean).join('; ') } : {}),
        });
      }
      const want = trace.observations;
      if (want) {
        // The trace's own observations, compared with what the implementation answers (the trace format's rule).
        let mismatch: ObservationsCheck['mismatch'];
        const runner = new Runner(implementation, {
          ...window,
          observe: (c) => {
            if (!mismatch && !agrees(want[c.index]!, c.obs)) mismatch = { index: c.index, want: want[c.index]!, got: c.obs };
          },
        });
        const out = await runOps(runner, trace.config, trace.ops);
        observations = { ops: (out.first ?? 0) + out.ops.length - (out.failure ? 1 : 0), ...(mismatch ? { mismatch } : {}) };
      }
    } finally {
      await implementation.close?.();
    }
  }
  const verdict = results.some((r) => r.verdict === 'fail') || observations?.mismatch ? 'fail' : 'pass';
  return { check: { verdict, results, options: opts, layout, ms: performance.now() - t0 }, ...(observations ? { observations } : {}) };
}
