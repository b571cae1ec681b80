/**
 * Errors the tool reports to a user. Every one becomes a single line on stderr and an exit
 * status: 2 for bad input or usage, 1 for an implementation under test that misbehaved. Anything
 * else thrown is nvconform's own failure: exit status 3 with a crash report (src/cli/crash.ts).
 */
export class NvcError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 2) {
    super(message);
    this.name = 'NvcError';
  }
}

/** Bad input: a malformed trace, layout or suite file, a wrong flag. Exit status 2. */
export class InputError extends NvcError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'InputError';
  }
}

/** An implementation under test (plug-in or process) broke its contract. Exit status 1 when it is the thing being checked. */
export class ImplementationError extends NvcError {
  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message, exitCode);
    this.name = 'ImplementationError';
  }
}

/**
 * The default branch of a switch over a closed union: `default: return unreachable(x, 'view')`.
 * `x: never` makes the compiler name any case the switch forgot; at run time (a value from
 * outside the type system) it fails loudly.
 */
export function unreachable(x: never, what: string): never {
  const shown = typeof x === 'object' && x !== null ? String((x as { kind?: unknown; op?: unknown }).kind ?? (x as { op?: unknown }).op) : String(x);
  throw new Error(`unknown ${what} ${shown}`);
}
