/**
 * Replay tokens: a whole trace (config and ops) in one opaque, copy-pasteable word.
 * `nvc1:` + base64url(deflate-raw(compact JSON)). Observations are not carried: replay recomputes them.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { configJson, opJson } from './format.js';
import { parseTraceValue } from './parse.js';
import { TRACE_FORMAT, type Trace } from './types.js';

export const TOKEN_PREFIX = 'nvc1:';

export function encodeToken(t: Pick<Trace, 'config' | 'ops'>): string {
  const compact = JSON.stringify({ c: configJson(t.config), o: t.ops.map(opJson) });
  return TOKEN_PREFIX + deflateRawSync(Buffer.from(compact, 'utf8'), { level: 9 }).toString('base64url');
}

export function isToken(s: string): boolean {
  return s.startsWith(TOKEN_PREFIX);
}

export function decodeToken(token: string): Trace {
  if (!isToken(token)) throw new InputError(`replay token: expected a token starting with '${TOKEN_PREFIX}'`);
  const body = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw new InputError(`replay token: not base64url after '${TOKEN_PREFIX}'`);
  let doc: unknown;
  try {
    doc = JSON.parse(inflateRawSync(Buffer.from(body, 'base64url')).toString('utf8'));
  } catch {
    throw new InputError(`replay token: corrupt (truncated or mistyped?)`);
  }
  const d = doc as { c?: unknown; o?: unknown } | null;
  if (typeof d !== 'object' || d === null) throw new InputError(`replay token: corrupt (not a trace)`);
  try {
    return parseTraceValue({ format: TRACE_FORMAT, config: d.c, ops: d.o });
  } catch (e) {
    throw new InputError(`replay token: ${(e as Error).message}`);
  }
}
