/** `architectural`: every observation is one the architecture allows. */
import { agrees, difference } from './compare.js';
import { opPhrase, servedPhrase, timerState, timersIn } from './why.js';
import type { OpContext, Property, Violation } from './types.js';

export function divergence(c: OpContext, suffix = ''): Violation {
  const how = servedPhrase(c);
  const facts: string[] = [];
  if (c.meaning?.kind === 'timer' && c.exp.value !== undefined) facts.push(timerState(c.ref, c.meaning.timer));
  for (const t of timersIn(c.exp.irq ^ c.obs.irq)) facts.push(timerState(c.ref, t));
  const f = [...new Set(facts)];
  return {
    index: c.index,
    explanation: `${opPhrase(c)}${how ? `, ${how},` : ''} gave ${difference(c.exp, c.obs)}` +
      (f.length ? ` (${f.join('; ')})` : '') + suffix,
  };
}

export const architectural: Property = {
  name: 'architectural',
  summary: 'every observation is allowed by the architectural reference (UNKNOWN bits excepted)',
  judge: () => ({
    step: (c) => (agrees(c.exp, c.obs) ? undefined : divergence(c)),
  }),
};
