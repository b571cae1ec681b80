/**
 * The interface every implementation under test speaks: the built-in NV2 and NV models, a
 * module plug-in, or an external process. One instance runs one trace at a time. An
 * implementation also *declares* what it is — its VNCR layout, whether it serves slots from a page,
 * its host's trap policy, whether it answers synchronously — and the properties derive the contract
 * they judge it by from that declaration alone.
 */
import type { Layout } from './layout.js';
import type { Feature, Observation, Op, TraceConfig, Vocabulary } from './vocabulary.js';

/** What the (modelled) hardware and host did for one guest op: for reports and for `vncr-verbatim`. */
export type HwAction =
  /** The access was served from a VNCR page slot: a plain 64-bit load or store. */
  | { readonly kind: 'vncr'; readonly offset: number; readonly key: string; readonly write: boolean }
  /** The access reached a hardware register directly (no trap). */
  | { readonly kind: 'hw'; readonly reg: string; readonly write: boolean }
  /** The access trapped to the host hypervisor (L0), which emulated it. `why`: the trap's cause. */
  | { readonly kind: 'trap'; readonly why: string }
  /** The access was UNDEFINED in hardware. */
  | { readonly kind: 'undefined' }
  /** Something the host did on its own: a context switch, a software timer, an interrupt injection. */
  | { readonly kind: 'host'; readonly what: string };

export interface SlotChange {
  readonly offset: number;
  readonly key: string;
  readonly before: bigint;
  readonly after: bigint;
}

export interface StepDetail {
  readonly actions: readonly HwAction[];
  /** VNCR page slots whose contents changed during the op (by the guest or by the host). */
  readonly vncr: readonly SlotChange[];
}

/** A feature of the physical CPU: those a virtual CPU may have, and FEAT_NV2p1. */
export type HostFeature = Feature | 'nv2p1';
/** Every physical-CPU feature nvconform models, in canonical order. */
export const HOST_FEATURE_NAMES: readonly HostFeature[] = ['ecv', 'ecv-poff', 'wfxt', 'vhe', 'nv2p1'];
/** The physical CPU's features by default: the most capable machine nvconform models. */
export const HOST_FEATURES: readonly HostFeature[] = HOST_FEATURE_NAMES;

/** The host policy an implementation declares, as far as the contract depends on it. */
export interface HostDeclaration {
  /** The host uses FEAT_ECV's trap bits to make page-held timers exact. */
  readonly ecvTraps: boolean;
  /** The host's profile (models/nv2/host/policy.ts): `exact` or `kvm`. Default `exact`. */
  readonly profile?: 'exact' | 'kvm';
  /** The physical CPU's features. Default HOST_FEATURES. */
  readonly cpu?: readonly HostFeature[];
  /** The VM's counter offset. Default 0. */
  readonly counterOffset?: bigint;
  /** The virtual-CPU features it can run a trace with (the generator picks among them). Default: every feature. */
  readonly vcpuFeatures?: readonly Feature[];
}

export type ImplementationKind = 'builtin' | 'module' | 'process';

export interface Declaration {
  readonly kind: ImplementationKind;
  /** reset() and step() return plain values, never promises: the runner drives it without awaiting. */
  readonly sync: boolean;
  /** The VNCR layout: which registers it serves from its page (for an implementation without a page, the layout it was given). */
  readonly layout: Layout;
  /** It uses FEAT_NV2 and serves the layout's slots from a VNCR page; false: FEAT_NV only, every EL2 access traps. */
  readonly page: boolean;
  readonly host: HostDeclaration;
  /** It reports per-op hardware detail (detail()). */
  readonly detail: boolean;
  /** The trace vocabulary it understands (vocabulary.ts). Default VOCABULARY, the latest. */
  readonly vocabulary?: Vocabulary;
}

/** What probeSnapshots() found. */
export interface SnapshotSupport {
  readonly supported: boolean;
  readonly note?: string;
}

export interface Implementation {
  /** A short name for reports ("nv2", "nv", a plug-in's name). */
  readonly name: string;
  readonly declaration: Declaration;
  /** Start a new trace from its config; may be called many times on one instance. */
  reset(config: TraceConfig): void | Promise<void>;
  /** Execute one op and return what the guest observed. */
  step(op: Op): Observation | Promise<Observation>;
  /** Optional: what the hardware did for the last op. */
  detail?(): StepDetail | undefined;
  /** Optional: the host's internal placement after the last op, one printable line (the timer map). */
  describeHost?(): string;
  /**
   * Optional, for the exhaustive search: a copy of the whole state (`snapshot`), a return to one
   * (`restore`, the snapshot stays valid), and a canonical text of the state (`key`: equal states,
   * equal keys; without it states are never merged). An implementation without snapshot/restore
   * is explored by replaying prefixes. An external implementation's snapshot is a promise (the
   * built-in models' is a plain value: the search awaits only a promise).
   */
  snapshot?(): unknown;
  restore?(s: unknown): void | Promise<void>;
  key?(): string;
  /**
   * Optional: find out, once, whether snapshot() and restore() work, before an exhaustive phase (a
   * process is asked: docs/protocol.md). Until it has said `supported`, they are absent; after it
   * has said not, they stay absent. `note`: one line for the report, when the answer was not the
   * plain "unsupported" (what it answered instead). Never rejects.
   */
  probeSnapshots?(): Promise<SnapshotSupport>;
  /** Optional: the key as 64-bit words written into `buf` from `at` (faster than key()); returns the next free word. */
  keyInto?(buf: BigUint64Array, at: number): number;
  /** Optional: release resources (a child process). */
  close?(): void | Promise<void>;
}
