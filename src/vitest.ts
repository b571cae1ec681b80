/**
 * `nvconform/vitest`: conformance as a test assertion. It does not import vitest (or any test
 * runner): `expectConformant` resolves with the report when every property holds and rejects
 * with a ConformanceError, an Error, otherwise, which any runner reports as a failed assertion.
 *
 *     import { test } from 'vitest';
 *     import { expectConformant } from 'nvconform/vitest';
 *     test('my host conforms', async () => {
 *       await expectConformant(myImpl, { property: 'deferred', layout: 'architected' });
 *     });
 */
import { check, type CheckOptions, type CheckReport, type ImplSpec } from './api/index.js';

export type { CheckOptions, CheckReport, ImplSpec } from './api/index.js';

/** The options of expectConformant: those of `check` but the implementation, which is its first argument. Same defaults. */
export type ExpectConformantOptions = Omit<CheckOptions, 'impl'>;

/**
 * The rejection of expectConformant: its message names the implementation and the failing
 * properties and holds each counterexample as the text report prints it, the replay token
 * included. `report` is the whole report as data.
 */
export class ConformanceError extends Error {
  declare readonly report: CheckReport;
  constructor(message: string, report: CheckReport) {
    super(message);
    this.name = 'ConformanceError';
    // Not enumerable: a runner that prints an error's own properties shows the message, not the report twice.
    Object.defineProperty(this, 'report', { value: report, enumerable: false });
  }
}

/** The message of a failed check: a headline, then each failing property's report. */
export function conformanceMessage(report: CheckReport): string {
  const failed = report.results.filter((r) => r.verdict === 'fail');
  const o = report.options;
  const h = o.host;
  const host = h ? `${h.profile ? `, host ${h.profile}` : ''}${h.cpu ? `, host-cpu ${h.cpu.join(',') || 'none'}` : ''}${h.counterOffset ? `, counter offset ${h.counterOffset}` : ''}` : '';
  let s = `${o.impl} does not conform (layout ${o.layout}, host-ecv-traps ${o.hostEcvTraps ? 'on' : 'off'}${host}, seed ${o.seed}): ${failed.map((r) => r.property).join(', ')} ${failed.length === 1 ? 'fails' : 'fail'}\n\n`;
  s += failed.map((r) => r.text).join('\n');
  if (o.impl.startsWith('instance:')) {
    s += `\nto replay against the same object: replay({ trace: TOKEN, impl: yourImplementation }) from 'nvconform'\n`;
  }
  return s;
}

/**
 * Check `impl` (an Implementation object, or a spec: `nv2`, `nv`, a module path, `exec:COMMAND`)
 * and resolve with the report (each result with the scope it covers) if every property holds;
 * reject with a ConformanceError holding the shrunk counterexample and its replay token if one
 * does not. Bad options reject with an InputError.
 */
export async function expectConformant(impl: ImplSpec, options: ExpectConformantOptions = {}): Promise<CheckReport> {
  const report = await check({ ...options, impl });
  if (report.verdict === 'fail') throw new ConformanceError(conformanceMessage(report), report);
  return report;
}
