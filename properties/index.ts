/** The property catalogue, keyed by name. */
import { architectural } from './architectural.js';
import { cvalTval } from './cval-tval.js';
import { deferred } from './deferred.js';
import { noTvalInVncr } from './no-tval-in-vncr.js';
import { vncrVerbatim } from './vncr-verbatim.js';
import { PROPERTY_NAMES, type Property, type PropertyName } from './types.js';

/** Every property by name: a Record, so a name without a property does not compile. */
export const PROPERTIES: Readonly<Record<PropertyName, Property>> = {
  architectural, deferred, 'cval-tval': cvalTval, 'no-tval-in-vncr': noTvalInVncr, 'vncr-verbatim': vncrVerbatim,
};

export const propertyByName = (name: PropertyName): Property => PROPERTIES[name];

export const isPropertyName = (s: string): s is PropertyName => (PROPERTY_NAMES as readonly string[]).includes(s);
export { PROPERTY_NAMES };
export type { Property, PropertyName };
