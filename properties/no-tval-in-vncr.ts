/** `no-tval-in-vncr`: the layout gives no TVAL register a slot, and no TVAL access is served from the page. */
import { hex } from '../models/arch/bits.js';
import { REGISTER_BY_NAME } from '../models/arch/registers.js';
import { opPhrase } from './why.js';
import type { Property } from './types.js';

const isTvalKey = (key: string): boolean => {
  const m = REGISTER_BY_NAME.get(key)?.vel1;
  return m?.kind === 'timer' && m.view === 'tval';
};

export const noTvalInVncr: Property = {
  name: 'no-tval-in-vncr',
  summary: 'no TVAL register has a VNCR slot, and no TVAL access is served from the page',
  staticCheck: (rc) => {
    const d = rc.declaration;
    if (!d.page) return undefined;
    const bad = [...d.layout.slots].filter(([k]) => isTvalKey(k));
    return bad.length
      ? `layout '${d.layout.name}' gives ${bad.map(([k, o]) => `${k} a slot at ${hex(BigInt(o))}`).join(' and ')}`
      : undefined;
  },
  judge: () => ({
    step: (c) => {
      const m = c.meaning;
      if (m?.kind !== 'timer' || m.view !== 'tval' || c.el !== 2) return undefined;
      const fromPage = c.detail
        ? c.detail.actions.find((a) => a.kind === 'vncr')
        : c.route?.kind === 'vncr' ? c.route : undefined;
      if (!fromPage || fromPage.kind !== 'vncr') return undefined;
      return {
        index: c.index,
        explanation: `${opPhrase(c)} was served from VNCR slot ${hex(BigInt(fromPage.offset))}: a slot is plain memory, so a TVAL held there cannot count down, and the host cannot tell it from a CVAL write`,
      };
    },
  }),
};
