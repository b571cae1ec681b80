/**
 * Splitting an `exec:` command into words the way a POSIX shell does for simple quoting, without
 * running a shell: words are separated by blanks; '...' quotes everything literally; "..." quotes
 * everything except \" \\ \$ \` (a backslash before anything else stays); outside quotes a
 * backslash quotes the next character. No variables, globs, pipes or redirections.
 */
import { InputError } from '../../models/arch/errors.js';

export function splitCommand(command: string, where: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = command.length;
  while (i < n) {
    const c = command[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new InputError(`${where}: unterminated ' quote in command`);
      word += command.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = command[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && '"\\$`'.includes(command[i + 1]!)) {
          word += command[i + 1]!;
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) throw new InputError(`${where}: unterminated " quote in command`);
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= n) throw new InputError(`${where}: command ends with a lone backslash`);
      word += command[i + 1]!;
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new InputError(`${where}: expected a command after 'exec:'`);
  return words;
}
