/**
 * Module plug-ins: an implementation under test written as a JavaScript (or TypeScript) module
 * that speaks the trace format's JSON forms (docs/plugins.md). The module is imported once per
 * implementation instance; its `createImplementation(options)` makes the object we drive.
 *
 * Errors: a module that cannot be found, imported or has no factory, or a factory result without
 * reset/step, is an InputError (exit 2: it is not a plug-in). Anything the plug-in does wrong while
 * running (throwing, returning a malformed observation, not settling in time) is an
 * ImplementationError (exit 1) naming the op.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as TsModule from 'typescript';
import { parseHex64 } from '../../models/arch/bits.js';
import { ImplementationError, InputError } from '../../models/arch/errors.js';
import type { Declaration, HwAction, Implementation, SlotChange, StepDetail } from '../../models/arch/implementation.js';
import type { Observation, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { layoutSpec } from '../../models/layouts/load.js';
import { configJson, opJson } from '../trace/format.js';
import { checkObservation, externalDeclaration, firstLine, resolveTimeoutMs, showValue, type ExternalOptions } from './common.js';

/** The options object a plug-in's `createImplementation` receives. */
export interface PluginOptions {
  readonly layout: string;
  readonly hostEcvTraps: boolean;
}

/** What a plug-in's factory returns, as we see it before checking it. */
interface PluginObject {
  name?: unknown;
  reset: (config: Record<string, unknown>) => unknown;
  step: (op: Record<string, unknown>) => unknown;
  detail?: () => unknown;
  close?: () => unknown;
}

const JS_EXTS = ['.js', '.mjs', '.cjs'];
const TS_EXTS = ['.ts', '.mts'];

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';

/** Load the module plug-in at `spec` (a path relative to the working directory) and wrap it. */
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
  const mod = TS_EXTS.includes(ext) ? await importTypeScript(file, label) : await importModule(pathToFileURL(file).href, label);
  const factory = findFactory(mod);
  if (!factory) {
    throw new InputError(`${label}: the module exports no createImplementation function (export it by name or as the default export)`);
  }
  const options: PluginOptions = { layout: layoutSpec(opts.layout), hostEcvTraps: opts.hostEcvTraps };
  let obj: unknown;
  try {
    obj = await settle(factory(options), timeoutMs, `${label}: createImplementation() did not settle within ${timeoutMs} ms`);
  } catch (e) {
    if (e instanceof ImplementationError) throw e;
    throw new ImplementationError(`${label}: createImplementation() threw: ${firstLine(e)}`);
  }
  if (!isObj(obj) || typeof obj.reset !== 'function' || typeof obj.step !== 'function') {
    throw new InputError(`${label}: createImplementation() returned ${showValue(obj, 60)}, expected an object with reset(config) and step(op) methods`);
  }
  if (obj.vocabulary !== undefined && obj.vocabulary !== 1 && obj.vocabulary !== 2) {
    throw new InputError(`${label}: createImplementation() returned an object whose 'vocabulary' is ${showValue(obj.vocabulary, 30)}, expected 1 or 2`);
  }
  for (const m of ['detail', 'close'] as const) {
    if (obj[m] !== undefined && typeof obj[m] !== 'function') {
      throw new InputError(`${label}: createImplementation() returned an object whose '${m}' is not a function`);
    }
  }
  return new ModulePlugin(spec, label, obj as unknown as PluginObject, timeoutMs, externalDeclaration('module', opts, typeof obj.detail === 'function', obj.vocabulary as 1 | 2 | undefined));
}

async function importModule(url: string, label: string): Promise<Rec> {
  try {
    return (await import(url)) as Rec;
  } catch (e) {
    throw new InputError(`${label}: cannot import: ${firstLine(e)}`);
  }
}

/** Transpile a single-file TypeScript plug-in to a temporary .mjs file and import that. */
async function importTypeScript(file: string, label: string): Promise<Rec> {
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
  const dir = mkdtempSync(join(tmpdir(), 'nvconform-plugin-'));
  const tmp = join(dir, basename(file).replace(/\.m?ts$/i, '') + '.mjs');
  try {
    writeFileSync(tmp, out.outputText);
    return await importModule(pathToFileURL(tmp).href, label);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function findFactory(mod: Rec): ((o: PluginOptions) => unknown) | undefined {
  const named = mod.createImplementation;
  if (typeof named === 'function') return named as (o: PluginOptions) => unknown;
  const def = mod.default;
  if (typeof def === 'function') return def as (o: PluginOptions) => unknown;
  if (isObj(def) && typeof def.createImplementation === 'function') {
    return (def.createImplementation as (o: PluginOptions) => unknown).bind(def);
  }
  return undefined;
}

/** `v`, awaited if it is a promise, failing with ImplementationError(`late`) if it does not settle in time. */
async function settle(v: unknown, ms: number, late: string): Promise<unknown> {
  if (!isThenable(v)) return v;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      v,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ImplementationError(late)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

class ModulePlugin implements Implementation {
  readonly name: string;
  private index = 0;

  constructor(
    spec: string,
    private readonly label: string,
    private readonly obj: PluginObject,
    private readonly timeoutMs: number,
    readonly declaration: Declaration,
  ) {
    this.name = typeof obj.name === 'string' && obj.name !== '' ? obj.name : spec;
  }

  async reset(config: TraceConfig): Promise<void> {
    this.index = 0;
    await this.call('reset()', () => this.obj.reset(configJson(config)));
  }

  async step(op: Op): Promise<Observation> {
    const i = this.index++;
    const what = `step(ops[${i}])`;
    const out = await this.call(what, () => this.obj.step(opJson(op)));
    const r = checkObservation(out);
    if ('problem' in r) throw new ImplementationError(`${this.label}: ${what} returned ${showValue(out)}: ${r.problem}`);
    return r.ok;
  }

  detail(): StepDetail | undefined {
    if (!this.obj.detail) return undefined;
    const what = `detail() after ops[${this.index - 1}]`;
    let d: unknown;
    try {
      d = this.obj.detail();
    } catch (e) {
      throw new ImplementationError(`${this.label}: ${what} threw: ${firstLine(e)}`);
    }
    if (d === undefined || d === null) return undefined;
    const r = convertDetail(d);
    if (typeof r === 'string') throw new ImplementationError(`${this.label}: ${what} returned ${showValue(d)}: ${r}`);
    return r;
  }

  /** Errors from a plug-in's close() are ignored: they must not hide the result of the run. */
  async close(): Promise<void> {
    if (!this.obj.close) return;
    try {
      await settle(this.obj.close(), this.timeoutMs, 'close');
    } catch {
      /* ignored */
    }
  }

  private async call(what: string, f: () => unknown): Promise<unknown> {
    try {
      return await settle(f(), this.timeoutMs, `${this.label}: ${what} did not settle within ${this.timeoutMs} ms`);
    } catch (e) {
      if (e instanceof ImplementationError) throw e;
      throw new ImplementationError(`${this.label}: ${what} threw: ${firstLine(e)}`);
    }
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
