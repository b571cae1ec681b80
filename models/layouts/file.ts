/**
 * The layout file format, nvconform-layout/1: a JSON or YAML document naming, for some of the timer
 * registers, the byte offset of their slot in the VNCR page.
 *
 *     format: nvconform-layout/1        # required, exactly this
 *     name: my-layout                   # required, non-empty, one line ([a-z0-9-]+ recommended)
 *     description: ...                  # optional
 *     allowArchitectedOffsets: false    # optional: allow slots on offsets the architecture gives to other registers
 *     slots:                            # required, may be empty
 *       - { reg: CNTV_CVAL_EL0, offset: 0x168 }   # offset: "0x..." hex string or non-negative integer
 *
 * JSON is read as YAML (it is a subset), so both get line numbers. Every problem is reported as an
 * InputError with a one-line message `FILE:LINE: PATH: what is wrong`; nothing else is ever thrown.
 */
import {
  LineCounter,
  parseDocument,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Document,
  type YAMLMap,
} from 'yaml';
import { InputError } from '../arch/errors.js';
import { checkYamlNesting } from '../arch/nesting.js';
import { REGISTER_BY_NAME, SLOT_KEYS } from '../arch/registers.js';
import { VNCR_PAGE_BYTES, type Layout } from '../arch/layout.js';
import { architectedOffsetOf, architectedRegisterAt } from '../arch/vncr.js';

export const LAYOUT_FORMAT = 'nvconform-layout/1';

/** The largest slot offset: an 8-byte slot must lie wholly inside the page. */
export const MAX_SLOT_OFFSET = VNCR_PAGE_BYTES - 8;

const TOP_FIELDS = ['format', 'name', 'description', 'allowArchitectedOffsets', 'slots'] as const;
const SLOT_FIELDS = ['reg', 'offset'] as const;

const MAX_MESSAGE = 400;

/** The longest layout file read (a layout is a few lines; the YAML parser's work is bounded by it). */
export const MAX_LAYOUT_TEXT = 1 << 20;

/** Collapse a message to one line of bounded length. */
function oneLine(s: string): string {
  const flat = s.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '?');
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 3)}...` : flat;
}

/** A user-supplied string, quoted and shortened for a message. */
function q(s: string): string {
  const t = s.length > 48 ? `${s.slice(0, 45)}...` : s;
  return JSON.stringify(t);
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Levenshtein distance, for "did you mean" on field names. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? Infinity;
}

function suggestField(name: string, fields: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const exact = fields.find((f) => f.toLowerCase() === lower);
  if (exact) return exact;
  let best: string | undefined;
  let bestD = 3;
  for (const f of fields) {
    const d = distance(lower, f.toLowerCase());
    if (d < bestD) [best, bestD] = [f, d];
  }
  return best;
}

/** The node kinds we look at; everything else the yaml package can produce is "unsupported". */
type AnyNode = unknown;

/** What a node is, for "expected X, got Y". */
function describe(node: AnyNode): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return `the string ${q(v)}`;
    if (typeof v === 'number' || typeof v === 'bigint') return `the number ${oneLine(node.source ?? String(v))}`;
    if (typeof v === 'boolean') return String(v);
    return 'an unsupported value';
  }
  return 'an unsupported value';
}

interface Field {
  /** The key node (for the line of "unknown field"). */
  readonly key: AnyNode;
  /** The value node as written, or the key if there is none (an alias stays an alias: its line is where it is used). */
  readonly at: AnyNode;
  /** The value node with aliases resolved. */
  readonly value: AnyNode;
}

class Parser {
  constructor(
    readonly source: string,
    readonly doc: Document.Parsed,
    readonly lines: LineCounter,
  ) {}

  line(node: AnyNode): number | undefined {
    const range = (node as { range?: unknown } | null | undefined)?.range;
    if (!Array.isArray(range) || typeof range[0] !== 'number') return undefined;
    return this.lines.linePos(range[0]).line;
  }

  fail(node: AnyNode, path: string, message: string): never {
    const line = this.line(node);
    const where = line === undefined ? this.source : `${this.source}:${line}`;
    throw new InputError(oneLine(`${where}: ${path ? `${path}: ` : ''}${message}`));
  }

  /** Resolve an alias to the node it names (anchors are on nodes, so one step suffices; loop defensively). */
  deref(node: AnyNode): AnyNode {
    let n = node;
    for (let i = 0; i < 8 && isAlias(n); i++) n = n.resolve(this.doc) ?? null;
    return isAlias(n) ? null : n;
  }

  /** Reject a duplicate key anywhere in the document (iteratively: deep nesting must not overflow the stack). */
  checkDuplicateKeys(root: AnyNode): void {
    const stack: Array<{ node: AnyNode; path: string }> = [{ node: root, path: '' }];
    while (stack.length > 0) {
      const { node, path } = stack.pop()!;
      if (isMap(node)) {
        const seen = new Map<string, AnyNode>();
        for (const pair of node.items) {
          const key = pair.key;
          if (isScalar(key) && (typeof key.value !== 'object' || key.value === null)) {
            const id = `${typeof key.value}:${String(key.value)}`;
            const first = seen.get(id);
            const shown = typeof key.value === 'string' ? q(key.value) : String(key.value);
            if (first !== undefined) {
              const firstLine = this.line(first);
              this.fail(key, path, `duplicate key ${shown}${firstLine === undefined ? '' : ` (first on line ${firstLine})`}`);
            }
            seen.set(id, key);
            const name = typeof key.value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key.value) ? key.value : `[${shown}]`;
            stack.push({ node: pair.value, path: path ? `${path}.${name}` : name });
          } else {
            stack.push({ node: pair.value, path });
          }
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => stack.push({ node: item, path: `${path}[${i}]` }));
      }
    }
  }

  /**
   * The fields of a mapping, by name; the first key that is not a known field is reported.
   * `via`: the alias through which the mapping was reached, if any; errors then point at the alias
   * (where the user wrote the value) rather than at the anchored original.
   */
  fields(map: YAMLMap, path: string, known: readonly string[], what: string, via?: AnyNode): Map<string, Field> {
    const out = new Map<string, Field>();
    const unknown: Array<{ key: AnyNode; name: string }> = [];
    for (const pair of map.items) {
      const key = pair.key;
      const name = isScalar(key) && typeof key.value === 'string' ? key.value : undefined;
      if (name !== undefined && known.includes(name)) out.set(name, { key: via ?? key, at: via ?? pair.value ?? key, value: this.deref(pair.value) });
      else unknown.push({ key, name: name ?? describe(key) });
    }
    const bad = unknown[0];
    if (bad) {
      const hint = isScalar(bad.key) && typeof bad.key.value === 'string' ? suggestField(bad.key.value, known) : undefined;
      const shown = isScalar(bad.key) && typeof bad.key.value === 'string' ? q(bad.key.value) : bad.name;
      this.fail(
        via ?? bad.key,
        path,
        `unknown field ${shown}${hint ? ` (did you mean "${hint}"?)` : ''}; ${what} has the fields ${known.join(', ')}`,
      );
    }
    return out;
  }

  parse(): Layout {
    const root = this.deref(this.doc.contents);
    if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) {
      this.fail(undefined, '', `empty layout file; expected a mapping with format: ${LAYOUT_FORMAT}, name and slots`);
    }
    if (!isMap(root)) {
      this.fail(root, '', `expected a mapping with format: ${LAYOUT_FORMAT}, name and slots at the top level, got ${describe(root)}`);
    }
    this.checkDuplicateKeys(root);

    // The format first: a file of another kind is best told so, rather than about its fields.
    const formatKey = root.items.find((p) => isScalar(p.key) && p.key.value === 'format');
    if (!formatKey) this.fail(root, 'format', `missing; a layout file starts with format: ${LAYOUT_FORMAT}`);
    const format = this.deref(formatKey.value);
    if (!(isScalar(format) && format.value === LAYOUT_FORMAT)) {
      this.fail(formatKey.value ?? formatKey.key, 'format', `expected "${LAYOUT_FORMAT}", got ${describe(format)}`);
    }

    const f = this.fields(root, '', TOP_FIELDS, 'a layout');

    const nameF = f.get('name');
    if (!nameF) this.fail(root, 'name', 'missing; give the layout a name (e.g. name: my-layout)');
    const name = this.str(nameF, 'name');
    if (name.trim() === '') this.fail(nameF.at, 'name', 'must not be empty');
    if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(name)) this.fail(nameF.at, 'name', 'must be one line without control characters');

    const descF = f.get('description');
    const description = descF ? this.str(descF, 'description') : '';

    const allowF = f.get('allowArchitectedOffsets');
    let allowArchitected = false;
    if (allowF) {
      if (!(isScalar(allowF.value) && typeof allowF.value.value === 'boolean')) {
        this.fail(allowF.at, 'allowArchitectedOffsets', `expected true or false, got ${describe(allowF.value)}`);
      }
      allowArchitected = allowF.value.value;
    }

    const slotsF = f.get('slots');
    if (!slotsF) this.fail(root, 'slots', 'missing; list the slots (slots: [] for a layout where every access traps)');
    if (!isSeq(slotsF.value)) this.fail(slotsF.at, 'slots', `expected a list of {reg, offset}, got ${describe(slotsF.value)}`);

    const slots = new Map<string, number>();
    const byReg = new Map<string, { index: number; node: AnyNode }>();
    const byOffset = new Map<number, { index: number; reg: string; node: AnyNode }>();
    const slotsVia = isAlias(slotsF.at) ? slotsF.at : undefined;
    slotsF.value.items.forEach((item, index) => {
      const path = `slots[${index}]`;
      const slot = this.deref(item);
      const via = slotsVia ?? (isAlias(item) ? item : undefined);
      if (!isMap(slot)) this.fail(via ?? item, path, `expected a mapping like {reg: CNTV_CVAL_EL0, offset: "0x168"}, got ${describe(slot)}`);
      const sf = this.fields(slot, path, SLOT_FIELDS, 'a slot', via);

      const regF = sf.get('reg');
      if (!regF) this.fail(via ?? slot, `${path}.reg`, 'missing; name the register the slot holds');
      const reg = this.register(regF, `${path}.reg`);
      const again = byReg.get(reg);
      if (again) {
        this.fail(regF.at, `${path}.reg`, `${reg} has two slots: slots[${again.index}]${this.onLine(again.node, ' (line ', ')')} and slots[${index}]`);
      }
      byReg.set(reg, { index, node: regF.at });

      const offF = sf.get('offset');
      if (!offF) this.fail(via ?? slot, `${path}.offset`, `missing; give ${reg}'s byte offset in the VNCR page (e.g. "0x168")`);
      const offset = this.offset(offF, `${path}.offset`);
      const shared = byOffset.get(offset);
      if (shared) {
        this.fail(
          offF.at,
          `${path}.offset`,
          `${hex(offset)} holds two registers: ${shared.reg} (slots[${shared.index}]${this.onLine(shared.node)}) and ${reg} (slots[${index}])`,
        );
      }
      byOffset.set(offset, { index, reg, node: offF.at });

      const owner = architectedRegisterAt(offset);
      if (owner !== undefined && owner !== reg && !allowArchitected) {
        this.fail(
          offF.at,
          `${path}.offset`,
          `${hex(offset)} is the architected VNCR offset of ${owner}, not of ${reg}; use a free offset, or set "allowArchitectedOffsets": true`,
        );
      }
      slots.set(reg, offset);
    });

    return { name, description, slots, source: this.source };
  }

  onLine(node: AnyNode, before = ', line ', after = ''): string {
    const l = this.line(node);
    return l === undefined ? '' : `${before}${l}${after}`;
  }

  str(field: Field, path: string): string {
    const v = field.value;
    if (!(isScalar(v) && typeof v.value === 'string')) this.fail(field.at, path, `expected a string, got ${describe(v)}`);
    return v.value;
  }

  register(field: Field, path: string): string {
    const v = field.value;
    const may = `registers that may have a slot: ${SLOT_KEYS.join(', ')}`;
    if (!(isScalar(v) && typeof v.value === 'string')) this.fail(field.at, path, `expected a register name, got ${describe(v)}; ${may}`);
    const reg = v.value;
    if (SLOT_KEYS.includes(reg)) return reg;
    const upper = reg.trim().toUpperCase();
    let why: string;
    if (SLOT_KEYS.includes(upper)) {
      why = `unknown register ${q(reg)}; did you mean "${upper}"? (register names are upper case)`;
    } else if (/_EL02$/.test(upper) && SLOT_KEYS.includes(upper.slice(0, -1))) {
      why = `${q(reg)} is an EL02 alias; its slot is the one of "${upper.slice(0, -1)}"`;
    } else if (REGISTER_BY_NAME.has(upper)) {
      why = `${upper} cannot have a VNCR slot in this model`;
    } else if (architectedOffsetOf(upper) !== undefined) {
      why = `${upper} is in the VNCR page (at ${hex(architectedOffsetOf(upper)!)}) but is not a register nvconform models`;
    } else {
      why = `unknown register ${q(reg)}`;
    }
    this.fail(field.at, path, `${why}; ${may}`);
  }

  offset(field: Field, path: string): number {
    const v = field.value;
    const expected = 'expected a hex string like "0x168" or a non-negative integer';
    if (!isScalar(v)) this.fail(field.at, path, `${expected}, got ${describe(v)}`);
    const raw = v.value;
    let n: number;
    let shown: string;
    if (typeof raw === 'string') {
      if (!/^0[xX][0-9a-fA-F]+$/.test(raw)) this.fail(field.at, path, `${q(raw)} is not an offset; ${expected}`);
      const digits = raw.slice(2).replace(/^0+(?=.)/, '');
      n = digits.length > 12 ? Infinity : parseInt(digits, 16);
      shown = raw.length > 24 ? `${raw.slice(0, 21)}...` : raw;
    } else if (typeof raw === 'number' || typeof raw === 'bigint') {
      const src = oneLine(v.source ?? String(raw));
      shown = src.length > 24 ? `${src.slice(0, 21)}...` : src;
      n = Number(raw);
      if (!Number.isFinite(n) || !Number.isInteger(n)) this.fail(field.at, path, `${shown} is not an offset; ${expected}`);
      if (Number.isSafeInteger(n) && n >= 0 && !/^0[xX]/.test(shown)) shown = `${shown} (${hex(n)})`;
    } else {
      this.fail(field.at, path, `${expected}, got ${describe(v)}`);
    }
    if (n < 0) this.fail(field.at, path, `${shown} is negative; offsets lie in the 4 KiB VNCR page (0x0..${hex(MAX_SLOT_OFFSET)})`);
    if (n > MAX_SLOT_OFFSET) this.fail(field.at, path, `${shown} is outside the 4 KiB VNCR page (0x0..${hex(MAX_SLOT_OFFSET)})`);
    if (n % 8 !== 0) this.fail(field.at, path, `${shown} is not 8-byte aligned`);
    return n + 0; // -0 -> 0
  }
}

/** Parse and check a layout file's text. `source` names the file in messages. Throws only InputError. */
export function parseLayoutText(text: string, source: string): Layout {
  if (text.length > MAX_LAYOUT_TEXT) throw new InputError(`${source}: larger than ${MAX_LAYOUT_TEXT >> 10} KiB; a layout file is a few lines`);
  // Before the YAML parser, which recurses: deep nesting must be an input error, not a crash.
  checkYamlNesting(String(text), source);
  try {
    const lines = new LineCounter();
    const doc = parseDocument(String(text), { lineCounter: lines, uniqueKeys: false, prettyErrors: false, version: '1.2' });
    const err = doc.errors[0];
    if (err) {
      const pos = lines.linePos(err.pos[0]);
      const msg = err.code === 'MULTIPLE_DOCS' ? 'more than one YAML document (---); a layout file holds one' : err.message;
      throw new InputError(oneLine(`${source}:${pos.line}: syntax error at column ${pos.col}: ${msg}`));
    }
    return new Parser(source, doc, lines).parse();
  } catch (e) {
    if (e instanceof InputError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new InputError(oneLine(`${source}: cannot read layout: ${msg}`));
  }
}
