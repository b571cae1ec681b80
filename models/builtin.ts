/** Registers the built-in implementation models with the engine: `nv2` and the FEAT_NV-only `nv`. */
import { registerBuiltin } from '../src/engine/registry.js';
import { loadLayout } from './layout-load.js';
import { Nv2Model } from './nv2/nv2.js';

registerBuiltin('nv2', (o) => new Nv2Model({ layout: loadLayout(o.layout), hostEcvTraps: o.hostEcvTraps }));
registerBuiltin('nv', (o) => new Nv2Model({ layout: loadLayout(o.layout), nv2: false, hostEcvTraps: o.hostEcvTraps }));
