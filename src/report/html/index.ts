/**
 * The HTML counterexample report: plain JSON documents in (types.ts), one self-contained HTML
 * page out. No network, no external resources; deterministic (same document, same bytes).
 */
export { renderLayouts } from './layouts.js';
export { renderTimeline, timelineSection } from './timeline.js';
export type { SectionOptions } from './timeline.js';
export type { LayoutsDoc, TimelineDoc, TimelineOp, TimerName } from './types.js';
