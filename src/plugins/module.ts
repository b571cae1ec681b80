/**
 * Module plug-ins: an implementation under test written as a JavaScript (or TypeScript) module
 * that speaks the trace format's JSON forms (docs/plugins.md). The module runs isolated in a
 * worker thread of its own (worker-source.ts): its process.exit() ends only the worker, its
 * console output is captured and quoted in messages, a synchronous endless loop can be stopped,
 * and what it returns crosses by structured clone. The worker imports the module and calls its
 * `createImplementation(options)`; a worker that has died is started afresh at the next reset.
 *
 * Errors: a module that cannot be found, imported or has no factory, or a factory result without
 * reset/step, is an InputError (exit 2: it is not a plug-in). Anything the plug-in does wrong
 * (its factory or a call throwing, a malformed observation, not answering in time, ending its
 * thread) is an ImplementationError (exit 1) naming the call and the op, with its last output.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as TsModule from 'typescript';
import { parseHex64 } from '../../models/arch/bits.js';
import { ImplementationError, InputError } from '../../models/arch/errors.js';
import type { Declaration, HwAction, Implementation, SlotChange, StepDetail } from '../../models/arch/implementation.js';
import type { Observation, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { layoutSpec } from '../../models/layouts/load.js';
import { configJson, opJson } from '../trace/format.js';
import { checkObservation, clip, clipTail, externalDeclaration, firstLine, oneLine, resolveTimeoutMs, showValue, type ExternalOptions } from './common.js';
import { WORKER_SOURCE } from './worker-source.js';

/** The options object a plug-in's `createImplementation` receives. */
export interface PluginOptions {
  readonly layout: string;
  readonly hostEcvTraps: boolean;
}

const JS_EXTS = ['.js', '.mjs', '.cjs'];
const TS_EXTS = ['.ts', '.mts'];
/** Lines of the plug-in's stdout and of its stderr kept for messages. */
const KEEP_LINES = 3;
/** How long close() waits for the plug-in's close(). */
const CLOSE_MS = 1000;
/** A plug-in's heap limit: past it, its worker ends (an implementation failure), not nvconform. */
export const PLUGIN_HEAP_MB = 1024;

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Load the module plug-in at `spec` (a path relative to the working directory) and start it. */
export async function loadModulePlugin(spec: string, opts: ExternalOptions): Promise<Implementation> {
  const label = `plug-in ${spec}`;
  const timeoutMs = resolveTimeoutMs(opts);
  const file = resolve(process.cwd(), spec);
  const ext = extname(file).toLowerCase();
  if (!existsSync(file)) {
    throw new InputError(`${label}: no such file (an implementation is ${(opts.builtins ?? []).join(', ') || 'a built-in name'}, a .js/.mjs/.ts module, or exec:COMMAND)`);
  }
  if (statSync(file).isDirectory()) throw new InputError(`${label}: is a directory, expected a .js, .mjs or .ts module`);
  if (!JS_EXTS.includes(ext) && !TS_EXTS.includes(ext)) {
    throw new InputError(`${label}: expected a .js, .mjs or .ts module, got a '${ext || 'no extension'}' file`);
  }
  const url = TS_EXTS.includes(ext) ? await transpiledUrl(file, label) : pathToFileURL(file).href;
  const options: PluginOptions = { layout: layoutSpec(opts.layout), hostEcvTraps: opts.hostEcvTraps };
  const plugin = new ModulePlugin(spec, label, { url, options }, timeoutMs, opts);
  await plugin.start(true);
  return plugin;
}

/** Transpile a single-file TypeScript plug-in (no type checking) to a data: URL the worker imports. */
async function transpiledUrl(file: string, label: string): Promise<string> {
  type TS = typeof TsModule;
  let ts: TS;
  try {
    const m = (await import('typescript')) as TS & { default?: TS };
    ts = m.default ?? m;
  } catch {
    throw new InputError(`${label}: loading a .ts plug-in needs the 'typescript' package, which is not installed; compile the plug-in to .js (tsc) and pass the .js file`);
  }
  const source = readFileSync(file, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  const diag = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (diag) {
    const where = diag.file && diag.start !== undefined ? `:${diag.file.getLineAndCharacterOfPosition(diag.start).line + 1}` : '';
    throw new InputError(`${label}${where}: ${ts.flattenDiagnosticMessageText(diag.messageText, ' ')}`);
  }
  return 'data:text/javascript;base64,' + Buffer.from(out.outputText, 'utf8').toString('base64');
}

/** What a call's answer from the worker is. */
type Reply =
  | { readonly ok: unknown; readonly detail?: unknown; readonly detailThrew?: string; readonly key?: string; readonly keyProblem?: string }
  | { readonly threw: string }
  | { readonly uncloneable: { readonly path: string; readonly kind: string } }
  | { readonly ended: string };

/** The tail of a stream of text, by lines. */
class Tail {
  private lines: string[] = [];
  private partial = '';
  add(s: string): void {
    this.partial += s;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl).replace(/\r$/, '');
      this.partial = this.partial.slice(nl + 1);
      if (line.trim() !== '') this.lines.push(clip(line, 400));
      if (this.lines.length > KEEP_LINES) this.lines.shift();
    }
    if (this.partial.length > 4096) this.partial = this.partial.slice(-4096);
  }
  text(): string {
    const all = this.partial.trim() === '' ? this.lines : [...this.lines, this.partial];
    return clipTail(oneLine(all.slice(-KEEP_LINES).join(' | ')), 160);
  }
}

/** What the worker found the plug-in offers, once loaded. */
interface Loaded {
  readonly name?: string;
  readonly detail: boolean;
  readonly vocabulary?: 1 | 2;
  /** It has snapshot() and restore(). */
  readonly snapshots: boolean;
  /** ...and key(). */
  readonly key: boolean;
}

/** A snapshot of the plug-in: its number in the worker that keeps it, taken after `index` ops. */
class PluginState {
  constructor(readonly id: number, readonly worker: PluginWorker, readonly index: number) {}
}

/** One worker running the plug-in. */
class PluginWorker {
  readonly worker: Worker;
  readonly out = new Tail();
  readonly err = new Tail();
  private nextId = 1;
  private pending: { id: number; settle: (r: Reply) => void } | undefined;
  /** Why the worker ended (process.exit, an uncaught error, terminated), once it has. */
  ended: string | undefined;
  private uncaught: string | undefined;
  readonly loaded: Promise<Loaded | { stage: string; message: string }>;

  constructor(init: { url: string; options: PluginOptions }) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true, workerData: init, stdout: true, stderr: true,
      // A plug-in that runs out of memory ends its own thread, not nvconform.
      resourceLimits: { maxOldGenerationSizeMb: PLUGIN_HEAP_MB },
    });
    this.worker.stdout.setEncoding('utf8').on('data', (s: string) => this.out.add(s));
    this.worker.stderr.setEncoding('utf8').on('data', (s: string) => this.err.add(s));
    let loadedWith: (l: Loaded | { stage: string; message: string }) => void = () => {};
    this.loaded = new Promise((res) => {
      loadedWith = res;
      this.worker.once('message', (m: Rec) => {
        if (isObj(m.loadError)) res(m.loadError as { stage: string; message: string });
        else res(m.loaded as Loaded);
        this.worker.on('message', (r: Rec) => this.onReply(r));
      });
    });
    this.worker.on('error', (e: Error) => {
      this.uncaught = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `ran out of memory (more than ${PLUGIN_HEAP_MB} MB)` : `threw outside any call (uncaught): ${firstLine(e)}`;
    });
    this.worker.once('exit', (code) => {
      // Output written just before the end arrives after 'exit': let it in first.
      setImmediate(() => {
        this.ended ??= this.uncaught ?? `called process.exit(${code})`;
        loadedWith({ stage: 'ended', message: `${this.ended} while being loaded` });
        const p = this.pending;
        this.pending = undefined;
        p?.settle({ ended: this.ended });
      });
    });
    // The worker does not keep nvconform alive on its own; a pending call's timer does.
    this.worker.unref();
  }

  get alive(): boolean {
    return this.ended === undefined;
  }

  private onReply(r: Rec): void {
    const p = this.pending;
    if (!p || r.id !== p.id) return;
    this.pending = undefined;
    p.settle(r as Reply);
  }

  /** One call; resolves with its reply, `ended` if the worker ends, or `timedOut` (the worker is then terminated). */
  call(call: string, arg: unknown, timeoutMs: number): Promise<Reply | { timedOut: true }> {
    if (this.uncaught !== undefined || this.ended !== undefined) return Promise.resolve({ ended: this.ended ?? this.uncaught! });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        this.ended = `did not answer within ${timeoutMs} ms and was stopped`;
        void this.worker.terminate();
        resolve({ timedOut: true });
      }, timeoutMs);
      this.pending = {
        id,
        settle: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.worker.postMessage({ id, call, arg });
    });
  }

  /** `(last output: stdout: ...; stderr: ...)` of the plug-in's console, or '' if it printed nothing. */
  lastOutput(): string {
    const parts: string[] = [];
    const out = this.out.text();
    const err = this.err.text();
    if (out) parts.push(`stdout: ${out}`);
    if (err) parts.push(`stderr: ${err}`);
    return parts.length ? ` (last output: ${parts.join('; ')})` : '';
  }

  async stop(): Promise<void> {
    if (this.ended === undefined) {
      this.ended = 'closed';
      await this.worker.terminate();
    }
  }
}

/** What a field of an observation should hold, for messages about a value of the wrong type. */
const FIELD_FORM: Readonly<Record<string, string>> = {
  irq: 'a list of timer names', value: 'a "0x…" string', elapsed: 'a "0x…" string', fault: '"undefined" or "trap"',
};
const kindOf = (v: unknown): string | undefined =>
  typeof v === 'bigint' ? 'a BigInt' : typeof v === 'function' ? 'a function' : typeof v === 'symbol' ? 'a symbol' : undefined;

class ModulePlugin implements Implementation {
  name: string;
  declaration: Declaration;
  private index = 0;
  private w: PluginWorker | undefined;
  private lastDetail: { value: unknown; what: string } | undefined;
  /** The plug-in's key after the last reset, step or restore (with key()). */
  private lastKey = '';
  /** Present when the plug-in has snapshot() and restore() (and key()): the worker keeps the snapshots. */
  snapshot?: () => Promise<PluginState>;
  restore?: (s: unknown) => Promise<void>;
  key?: () => string;

  constructor(
    private readonly spec: string,
    private readonly label: string,
    private readonly init: { url: string; options: PluginOptions },
    private readonly timeoutMs: number,
    private readonly opts: ExternalOptions,
  ) {
    this.name = spec;
    this.declaration = externalDeclaration('module', opts, false);
  }

  /** Start a worker and load the plug-in in it. The first load's failures are InputErrors (not a plug-in). */
  async start(first: boolean): Promise<void> {
    const w = new PluginWorker(this.init);
    this.w = w;
    let timer: NodeJS.Timeout | undefined;
    const loaded = await Promise.race([
      w.loaded,
      new Promise<{ stage: 'timeout'; message: string }>((res) => {
        timer = setTimeout(() => res({ stage: 'timeout', message: `createImplementation() did not settle within ${this.timeoutMs} ms` }), Math.max(this.timeoutMs, 5000));
      }),
    ]);
    clearTimeout(timer);
    if ('stage' in loaded) {
      await w.stop();
      const what = loaded.stage === 'import' ? `cannot import: ${firstLine(loaded.message)}`
        : loaded.stage === 'factory' ? `createImplementation() threw: ${firstLine(loaded.message)}`
          : loaded.stage === 'ended' ? `the plug-in ${loaded.message}` : loaded.message;
      const m = `${this.label}: ${what}${w.lastOutput()}`;
      // Not a plug-in at all: exit 2. A plug-in that fails in its own code while starting: exit 1.
      if (first && (loaded.stage === 'import' || loaded.stage === 'export' || loaded.stage === 'shape')) throw new InputError(m);
      throw new ImplementationError(m);
    }
    if (first) {
      if (loaded.name) this.name = loaded.name;
      this.declaration = externalDeclaration('module', this.opts, loaded.detail, loaded.vocabulary);
      if (loaded.snapshots) {
        this.snapshot = () => this.takeSnapshot();
        this.restore = (s) => this.restoreTo(s);
      }
      if (loaded.key) this.key = () => this.lastKey;
    }
  }

  async reset(config: TraceConfig): Promise<void> {
    this.index = 0;
    this.lastDetail = undefined;
    if (!this.w || !this.w.alive) await this.start(false);
    this.keyed('reset()', await this.call('reset()', 'reset', configJson(config)));
  }

  /** snapshot(): the worker keeps what the plug-in's snapshot() returns and answers its number. */
  private async takeSnapshot(): Promise<PluginState> {
    const w = this.w!;
    const r = await this.call(`snapshot() after ${this.index === 0 ? 'reset' : `ops[${this.index - 1}]`}`, 'snapshot', undefined);
    return new PluginState(r.ok as number, w, this.index);
  }

  /** restore(s): the worker hands the kept snapshot to the plug-in's restore(). */
  private async restoreTo(s: unknown): Promise<void> {
    if (!(s instanceof PluginState)) throw new Error(`${this.label}: restore() of something that is not a snapshot`);
    const what = `restore() to the state after ${s.index === 0 ? 'reset' : `ops[${s.index - 1}]`}`;
    if (this.w !== s.worker || !s.worker.alive) throw new ImplementationError(`${this.label}: cannot ${what}: the plug-in's thread that took the snapshot has ended${s.worker.lastOutput()}`);
    this.keyed(what, await this.call(what, 'restore', s.id));
    this.index = s.index;
    this.lastDetail = undefined;
  }

  /** Keep the key that came with an answer; a key() that threw or returned a non-string fails the call. */
  private keyed(what: string, r: Extract<Reply, { ok: unknown }>): void {
    if (r.keyProblem !== undefined) throw new ImplementationError(`${this.label}: key() after ${what} ${firstLine(r.keyProblem)}${this.w!.lastOutput()}`);
    if (r.key !== undefined) this.lastKey = r.key;
  }

  async step(op: Op): Promise<Observation> {
    const i = this.index++;
    const what = `step(ops[${i}])`;
    this.lastDetail = undefined;
    const r = await this.call(what, 'step', opJson(op));
    this.keyed(what, r);
    if ('detailThrew' in r && r.detailThrew !== undefined) {
      throw new ImplementationError(`${this.label}: detail() after ops[${i}] threw: ${firstLine(r.detailThrew)}${this.w!.lastOutput()}`);
    }
    const out = r.ok;
    if (isObj(out)) {
      for (const [k, v] of Object.entries(out)) {
        const odd = kindOf(v);
        if (odd) throw new ImplementationError(`${this.label}: ${what} returned ${odd} for ${k}; expected ${FIELD_FORM[k] ?? 'no such field'}${this.w!.lastOutput()}`);
      }
    }
    const c = checkObservation(out);
    if ('problem' in c) throw new ImplementationError(`${this.label}: ${what} returned ${showValue(out)}: ${c.problem}${this.w!.lastOutput()}`);
    if (r.detail !== undefined) this.lastDetail = { value: r.detail, what: `detail() after ops[${i}]` };
    return c.ok;
  }

  detail(): StepDetail | undefined {
    const d = this.lastDetail;
    if (!d || d.value === null) return undefined;
    const r = convertDetail(d.value);
    if (typeof r === 'string') throw new ImplementationError(`${this.label}: ${d.what} returned ${showValue(d.value)}: ${r}`);
    return r;
  }

  /** The plug-in's close() is called (its errors ignored: they must not hide the result of the run), then the worker ends. */
  async close(): Promise<void> {
    const w = this.w;
    this.w = undefined;
    if (!w) return;
    if (w.alive) await w.call('close', undefined, CLOSE_MS);
    await w.stop();
  }

  private async call(what: string, call: string, arg: unknown): Promise<Extract<Reply, { ok: unknown }>> {
    const w = this.w!;
    const r = await w.call(call, arg, this.timeoutMs);
    if ('timedOut' in r) throw new ImplementationError(`${this.label}: ${what} did not settle within ${this.timeoutMs} ms (the plug-in was stopped)${w.lastOutput()}`);
    if ('ended' in r) throw new ImplementationError(`${this.label}: ${what}: the plug-in ${r.ended}${w.lastOutput()}`);
    if ('threw' in r) throw new ImplementationError(`${this.label}: ${what} threw: ${firstLine(r.threw)}${w.lastOutput()}`);
    if ('uncloneable' in r) {
      const u = r.uncloneable;
      const field = u.path.replace(/^detail\(\)\.?/, '');
      const form = u.path.startsWith('detail()') ? 'JSON data' : FIELD_FORM[u.path] ?? 'JSON data';
      throw new ImplementationError(`${this.label}: ${u.path.startsWith('detail()') ? `detail() after ${what}` : what} returned ${u.kind}${field ? ` for ${field}` : ''}; expected ${form}${w.lastOutput()}`);
    }
    return r;
  }
}

/** A plug-in's detail() in JSON form to a StepDetail, or a description of what is wrong. */
function convertDetail(d: unknown): StepDetail | string {
  if (!isObj(d)) return 'expected an object {actions, vncr?}';
  if (!Array.isArray(d.actions)) return 'actions: expected a list';
  const actions: HwAction[] = [];
  for (const [i, a] of d.actions.entries()) {
    const bad = `actions[${i}]: expected {kind: "vncr", offset, key, write} | {kind: "hw", reg, write} | {kind: "trap", why} | {kind: "undefined"} | {kind: "host", what}`;
    if (!isObj(a)) return bad;
    if (a.kind === 'vncr' && typeof a.offset === 'number' && typeof a.key === 'string' && typeof a.write === 'boolean') {
      actions.push({ kind: 'vncr', offset: a.offset, key: a.key, write: a.write });
    } else if (a.kind === 'hw' && typeof a.reg === 'string' && typeof a.write === 'boolean') {
      actions.push({ kind: 'hw', reg: a.reg, write: a.write });
    } else if (a.kind === 'trap' && typeof a.why === 'string') actions.push({ kind: 'trap', why: a.why });
    else if (a.kind === 'undefined') actions.push({ kind: 'undefined' });
    else if (a.kind === 'host' && typeof a.what === 'string') actions.push({ kind: 'host', what: a.what });
    else return bad;
  }
  const vncr: SlotChange[] = [];
  if (d.vncr !== undefined) {
    if (!Array.isArray(d.vncr)) return 'vncr: expected a list';
    for (const [i, c] of d.vncr.entries()) {
      const before = isObj(c) ? parseHex64(c.before) : undefined;
      const after = isObj(c) ? parseHex64(c.after) : undefined;
      if (!isObj(c) || typeof c.offset !== 'number' || typeof c.key !== 'string' || before === undefined || after === undefined) {
        return `vncr[${i}]: expected {offset, key, before: "0x...", after: "0x..."}`;
      }
      vncr.push({ offset: c.offset, key: c.key, before, after });
    }
  }
  return { actions, vncr };
}
