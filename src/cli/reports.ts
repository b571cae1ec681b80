/**
 * The report outputs a command writes besides its text, declared, checked and written here and
 * nowhere else: `--html FILE` (one self-contained page: the counterexample's timeline, or the
 * verdict table with every timeline), `--junit FILE` (JUnit XML for CI), `--reporter github`
 * (GitHub workflow annotations after the report) and `--quiet-timing` (no timing figures, so
 * that the output is byte-identical for a seed).
 */
import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { resolve } from 'node:path';
import { InputError } from '../../models/arch/errors.js';
import type { CheckResult } from '../check/check.js';
import type { SuiteResult } from '../check/suite.js';
import { isExternalSpec } from '../engine/registry.js';
import { githubCheck, githubSuite, suiteEntryLines } from '../report/github.js';
import { junitCheck, junitSuite } from '../report/junit.js';
import { checkPage, suitePage } from '../report/timeline.js';
import { checkOutPath, writeText } from './io.js';

/** What the report flags asked for, checked. */
export interface ReportFlags {
  /** --html FILE. Default none. */
  readonly html?: string;
  /** --junit FILE. Default none. */
  readonly junit?: string;
  /** --reporter github: annotations after the text report. Default false (--reporter text). */
  readonly github: boolean;
  /** Timing figures in the output; --quiet-timing: false. Default true. */
  readonly timing: boolean;
}

/** No report outputs, timing shown: what a command does without the flags. */
export const NO_REPORTS: ReportFlags = { github: false, timing: true };

const HTML_HELP = 'write the report as one self-contained HTML page to FILE (no network, nothing to build): the counterexample\'s timeline, or the verdict table with each counterexample\'s timeline';

/** --html FILE (every command that has a result to show). */
export const withHtml = <A extends unknown[], O extends OptionValues, G extends OptionValues>(c: Command<A, O, G>) =>
  c.option('--html <file>', HTML_HELP);

/** --quiet-timing (commands whose output has timing figures). */
export const withQuietTiming = <A extends unknown[], O extends OptionValues, G extends OptionValues>(c: Command<A, O, G>) =>
  c.option('--quiet-timing', 'print no timing figures (ms, traces/s), so that the output is byte-identical for a seed');

/** --junit FILE and --reporter text|github (commands with pass/fail verdicts: check, replay). */
export const withCiReports = <A extends unknown[], O extends OptionValues, G extends OptionValues>(c: Command<A, O, G>) =>
  c.option('--junit <file>', 'write a JUnit XML report to FILE: one test case per property (or suite entry), the counterexample and replay token in each failure')
    .addOption(new Option('--reporter <name>', 'text: the report (default); github: the report, then a GitHub Actions ::error annotation per failure').choices(['text', 'github'] as const));

/** The flags of a command's options, checked (paths writable, no contradiction). */
export function reportFlags(command: string, o: { html?: string; junit?: string; reporter?: 'text' | 'github'; quietTiming?: true; json?: true }): ReportFlags {
  if (o.html !== undefined) checkOutPath(o.html, '--html');
  if (o.junit !== undefined) checkOutPath(o.junit, '--junit');
  if (o.html !== undefined && o.junit !== undefined && resolve(o.html) === resolve(o.junit)) throw new InputError(`${command}: --html and --junit name the same file (${o.html})`);
  const github = o.reporter === 'github';
  if (github && o.json) throw new InputError(`${command}: --reporter github and --json: give one (annotations are lines of text, not JSON)`);
  return { ...(o.html !== undefined ? { html: o.html } : {}), ...(o.junit !== undefined ? { junit: o.junit } : {}), github, timing: !o.quietTiming };
}

/** The outputs of one result, each made only when asked for. */
export interface Outputs {
  readonly html?: () => string;
  readonly junit?: () => string;
  readonly github?: () => string;
}

/**
 * Write the asked-for files and return what goes after the text report: the annotations, and a
 * line per file written (nothing in JSON mode, where stdout is one document).
 */
export function emitReports(f: ReportFlags, outputs: Outputs, json: boolean): string {
  let s = '';
  if (f.html !== undefined && outputs.html) {
    writeText(f.html, outputs.html());
    if (!json) s += `--html: wrote ${f.html}\n`;
  }
  if (f.junit !== undefined && outputs.junit) {
    writeText(f.junit, outputs.junit());
    if (!json) s += `--junit: wrote ${f.junit}\n`;
  }
  if (f.github && outputs.github) s += outputs.github();
  return s;
}

/** The file a check's annotations point at: the implementation module, else the layout file; none for built-ins and catalogue layouts. */
function annotatedFile(r: CheckResult): string | undefined {
  const impl = r.options.impl;
  if (isExternalSpec(impl) && !impl.startsWith('exec:')) return impl;
  const l = r.options.layout;
  return typeof l === 'string' && /[./\\]/.test(l) ? l : undefined;
}

/** The outputs of a check or a replay. */
export function checkOutputs(r: CheckResult, f: ReportFlags, command: 'check' | 'replay'): Outputs {
  const file = annotatedFile(r);
  return {
    html: () => checkPage(r, command),
    junit: () => junitCheck(r, { timing: f.timing, command }),
    github: () => githubCheck(r, file !== undefined ? { file } : {}),
  };
}

/** The outputs of a suite run; `file` is the suite file the user named (none for the shipped default), `text` its contents. */
export function suiteOutputs(r: SuiteResult, f: ReportFlags, file: string | undefined, text: string): Outputs {
  return {
    html: () => suitePage(r),
    junit: () => junitSuite(r, { timing: f.timing }),
    github: () => githubSuite(r, file !== undefined ? { file, lines: suiteEntryLines(text, r.entries.map((e) => e.entry.name)) } : {}),
  };
}
