/** File and stdout helpers for the CLI, with errors that name the file. */
import { readFileSync, writeFileSync } from 'node:fs';
import { InputError } from '../../models/arch/errors.js';
import type { Trace } from '../../models/arch/vocabulary.js';
import { parseTraceText } from '../trace/parse.js';
import { decodeToken, isToken } from '../trace/token.js';

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message})`);
  }
}

export function writeText(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new InputError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A trace from a file path, or from a replay token. */
export function loadTrace(arg: string): Trace {
  return isToken(arg) ? decodeToken(arg) : parseTraceText(readText(arg), arg);
}
