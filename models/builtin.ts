/** Registers the built-in implementation models with the engine: `nv2` and the FEAT_NV-only `nv`. */
import { registerBuiltin, type ImplOptions } from '../src/engine/registry.js';
import type { Layout } from './layout.js';
import { loadLayout } from './layout-load.js';
import { Nv2Model } from './nv2/nv2.js';

const layoutOf = (o: ImplOptions): Layout => (typeof o.layout === 'string' ? loadLayout(o.layout) : o.layout);

registerBuiltin('nv2', (o) => new Nv2Model({ layout: layoutOf(o), hostEcvTraps: o.hostEcvTraps }));
registerBuiltin('nv', (o) => new Nv2Model({ layout: layoutOf(o), nv2: false, hostEcvTraps: o.hostEcvTraps }));
