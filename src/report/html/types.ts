/**
 * The input of the HTML counterexample report: plain JSON documents, built by whoever holds a
 * counterexample (the checker, `nvconform layouts --html`, a test) and rendered by
 * `renderTimeline` / `renderLayouts` into one self-contained HTML page. Nothing here refers to
 * the models: every field is data to show, already computed. All 64-bit quantities are strings
 * `"0x"` + hex digits, as in the trace format (docs/trace-format.md).
 */

/** The name of one of the four generic timers, as in the trace format's `irq` lists. */
export type TimerName = 'hptimer' | 'hvtimer' | 'ptimer' | 'vtimer';

/** One trace run on both models, op by op: what the page draws. */
export interface TimelineDoc {
  /** The page's heading and `<title>`, e.g. "deferred: FAIL — layout tval-in-vncr, guest vhe". */
  readonly title: string;
  /** A second heading line, e.g. the implementation line ("nv2, layout tval-in-vncr, host-ecv-traps off"). */
  readonly subtitle?: string;
  /** The trace's config, as in the trace format: guest mode, features, start count, initial registers. */
  readonly config: {
    readonly guest: 'vhe' | 'nvhe';
    readonly features: readonly string[];
    /** The physical count when the trace starts ("0x.."). */
    readonly count: string;
    /** Starting values of registers, by name ("0x.."). */
    readonly init: Readonly<Record<string, string>>;
  };
  /** The property (contract) the trace was judged against, e.g. "deferred" or "architectural". */
  readonly property?: string;
  /** The verdict of that property on this trace. */
  readonly verdict?: 'pass' | 'fail';
  /** One sentence on the divergent op: what was observed where the property allows what. */
  readonly explanation?: string;
  /** Index into `ops` of the first op whose observation the property rejects. */
  readonly divergentOp?: number;
  /** The replay token ("nvc1:..."), for `nvconform replay TOKEN`. */
  readonly token?: string;
  /** The generator seed the trace came from. */
  readonly seed?: number;
  /** The timers that get a lane, in lane order (usually the ones the trace touches). */
  readonly timers: readonly ('hptimer' | 'hvtimer' | 'ptimer' | 'vtimer')[];
  /** The VNCR slots of the layout, each a byte offset in the page and the register it holds (may be empty). */
  readonly slots: readonly { readonly offset: number; readonly key: string }[];
  /** The ops in trace order; `ops[i].index === i`. */
  readonly ops: readonly TimelineOp[];
}

/** One op of the trace with what both models made of it. */
export interface TimelineOp {
  /** Position in the trace, from 0. */
  readonly index: number;
  /** The vEL before the op: 2 = the guest hypervisor, 1 = its nested guest. */
  readonly el: 1 | 2;
  /** The vEL after the op (an eret, an exit or a trap to vEL2 changes it). */
  readonly elAfter: 1 | 2;
  /** The op as one line of text, e.g. "msr CNTV_CVAL_EL02, 0x100". */
  readonly text: string;
  /** The op in trace-format JSON: {op:"msr",reg,value}, {op:"mrs",reg}, {op:"tick",by}, {op:"wfi",limit}, {op:"eret"} ... */
  readonly op: Readonly<Record<string, string>>;
  /** The physical count before the op ("0x.."). */
  readonly countBefore: string;
  /** The physical count after the op ("0x..": tick, wfi and preempt move it). */
  readonly countAfter: string;
  /** What the reference (the architecture) allows: an observation in trace-format JSON, with optional `unknown` mask. */
  readonly expected: Readonly<Record<string, unknown>>;
  /** What the implementation produced (trace-format observation JSON); null: the implementation failed on this op. */
  readonly observed: Readonly<Record<string, unknown>> | null;
  /** What the hardware or the host did, one phrase each, e.g. "store VNCR[0x168] (CNTV_CVAL_EL0)", "trap to host (HCR_EL2.NV)". */
  readonly hardware: readonly string[];
  /** Where the access went: a VNCR slot, the hardware timer registers, a trap to the host, or UNDEFINED. */
  readonly route?: 'vncr' | 'hw' | 'trap' | 'undefined';
  /** The host's placement of the timers after the op, one line ("vtimer: soft (page CTL,CVAL); hvtimer: hw vtimer"). */
  readonly timerMap?: string;
  /** The VNCR slots that changed during the op, with their values before and after ("0x.."). */
  readonly vncr: readonly { readonly offset: number; readonly key: string; readonly before: string; readonly after: string }[];
  /** The architecture's view of each timer after the op (from the reference model). */
  readonly timerState: readonly {
    /** The timer's name (one of `TimerName`). */
    readonly timer: string;
    /** CTL.ENABLE. */
    readonly enable: boolean;
    /** CTL.IMASK. */
    readonly imask: boolean;
    /** The comparator value ("0x.."). */
    readonly cval: string;
    /** The offset the timer's count is taken with (CNTVOFF/CNTPOFF, "0x0" when none). */
    readonly offset: string;
    /** Whether the timer condition (count - offset >= CVAL) holds, i.e. ISTATUS while enabled. */
    readonly conditionMet: boolean;
  }[];
}

/** The verdict table of `nvconform layouts --html`: one row per layout and guest mode. */
export interface LayoutsDoc {
  /** The page's heading and `<title>`. */
  readonly title: string;
  /** Column headings, e.g. ["layout","guest","architectural","deferred","counterexample","linux","tval","random"]. */
  readonly columns: readonly string[];
  /** The rows; a row whose contract failed carries its minimal counterexample, embedded in the page. */
  readonly rows: readonly { readonly cells: readonly string[]; readonly counterexample?: TimelineDoc }[];
  /** A line under the table (e.g. what the cost columns count). */
  readonly note?: string;
}
