/** The property catalogue, keyed by name. */
import { match } from 'ts-pattern';
import { architectural } from './architectural.js';
import { cvalTval } from './cval-tval.js';
import { deferred } from './deferred.js';
import { noTvalInVncr } from './no-tval-in-vncr.js';
import { vncrVerbatim } from './vncr-verbatim.js';
import { PROPERTY_NAMES, type Property, type PropertyName } from './types.js';

export function propertyByName(name: PropertyName): Property {
  return match(name)
    .with('architectural', () => architectural)
    .with('deferred', () => deferred)
    .with('cval-tval', () => cvalTval)
    .with('no-tval-in-vncr', () => noTvalInVncr)
    .with('vncr-verbatim', () => vncrVerbatim)
    .exhaustive();
}

export const isPropertyName = (s: string): s is PropertyName => (PROPERTY_NAMES as readonly string[]).includes(s);
export { PROPERTY_NAMES };
export type { Property, PropertyName };
