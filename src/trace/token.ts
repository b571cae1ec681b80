/**
 * Replay tokens: a whole counterexample in one opaque, copy-pasteable word: the trace's config
 * and ops and, for a check's counterexample, the implementation options and the property.
 * `nvc1:` + base64url(deflate-raw(compact JSON)). Observations are not carried: replay recomputes them.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { InputError } from '../../models/arch/errors.js';
import { checkJsonNesting, MAX_NESTING } from '../../models/arch/nesting.js';
import { configJson, opJson } from './format.js';
import { parseTraceValue } from './parse.js';
import { TRACE_FORMAT, type Trace } from '../../models/arch/vocabulary.js';

export const TOKEN_PREFIX = 'nvc1:';

/** A token's decompressed text is at most this long (a decompression bomb is an input error, not an out-of-memory). */
export const MAX_TOKEN_TEXT = 64 << 20;

/** Extra data a token may carry (opaque to this module beyond being JSON). */
export type TokenExtra = object;

export function encodeToken(t: Pick<Trace, 'config' | 'ops'>, extra?: TokenExtra): string {
  const compact = JSON.stringify({ c: configJson(t.config), o: t.ops.map(opJson), ...(extra ? { x: extra } : {}) });
  return TOKEN_PREFIX + deflateRawSync(Buffer.from(compact, 'utf8'), { level: 9 }).toString('base64url');
}

export function isToken(s: string): boolean {
  return s.startsWith(TOKEN_PREFIX);
}

export interface DecodedToken extends Trace {
  readonly extra?: TokenExtra;
}

export function decodeToken(token: string): DecodedToken {
  if (!isToken(token)) throw new InputError(`replay token: expected a token starting with '${TOKEN_PREFIX}'`);
  const body = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw new InputError(`replay token: not base64url after '${TOKEN_PREFIX}'`);
  let text: string;
  try {
    text = inflateRawSync(Buffer.from(body, 'base64url'), { maxOutputLength: MAX_TOKEN_TEXT }).toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new InputError(`replay token: more than ${MAX_TOKEN_TEXT >> 20} MiB when decompressed`);
    throw new InputError(`replay token: corrupt (truncated or mistyped?)`);
  }
  try {
    checkJsonNesting(text, 'replay token');
  } catch {
    throw new InputError(`replay token: corrupt (JSON nested deeper than ${MAX_NESTING} levels)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InputError(`replay token: corrupt (truncated or mistyped?)`);
  }
  const d = doc as { c?: unknown; o?: unknown; x?: unknown } | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new InputError(`replay token: corrupt (not a trace)`);
  let trace: Trace;
  try {
    trace = parseTraceValue({ format: TRACE_FORMAT, config: d.c, ops: d.o });
  } catch (e) {
    throw new InputError(`replay token: ${(e as Error).message}`);
  }
  if (d.x === undefined) return trace;
  if (typeof d.x !== 'object' || d.x === null || Array.isArray(d.x)) throw new InputError(`replay token: corrupt (bad options)`);
  return { ...trace, extra: d.x };
}
