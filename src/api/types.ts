/**
 * The library's public types: options in, plain data out. Every result is JSON-compatible (no
 * classes, no Maps, no bigints): 64-bit quantities are hex strings `"0x..."` as in the trace
 * format (docs/trace-format.md), so a result can be logged, compared, snapshotted or written as
 * JSON as it is. The one non-data type is Implementation (models/arch/implementation.ts), which
 * a caller implements to check its own model.
 */
import type { PropertyName } from '../../properties/index.js';

/** A 64-bit quantity: `"0x"` and lower-case hex digits. */
export type Hex = string;

export type GuestMode = 'vhe' | 'nvhe';
export type TimerName = 'hptimer' | 'hvtimer' | 'ptimer' | 'vtimer';
export type { PropertyName };

/** A trace document's config (nvconform-trace/1). */
export interface TraceConfigJson {
  readonly guest: GuestMode;
  readonly features: readonly 'ecv'[];
  /** The physical count when the trace starts. */
  readonly count: Hex;
  /** Starting values of registers, by their vEL2 name (absent when none). */
  readonly init?: Readonly<Record<string, Hex>>;
}

/** One op of a trace document. */
export type OpJson =
  | { readonly op: 'msr'; readonly reg: string; readonly value: Hex }
  | { readonly op: 'mrs'; readonly reg: string }
  | { readonly op: 'tick'; readonly by: Hex }
  | { readonly op: 'preempt'; readonly by: Hex }
  | { readonly op: 'wfi'; readonly limit: Hex }
  | { readonly op: 'eret' }
  | { readonly op: 'exit' };

/** What one op produced (an implementation's observation, or the architecture's expectation with its UNKNOWN bits). */
export interface ObservationJson {
  /** The asserted timer lines, in the order hptimer, hvtimer, ptimer, vtimer. */
  readonly irq: readonly TimerName[];
  readonly value?: Hex;
  /** Expectations only: the bits of `value` the architecture leaves UNKNOWN. */
  readonly unknown?: Hex;
  readonly fault?: 'undefined' | 'trap';
  readonly elapsed?: Hex;
}

/** A trace document (nvconform-trace/1), as `nvconform run --json` and `--out` write it. */
export interface TraceDocument {
  readonly format: 'nvconform-trace/1';
  readonly config: TraceConfigJson;
  readonly ops: readonly OpJson[];
  readonly observations?: readonly ObservationJson[];
}

/** A VNCR layout as data: the register each slot holds (its EL0 name, or CNTVOFF_EL2/CNTPOFF_EL2) and the slot's byte offset. */
export interface LayoutData {
  readonly name: string;
  readonly slots: Readonly<Record<string, number>>;
  /** Default: none. */
  readonly description?: string;
}

/** The built-in models' host, as data. */
export interface HostData {
  /** `exact`: nvconform's idealised host; `kvm`: mainline KVM's nested timer code. */
  readonly profile?: 'exact' | 'kvm';
  /** The physical CPU's features. */
  readonly cpu?: readonly ('ecv' | 'ecv-poff' | 'wfxt' | 'vhe' | 'nv2p1')[];
  /** The VM's counter offset (KVM_ARM_SET_COUNTER_OFFSET). */
  readonly counterOffset?: Hex;
}

/** One op of a recorded run: what the architecture expected, what the implementation did. */
export interface StepReport {
  readonly index: number;
  /** The vEL before the op. */
  readonly el: 1 | 2;
  /** As the text report writes it: `msr CNTV_CVAL_EL02, 0x100`. */
  readonly text: string;
  readonly op: OpJson;
  readonly expected: ObservationJson;
  /** The implementation's observation; null where it failed (no answer). For the reference alone, the expectation. */
  readonly observed: ObservationJson | null;
  /** What the hardware and host did, one phrase each (`store VNCR[0x168] (CNTV_CVAL_EL0)`); empty without hardware detail. */
  readonly hardware: readonly string[];
  /** VNCR slots whose contents changed during the op. */
  readonly vncr: readonly { readonly offset: number; readonly key: string; readonly before: Hex; readonly after: Hex }[];
  /** The host's placement of the guest's timers after the op, when the implementation describes it; else null. */
  readonly timerMap: string | null;
}

/** A minimal failing trace. */
export interface Counterexample {
  /** The trace (config and ops; no observations), as a trace document: `nvconform replay` or `run` take it as a file. */
  readonly trace: TraceDocument;
  /** Index of the op the property rejects (ops.length when the implementation failed before answering). */
  readonly divergentOp: number;
  readonly steps: readonly StepReport[];
}

/** What the exhaustive phase covered: every trace of at most `completedDepth` ops (or letters) over `alphabet`. */
export interface ExhaustiveScope {
  readonly alphabet: string;
  readonly unit: 'op' | 'letter';
  readonly depth: number;
  readonly completedDepth: number;
  readonly families: number;
  readonly roots: number;
  readonly traces: number;
  readonly states: number;
  readonly transitions: number;
  readonly merged: boolean;
  /** How the search returned to a state: from the implementation's snapshots (save/restore), or by resetting it and replaying the prefix. */
  readonly mode: 'snapshots' | 'replay';
}

/** One property's verdict. */
export interface PropertyReport {
  readonly property: PropertyName;
  readonly verdict: 'pass' | 'fail' | 'n/a';
  /**
   * What the verdict covers, in words: for a pass, every trace the search tried (`every trace of
   * ≤ 2 ops over nvconform-alphabet/1 (...): N traces, M states; then 4 directed traces and 300
   * random traces`); for a failure, the search up to the counterexample; for n/a, why it does not apply.
   */
  readonly scope: string;
  /** Traces generated (fast-check runs, directed ones included). */
  readonly runs: number;
  readonly directed: number;
  readonly shrinks: number;
  /** Ops stepped on both models, shrinking included. */
  readonly opsExecuted: number;
  readonly ms: number;
  readonly exhaustive: ExhaustiveScope | null;
  /** The phase that found the counterexample. */
  readonly phase: 'exhaustive' | 'random' | 'directed' | 'pool' | 'replay' | null;
  /** Why it failed (the text report's `why`), or why it does not apply. */
  readonly explanation: string | null;
  /** The replay token of the counterexample (`nvc1:...`). */
  readonly token: string | null;
  readonly counterexample: Counterexample | null;
  /** The property's part of the text report, exactly as `nvconform check` prints it. */
  readonly text: string;
}

/** The result of `check` or `replay`. */
export interface CheckReport {
  readonly verdict: 'pass' | 'fail';
  readonly results: readonly PropertyReport[];
  readonly options: {
    /** How the implementation was named: a built-in name, a spec, or `instance:NAME` for an Implementation object. */
    readonly impl: string;
    readonly layout: string;
    readonly hostEcvTraps: boolean;
    /** The built-in host, when one was given. */
    readonly host: HostData | null;
    readonly guest: GuestMode | null;
    readonly ecv: boolean | null;
    readonly runs: number;
    readonly maxOps: number;
    readonly seed: number;
    readonly properties: readonly PropertyName[];
    /** Registers the search left out. */
    readonly exclude: readonly string[];
  };
  readonly layout: LayoutData;
  readonly ms: number;
  /** One-line remarks, as in the report's header: how an implementation asked for save/restore answered, when not plainly (docs/protocol.md). */
  readonly notes: readonly string[];
  /** The whole report as the command line prints it (`nvconform check` / `nvconform replay`). */
  readonly text: string;
}

/** A replay's comparison of the implementation's answers with the trace's own observations. */
export interface ObservationsReport {
  readonly verdict: 'pass' | 'fail';
  /** Ops the implementation answered. */
  readonly ops: number;
  readonly divergentOp: number | null;
  readonly expected: ObservationJson | null;
  readonly observed: ObservationJson | null;
}

/** The result of `replay`: a check's report, and the comparison with the trace's own observations. */
export interface ReplayReport extends CheckReport {
  /** null when the trace has no observations (a token never has). */
  readonly observations: ObservationsReport | null;
}

/** The result of `run`. */
export interface RunReport {
  /** `reference`, a built-in name, a spec, or `instance:NAME`. */
  readonly model: string;
  /** The layout the implementation ran with; null for the reference. */
  readonly layout: string | null;
  /** The trace with the model's observations filled in (`nvconform run --json`). */
  readonly trace: TraceDocument;
  readonly steps: readonly StepReport[];
}

/** Traps per 1000 guest-hypervisor timer register accesses, per workload. */
export interface TrapCostData {
  readonly linux: number;
  readonly tval: number;
  readonly random: number;
}

/** One layout judged in one guest mode. */
export interface LayoutReport {
  readonly name: string;
  readonly guest: GuestMode;
  /** Where it came from: a catalogue file, a layout file, or `data`. */
  readonly source: string;
  readonly slots: Readonly<Record<string, number>>;
  readonly architectural: PropertyReport;
  readonly deferred: PropertyReport;
  /** The contract whose counterexample is worth showing: deferred if it fails, else architectural if it fails, else null. */
  readonly headline: 'architectural' | 'deferred' | null;
  readonly trapsPer1000: TrapCostData;
}

/** The result of `layouts`. */
export interface LayoutsReport {
  readonly layouts: readonly LayoutReport[];
  /** The cost with FEAT_NV only (every EL2 access traps), per guest mode judged. */
  readonly baseline: Readonly<Partial<Record<GuestMode, TrapCostData>>>;
  readonly options: { readonly hostEcvTraps: boolean; readonly host: HostData | null; readonly runs: number; readonly seed: number; readonly maxOps: number; readonly ecv: boolean | null };
}

/** A property of the catalogue. */
export interface PropertyInfo {
  readonly name: PropertyName;
  readonly summary: string;
}
