/**
 * GitHub Actions annotations (`--reporter github`): one `::error` workflow command per failure,
 * which GitHub shows on the run's summary and, with a `file`, beside that file. Pure: result data
 * in, lines out. Messages are escaped as the workflow command syntax requires (`%`, CR and LF in
 * the message; also `:` and `,` in property values).
 */
import type { CheckResult, PropertyResult } from '../check/check.js';
import type { SuiteResult } from '../check/suite.js';
import { implLine, renderProperty } from './check.js';

/** A workflow command's message: `%` → %25, CR → %0D, LF → %0A. */
export const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** A workflow command's property value: as a message, plus `:` → %3A and `,` → %2C. */
export const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export interface Annotation {
  readonly title: string;
  readonly message: string;
  /** The file it is about, relative to the repository root. Default none. */
  readonly file?: string;
  /** The line in `file`, from 1. Default none. */
  readonly line?: number;
}

/** One annotation as a workflow command line. */
export function errorCommand(a: Annotation): string {
  const props: string[] = [];
  if (a.file !== undefined) props.push(`file=${escapeProperty(a.file)}`);
  if (a.file !== undefined && a.line !== undefined) props.push(`line=${a.line}`);
  props.push(`title=${escapeProperty(a.title)}`);
  return `::error ${props.join(',')}::${escapeData(a.message.replace(/\n+$/, ''))}\n`;
}

const where = (file: string | undefined, line?: number): Pick<Annotation, 'file' | 'line'> =>
  file === undefined ? {} : { file, ...(line !== undefined ? { line } : {}) };

export interface GithubOptions {
  /** The file to annotate (the implementation module, the layout file, the suite file). Default none: the annotation is on the run. */
  readonly file?: string;
}

/** A check's (or replay's) failures: one annotation per failed property, with its counterexample and replay token. */
export function githubCheck(r: CheckResult, o: GithubOptions = {}): string {
  return r.results
    .filter((p: PropertyResult) => p.verdict === 'fail')
    .map((p) => errorCommand({ title: `nvconform: ${p.property} fails (${implLine(r)})`, message: renderProperty(p, r), ...where(o.file) }))
    .join('');
}

/**
 * The line of each suite entry in the suite file's text (the line of its `"name"` field), for
 * annotations on the entry. undefined where it cannot be told.
 */
export function suiteEntryLines(text: string, names: readonly string[]): (number | undefined)[] {
  const lines = text.split('\n');
  let from = 0;
  return names.map((name) => {
    const needle = `"name": ${JSON.stringify(name)}`;
    const compact = `"name":${JSON.stringify(name)}`;
    for (let i = from; i < lines.length; i++) {
      if (lines[i]!.includes(needle) || lines[i]!.includes(compact)) {
        from = i + 1;
        return i + 1;
      }
    }
    return undefined;
  });
}

/** A suite run's verdicts that are not as expected: one annotation per entry, on its line of the suite file when known. */
export function githubSuite(r: SuiteResult, o: GithubOptions & { readonly lines?: readonly (number | undefined)[] } = {}): string {
  return r.entries
    .map((e, i) => {
      if (e.asExpected) return '';
      const got = e.result.verdict === 'fail' ? 'fails' : 'passes';
      const title = `nvconform: #${i} ${e.entry.name}: ${e.entry.property} ${got}, expected to ${e.entry.expect}`;
      const message = `${e.entry.why ? `expected ${e.entry.expect}: ${e.entry.why}\n` : ''}${renderProperty(e.result, e.check)}`;
      return errorCommand({ title, message, ...where(o.file, o.lines?.[i]) });
    })
    .join('');
}
