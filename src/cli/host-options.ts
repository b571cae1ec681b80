/**
 * The host flags every command that runs a built-in model takes: `--host exact|kvm`,
 * `--host-cpu FEATURES`, `--host-counter-offset P[,V]`. Parsed into the engine's HostOptions.
 */
import { InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { HOST_FEATURE_NAMES, HOST_FEATURES, type HostFeature } from '../../models/arch/implementation.js';
import { HOST_PROFILES, type HostProfile } from '../../models/nv2/host/policy.js';
import type { Vocabulary } from '../../models/arch/vocabulary.js';
import type { HostOptions } from '../engine/registry.js';

/** `ecv,ecv-poff,nv2p1` (or `none`) as a feature list, each name checked. */
export function parseHostCpu(v: string): HostFeature[] {
  if (v.trim() === 'none') return [];
  const out: HostFeature[] = [];
  for (const raw of v.split(',')) {
    const f = raw.trim();
    if (!HOST_FEATURE_NAMES.includes(f as HostFeature)) {
      throw new InvalidArgumentError(`--host-cpu: unknown feature '${f}' (known: ${HOST_FEATURE_NAMES.join(', ')}; or none)`);
    }
    if (!out.includes(f as HostFeature)) out.push(f as HostFeature);
  }
  // FEAT_ECV_POFF is part of FEAT_ECV.
  if (out.includes('ecv-poff') && !out.includes('ecv')) throw new InvalidArgumentError(`--host-cpu: ecv-poff needs ecv`);
  return HOST_FEATURE_NAMES.filter((f) => out.includes(f));
}

const COUNT = /^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/;

/** `P` or `P,V` (decimal or 0x hex, 64-bit). A nested VM has one counter offset: V, if given, must equal P. */
export function parseCounterOffset(v: string): bigint {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.length > 2 || !parts.every((p) => COUNT.test(p))) {
    throw new InvalidArgumentError(`--host-counter-offset expects P or P,V: 64-bit counts, decimal or 0x hex (got '${v}')`);
  }
  const [p, q] = parts.map((s) => BigInt(s));
  if (p! >= 1n << 64n || (q !== undefined && q >= 1n << 64n)) throw new InvalidArgumentError(`--host-counter-offset: '${v}' does not fit 64 bits`);
  if (q !== undefined && q !== p) {
    throw new InvalidArgumentError(`--host-counter-offset: a VM with nested virtualization has one counter offset (KVM points the EL1 virtual timer at the physical one, kvm_timer_vcpu_reset): V must equal P`);
  }
  return p!;
}

export const hostOption = (): Option<'--host <profile>', undefined, undefined, HostProfile> =>
  new Option('--host <profile>', 'the host\'s policy: exact (an idealised host) or kvm (mainline KVM\'s nested timer code) (default exact)').choices(HOST_PROFILES);
export const hostCpuOption = () =>
  new Option('--host-cpu <features>', `the physical CPU's features, comma-separated from ${HOST_FEATURE_NAMES.join(', ')}, or none (default ${HOST_FEATURES.join(',')})`).argParser(parseHostCpu);
export const counterOffsetOption = () =>
  new Option('--host-counter-offset <P[,V]>', 'the VM\'s counter offset in counts (KVM_ARM_SET_COUNTER_OFFSET) (default 0)').argParser(parseCounterOffset);

/** The HostOptions of the flags given, or undefined when none was. */
export function hostOptionsOf(o: { host?: HostProfile; hostCpu?: HostFeature[]; hostCounterOffset?: bigint }): HostOptions | undefined {
  if (o.host === undefined && o.hostCpu === undefined && o.hostCounterOffset === undefined) return undefined;
  return {
    ...(o.host !== undefined ? { profile: o.host } : {}), ...(o.hostCpu !== undefined ? { cpu: o.hostCpu } : {}),
    ...(o.hostCounterOffset !== undefined ? { counterOffset: o.hostCounterOffset } : {}),
  };
}

/** `--vocabulary 1|2`: the trace vocabulary an external implementation understands. */
export const vocabularyOption = () =>
  new Option('--vocabulary <n>', 'the trace vocabulary an external implementation understands: 1 (the first version\'s) or 2 (with HCR_EL2, CNTKCTL_EL12, the SS counters, wfit, absent features) (default 1, or what a module plug-in declares)')
    .argParser((v): Vocabulary => {
      if (v !== '1' && v !== '2') throw new InvalidArgumentError('--vocabulary expects 1 or 2');
      return Number(v) as Vocabulary;
    });
