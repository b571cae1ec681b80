/**
 * The code a module plug-in runs in: a worker thread of its own (module.ts starts it with
 * `eval: true`, so it is plain JavaScript in a string, the same under tsc and under the test
 * runner). It imports the plug-in, calls its factory, and answers the main thread's calls one at
 * a time. Everything it sends is structured-cloneable by construction: a plug-in's answer holding
 * a function or a symbol is reported by path instead of posted. The plug-in's console output goes
 * to the worker's own stdout and stderr, which the main thread captures: it can neither end nor
 * corrupt nvconform's output (process.exit ends only this thread).
 *
 * Messages in: {id, call: 'reset'|'step'|'snapshot'|'restore'|'close', arg}. Out: {id: 0, loaded:
 * {name, detail, vocabulary, snapshots, key}} or {id: 0, loadError: {stage, message}} once; then
 * {id, ok, detail?, key?} | {id, threw} | {id, uncloneable}.
 *
 * Snapshots stay in the worker: `snapshot` keeps what the plug-in's snapshot() returned in a Map
 * and answers its number; `restore` (arg: a number) hands the kept value to the plug-in's
 * restore(). A plug-in with key() has its key taken after every reset, step and restore, and sent
 * with the answer (`key`, or `keyProblem`), so that the main thread can read it without a call.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');

const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isThenable = (v) => (typeof v === 'object' || typeof v === 'function') && v !== null && typeof v.then === 'function';
const message = (e) => (e instanceof Error ? e.message : typeof e === 'string' ? e : (() => { try { return JSON.stringify(e); } catch { return String(e); } })());
const shown = (v) => {
  let s;
  try { s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x + 'n' : x)); } catch { s = undefined; }
  if (s === undefined) s = typeof v === 'function' ? 'a function' : String(v);
  s = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return s.length <= 60 ? s : s.slice(0, 57) + '...';
};

/** The first value in v (depth-first, bounded) that structured clone refuses: [path, kind] or undefined. */
function uncloneable(v, path, depth) {
  if (typeof v === 'function') return [path, 'a function'];
  if (typeof v === 'symbol') return [path, 'a symbol'];
  if (typeof v !== 'object' || v === null || depth > 8) return undefined;
  for (const k of Object.keys(v)) {
    const r = uncloneable(v[k], path ? path + (Array.isArray(v) ? '[' + k + ']' : '.' + k) : k, depth + 1);
    if (r) return r;
  }
  return undefined;
}

function post(m) {
  try {
    parentPort.postMessage(m);
  } catch (e) {
    const bad = uncloneable(m.ok, '', 0) || uncloneable(m.detail, 'detail()', 0);
    parentPort.postMessage({ id: m.id, uncloneable: bad ? { path: bad[0], kind: bad[1] } : { path: '', kind: 'a value that cannot be passed (' + message(e) + ')' } });
  }
}

function findFactory(mod) {
  if (typeof mod.createImplementation === 'function') return mod.createImplementation;
  if (typeof mod.default === 'function') return mod.default;
  if (isObj(mod.default) && typeof mod.default.createImplementation === 'function') return mod.default.createImplementation.bind(mod.default);
  return undefined;
}

let obj;
async function load() {
  let mod;
  try {
    mod = await import(workerData.url);
  } catch (e) {
    return { stage: 'import', message: message(e) };
  }
  const factory = findFactory(mod);
  if (!factory) return { stage: 'export', message: 'the module exports no createImplementation function (export it by name or as the default export)' };
  try {
    obj = factory(workerData.options);
    if (isThenable(obj)) obj = await obj;
  } catch (e) {
    return { stage: 'factory', message: message(e) };
  }
  if (!isObj(obj) || typeof obj.reset !== 'function' || typeof obj.step !== 'function') {
    return { stage: 'shape', message: 'createImplementation() returned ' + shown(obj) + ', expected an object with reset(config) and step(op) methods' };
  }
  for (const m of ['detail', 'close', 'snapshot', 'restore', 'key']) {
    if (obj[m] !== undefined && typeof obj[m] !== 'function') return { stage: 'shape', message: "createImplementation() returned an object whose '" + m + "' is not a function" };
  }
  if ((typeof obj.snapshot === 'function') !== (typeof obj.restore === 'function')) {
    return { stage: 'shape', message: 'createImplementation() returned an object with ' + (obj.snapshot ? 'snapshot() but no restore()' : 'restore() but no snapshot()') + ': give both, or neither' };
  }
  if (obj.vocabulary !== undefined && obj.vocabulary !== 1 && obj.vocabulary !== 2) {
    return { stage: 'shape', message: "createImplementation() returned an object whose 'vocabulary' is " + shown(obj.vocabulary) + ', expected 1 or 2' };
  }
  return undefined;
}

const snapshots = new Map();
let lastSnapshot = 0;
/** The plug-in's key after a call that changed its state, as fields of the answer. */
function keyOf(call) {
  if (!keys || (call !== 'reset' && call !== 'step' && call !== 'restore')) return {};
  try {
    const k = obj.key();
    return typeof k === 'string' ? { key: k } : { keyProblem: 'returned ' + shown(k) + ', expected a string' };
  } catch (e) {
    return { keyProblem: 'threw: ' + message(e) };
  }
}
let keys = false;

async function call(m) {
  try {
    let r;
    if (m.call === 'snapshot') {
      r = obj.snapshot();
      if (isThenable(r)) r = await r;
      snapshots.set(++lastSnapshot, r);
      return post({ id: m.id, ok: lastSnapshot });
    }
    if (m.call === 'restore') {
      if (!snapshots.has(m.arg)) throw new Error('no snapshot ' + m.arg + ' in this worker');
      r = obj.restore(snapshots.get(m.arg));
    } else r = m.call === 'reset' ? obj.reset(m.arg) : m.call === 'step' ? obj.step(m.arg) : obj.close ? obj.close() : undefined;
    if (isThenable(r)) r = await r;
    if (m.call !== 'step') return post({ id: m.id, ok: null, ...keyOf(m.call) });
    let detail;
    if (typeof obj.detail === 'function') {
      try {
        detail = obj.detail();
      } catch (e) {
        return post({ id: m.id, ok: r, detailThrew: message(e) });
      }
    }
    post({ id: m.id, ok: r, ...(detail === undefined ? {} : { detail }), ...keyOf(m.call) });
  } catch (e) {
    post({ id: m.id, threw: message(e) });
  }
}

load().then((error) => {
  if (error) return parentPort.postMessage({ id: 0, loadError: error });
  const snap = typeof obj.snapshot === 'function' && typeof obj.restore === 'function';
  keys = snap && typeof obj.key === 'function';
  parentPort.postMessage({ id: 0, loaded: { name: typeof obj.name === 'string' ? obj.name : undefined, detail: typeof obj.detail === 'function', vocabulary: obj.vocabulary, snapshots: snap, key: keys } });
  // One call at a time, in order: the main thread waits for each answer.
  let chain = Promise.resolve();
  parentPort.on('message', (m) => {
    chain = chain.then(() => call(m));
  });
});
`;
