/**
 * Suites: a data file of configurations, each with the verdict the contract predicts, run like a
 * test suite with expected failures. Format nvconform-suite/1:
 * {"format": "nvconform-suite/1", "name": ..., "entries": [{"name", "impl", "layout", "hostEcvTraps",
 *  "host", "hostCpu", "guest", "ecv", "exclude", "property", "expect": "pass"|"fail", "why"}]}
 * `host` ("exact" | "kvm"), `hostCpu` (the physical CPU's features) and `exclude` (registers no
 * trace of the entry touches, as --exclude) were added compatibly.
 */
import { InputError } from '../../models/arch/errors.js';
import { HOST_FEATURE_NAMES, type HostFeature } from '../../models/arch/implementation.js';
import { REGISTER_BY_NAME } from '../../models/arch/registers.js';
import type { GuestMode } from '../../models/arch/vocabulary.js';
import { HOST_PROFILES, isHostProfile, type HostProfile } from '../../models/nv2/host/policy.js';
import { isPropertyName, PROPERTY_NAMES, type PropertyName } from '../../properties/index.js';
import { parseJsonText } from '../trace/parse.js';
import { BUILTINS, type Registry } from '../engine/registry.js';
import { check, type CheckOptions, type CheckResult, type PropertyResult } from './check.js';
import { Coverage } from './stats.js';

export interface SuiteEntry {
  readonly name: string;
  readonly impl: string;
  readonly layout: string;
  readonly hostEcvTraps: boolean;
  /** The host profile. Default `exact`. */
  readonly host?: HostProfile;
  /** The physical CPU's features. Default HOST_FEATURES. */
  readonly hostCpu?: readonly HostFeature[];
  readonly guest?: GuestMode;
  readonly ecv?: boolean;
  /** Registers no trace touches (CheckOptions.exclude): to look past a finding another entry shows. Default none. */
  readonly exclude?: readonly string[];
  readonly property: PropertyName;
  readonly expect: 'pass' | 'fail';
  readonly why: string;
}

export interface Suite {
  readonly name: string;
  readonly entries: readonly SuiteEntry[];
}

const FIELDS = ['name', 'impl', 'layout', 'hostEcvTraps', 'host', 'hostCpu', 'guest', 'ecv', 'exclude', 'property', 'expect', 'why'];

export function parseSuite(text: string, source: string, registry: Registry = BUILTINS): Suite {
  const doc = parseJsonText(text, source);
  const fail = (where: string, what: string): never => {
    throw new InputError(`${source}: ${where}: ${what}`);
  };
  const d = doc as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) fail('suite', 'expected a JSON object');
  if (d.format !== 'nvconform-suite/1') fail('format', `expected "nvconform-suite/1", got ${JSON.stringify(d.format)}`);
  if (!Array.isArray(d.entries) || d.entries.length === 0) fail('entries', 'expected a non-empty list');
  const entries = (d.entries as unknown[]).map((e, i): SuiteEntry => {
    const w = `entries[${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) fail(w, 'expected an object');
    const o = e as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!FIELDS.includes(k)) fail(w, `unexpected field '${k}' (allowed: ${FIELDS.join(', ')})`);
    if (typeof o.name !== 'string' || !o.name) fail(`${w}.name`, 'expected a non-empty string');
    if (typeof o.property !== 'string' || !isPropertyName(o.property)) fail(`${w}.property`, `expected one of ${PROPERTY_NAMES.join(', ')}`);
    if (o.expect !== 'pass' && o.expect !== 'fail') fail(`${w}.expect`, 'expected "pass" or "fail"');
    if (o.guest !== undefined && o.guest !== 'vhe' && o.guest !== 'nvhe') fail(`${w}.guest`, 'expected "vhe" or "nvhe"');
    for (const k of ['hostEcvTraps', 'ecv']) if (o[k] !== undefined && typeof o[k] !== 'boolean') fail(`${w}.${k}`, 'expected true or false');
    for (const k of ['impl', 'layout', 'why']) if (o[k] !== undefined && typeof o[k] !== 'string') fail(`${w}.${k}`, 'expected a string');
    if (o.host !== undefined && (typeof o.host !== 'string' || !isHostProfile(o.host))) fail(`${w}.host`, `expected one of ${HOST_PROFILES.join(', ')}`);
    if (o.hostCpu !== undefined) {
      if (!Array.isArray(o.hostCpu)) fail(`${w}.hostCpu`, `expected a list of features (${HOST_FEATURE_NAMES.join(', ')})`);
      (o.hostCpu as unknown[]).forEach((f, j) => {
        if (typeof f !== 'string' || !HOST_FEATURE_NAMES.includes(f as HostFeature)) fail(`${w}.hostCpu[${j}]`, `expected one of ${HOST_FEATURE_NAMES.join(', ')}`);
      });
    }
    if (o.exclude !== undefined) {
      if (!Array.isArray(o.exclude)) fail(`${w}.exclude`, 'expected a list of register names');
      (o.exclude as unknown[]).forEach((r, j) => {
        if (typeof r !== 'string' || !REGISTER_BY_NAME.has(r)) fail(`${w}.exclude[${j}]`, `${JSON.stringify(r)} is not a register nvconform models`);
      });
    }
    // A suite is data: it names built-in implementations only, never a program or a module to load.
    if (typeof o.impl === 'string' && !registry.has(o.impl)) {
      fail(`${w}.impl`, `${JSON.stringify(o.impl.slice(0, 80))} is not a built-in implementation (${[...registry.keys()].join(', ')}); a suite names built-ins only: check an external implementation with nvconform check --impl SPEC`);
    }
    return {
      name: o.name as string, impl: (o.impl as string | undefined) ?? 'nv2', layout: (o.layout as string | undefined) ?? 'architected',
      hostEcvTraps: (o.hostEcvTraps as boolean | undefined) ?? false,
      ...(o.host !== undefined ? { host: o.host as HostProfile } : {}),
      ...(o.hostCpu !== undefined ? { hostCpu: o.hostCpu as HostFeature[] } : {}),
      ...(o.guest !== undefined ? { guest: o.guest as GuestMode } : {}),
      ...(o.ecv !== undefined ? { ecv: o.ecv as boolean } : {}),
      ...(o.exclude !== undefined ? { exclude: o.exclude as string[] } : {}),
      property: o.property as PropertyName, expect: o.expect as 'pass' | 'fail', why: (o.why as string | undefined) ?? '',
    };
  });
  return { name: typeof d.name === 'string' ? d.name : source, entries };
}

export interface SuiteEntryResult {
  readonly entry: SuiteEntry;
  readonly check: CheckResult;
  readonly result: PropertyResult;
  readonly asExpected: boolean;
}

export interface SuiteResult {
  readonly suite: Suite;
  /** With `stats`: every entry's coverage together. */
  readonly coverage?: Coverage;
  readonly entries: SuiteEntryResult[];
  readonly asExpected: boolean;
  readonly ms: number;
}

export async function runSuite(suite: Suite, base: Pick<CheckOptions, 'runs' | 'seed' | 'maxOps' | 'stats' | 'depth' | 'registry'>): Promise<SuiteResult> {
  const t0 = performance.now();
  const out: SuiteEntryResult[] = [];
  for (const e of suite.entries) {
    const r = await check({
      ...base, impl: e.impl, layout: e.layout, hostEcvTraps: e.hostEcvTraps, properties: [e.property],
      ...(e.host || e.hostCpu ? { host: { ...(e.host ? { profile: e.host } : {}), ...(e.hostCpu ? { cpu: e.hostCpu } : {}) } } : {}),
      ...(e.guest ? { guest: e.guest } : {}), ...(e.ecv !== undefined ? { ecv: e.ecv } : {}), ...(e.exclude ? { exclude: e.exclude } : {}),
    });
    const result = r.results[0]!;
    const got = result.verdict === 'fail' ? 'fail' : 'pass';
    out.push({ entry: e, check: r, result, asExpected: got === e.expect });
  }
  let coverage: Coverage | undefined;
  if (base.stats) {
    coverage = new Coverage('none');
    for (const e of out) if (e.check.coverage) coverage.add(e.check.coverage);
  }
  return { suite, entries: out, asExpected: out.every((e) => e.asExpected), ms: performance.now() - t0, ...(coverage ? { coverage } : {}) };
}
