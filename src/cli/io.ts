/** File and stdout helpers for the CLI, with errors that name the file. */
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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

/**
 * Check, before anything runs, that --out FILE (or `flag` FILE) can be written: its directory exists and is
 * writable, and FILE is not a directory. InputError otherwise.
 */
export function checkOutPath(path: string, flag = '--out'): void {
  const dir = dirname(resolve(path));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new InputError(`${flag} ${path}: no such directory: ${dirname(path)}`);
  }
  if (!st.isDirectory()) throw new InputError(`${flag} ${path}: ${dirname(path)} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`${flag} ${path}: cannot write in ${dirname(path)} (permission denied)`);
  }
  try {
    if (statSync(path).isDirectory()) throw new InputError(`${flag} ${path}: is a directory; give a file name`);
  } catch (e) {
    if (e instanceof InputError) throw e; // else it does not exist yet: fine
  }
}

/** A trace from a file path, or from a replay token. */
export function loadTrace(arg: string): Trace {
  return isToken(arg) ? decodeToken(arg) : parseTraceText(readText(arg), arg);
}
