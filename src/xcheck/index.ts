/**
 * The QEMU cross-check (xcheck/NOTES.md, docs/qemu-crosscheck.md): run nvconform traces on QEMU's
 * FEAT_NV2/ECV model of the Arm architecture, rebuild each trace with the counts that really
 * passed, and probe QEMU's NV2 routing.
 *
 * The driver (format, qemu, rebuild, registers, probe-cells) depends on nothing of the project but
 * the public trace types; the product on top of it (qemu-model, classify, crosscheck, routing,
 * report, command: `nvconform xcheck`) uses the generator, the reference and the routing model.
 */
export {
  encodeBatch, decodeResults, encodeProbe, decodeProbe, unsupportedReason, faultKindOf, esrClass, cnthctlForE2h0, resultBytes,
  XcheckError, SAMPLED_TIMERS, TIMER_PPIS, DEFAULT_MAX_TICK, HARD_MAX_TICK, BATCH_ADDR,
  type EncodeOptions, type ResultHeader, type LineSample, type QemuOpResult, type RawTraceResult, type DecodedResults,
  type ProbeCellInput, type ProbeOutcome, type RawProbeResult, type SampledTimer,
} from './format.js';
export {
  findQemu, runTracesInQemu, probeRouting, runBatchBytes, qemuArgs, defaultImagePath, liveQemuProcesses, SPACING,
  type FindQemuOptions, type FindQemuResult, type QemuInfo, type QemuRunOptions, type QemuTraceResult, type ProbeResult,
} from './qemu.js';
export {
  rebuildTrace, qemuObservations, collapseObservations, disagreement, lineFromCtl, ctlLineMask, lineSourceMismatches,
  compareWithModel, type StepModel, type Comparison,
  type RebuildInput, type RebuildOptions, type RebuiltTrace,
} from './rebuild.js';
export { TRACE_ENCODINGS, EXTRA_ENCODINGS, encodingOf, enc16, guestCanExecute, probeCanExecute, HCR_EL2_ENCODING, type Encoding } from './registers.js';
export { standardProbeCells, PROBE_TRAP_SETS } from './probe-cells.js';
export { QemuTimerModel, referenceFor, ALL_BEHAVIOURS, NO_BEHAVIOURS, BEHAVIOUR_NAMES, ECV_DISABLED_BY_EL3_TABLE, type QemuBehaviours, type BehaviourName } from './qemu-model.js';
export { judgeTrace, checkLineSources, classOf, KNOWN_BEHAVIOURS, type KnownBehaviour, type TraceVerdict, type LineSourceCheck } from './classify.js';
export {
  crossCheck, generate, resolveForQemu, runResolved, shrink, batchFor, DEFAULT_XCHECK_OPTIONS,
  type CrossCheckOptions, type CrossCheckResult, type TraceOutcome, type RunOutcome, type Shrunk, type TraceRunner,
} from './crosscheck.js';
export { routingTable, routingRows, sameRoute, modelRoute, type RoutingResult, type RoutingRow } from './routing.js';
export { xcheckQemuCommand, xcheckRoutingCommand, requireQemu } from './command.js';
