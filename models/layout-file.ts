/** The layout file format, nvconform-layout/1 (minimal parser; replaced by the full validator). */
import { InputError } from '../src/errors.js';
import { SLOT_KEYS } from './registers.js';
import { VNCR_PAGE_BYTES, type Layout } from './layout.js';

export function parseLayoutText(text: string, source: string): Layout {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const d = doc as { format?: unknown; name?: unknown; description?: unknown; slots?: unknown };
  if (typeof d !== 'object' || d === null || d.format !== 'nvconform-layout/1') throw new InputError(`${source}: format: expected "nvconform-layout/1"`);
  if (typeof d.name !== 'string') throw new InputError(`${source}: name: expected a string`);
  if (!Array.isArray(d.slots)) throw new InputError(`${source}: slots: expected a list`);
  const slots = new Map<string, number>();
  d.slots.forEach((s: { reg?: unknown; offset?: unknown }, i: number) => {
    if (typeof s?.reg !== 'string' || !SLOT_KEYS.includes(s.reg)) throw new InputError(`${source}: slots[${i}].reg: unknown register ${JSON.stringify(s?.reg)}`);
    const off = typeof s.offset === 'string' && /^0x[0-9a-fA-F]+$/.test(s.offset) ? parseInt(s.offset, 16) : NaN;
    if (!(off >= 0 && off < VNCR_PAGE_BYTES && off % 8 === 0)) throw new InputError(`${source}: slots[${i}].offset: expected an 8-byte aligned offset in the 4 KiB page`);
    slots.set(s.reg, off);
  });
  return { name: d.name, description: typeof d.description === 'string' ? d.description : '', slots, source };
}
