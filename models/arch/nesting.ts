/**
 * Nesting limits for every document nvconform reads (traces, suites, tokens, layout files),
 * checked before parsing so that a deeply nested input (`[` × 100,000) is a one-line input error
 * with its position, never a stack overflow. Both scans are iterative and skip strings.
 */
import { InputError } from './errors.js';

/** Deeper than this, a document is not one nvconform writes or could need (a trace is 3 levels deep). */
export const MAX_NESTING = 64;

/** Line and column (1-based) of offset `at` in `text`. */
export function position(text: string, at: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: at - start + 1 };
}

function tooDeep(text: string, at: number, source: string, what: 'JSON' | 'YAML', max: number): never {
  const p = position(text, at);
  // YAML is read for layout files, whose messages are `FILE:LINE: ...` (models/layouts/file.ts).
  throw new InputError(what === 'JSON'
    ? `${source}:${p.line}:${p.col}: JSON nested deeper than ${max} levels`
    : `${source}:${p.line}: syntax error at column ${p.col}: nested deeper than ${max} levels`);
}

/** InputError `SOURCE:LINE:COL: JSON nested deeper than 64 levels` at the first bracket too deep. */
export function checkJsonNesting(text: string, source: string, max = MAX_NESTING): void {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) tooDeep(text, i, source, 'JSON', max);
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
}

/**
 * The same for YAML (of which JSON is a subset), by an estimate that never undercounts: flow
 * brackets outside quotes and comments, plus the block levels opened by indentation and by
 * compact sequence or key indicators (`- - x`, `? `) at the start of a line.
 */
export function checkYamlNesting(text: string, source: string, max = MAX_NESTING): void {
  const indents: number[] = [];
  let flow = 0;
  let lineStart = 0;
  const n = text.length;
  while (lineStart <= n) {
    let end = text.indexOf('\n', lineStart);
    if (end < 0) end = n;
    // Block structure: only outside flow collections.
    let i = lineStart;
    while (i < end && (text[i] === ' ' || text[i] === '\t')) i++;
    const indent = i - lineStart;
    const blank = i >= end || text[i] === '#' || text[i] === '\r';
    if (flow === 0 && !blank) {
      while (indents.length && indents[indents.length - 1]! > indent) indents.pop();
      if (!indents.length || indents[indents.length - 1]! < indent) indents.push(indent);
      let compact = 0;
      while (i + 1 < end && (text[i] === '-' || text[i] === '?') && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
        compact++;
        i += 2;
        while (i < end && (text[i] === ' ' || text[i] === '\t')) i++;
      }
      if (indents.length + compact > max) tooDeep(text, i, source, 'YAML', max);
    }
    // Flow brackets, outside quotes and comments.
    for (let j = i; j < end; j++) {
      const c = text[j];
      if (c === '"') {
        for (j++; j < end && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      } else if (c === "'") {
        for (j++; j < end; j++) {
          if (text[j] === "'") {
            if (text[j + 1] === "'") j++;
            else break;
          }
        }
      } else if (c === '#' && (j === lineStart || text[j - 1] === ' ' || text[j - 1] === '\t')) {
        break;
      } else if (c === '[' || c === '{') {
        if (indents.length + ++flow > max) tooDeep(text, j, source, 'YAML', max);
      } else if ((c === ']' || c === '}') && flow > 0) {
        flow--;
      }
    }
    lineStart = end + 1;
  }
}
