/**
 * What the NV2 architecture implies for an implementation, from its declaration alone: how the
 * hardware routes the guest hypervisor's accesses under the host policy it declares, and which
 * timers it holds in its VNCR page. The properties judge external implementations by this, so it
 * depends on nothing but the declaration, the trace's config and the architecture's tables.
 */
import type { Declaration } from '../arch/implementation.js';
import { REGISTER_TABLE, featureTest } from '../arch/registers.js';
import type { TraceConfig } from '../arch/vocabulary.js';
import type { RouteTable } from './routing.js';
import { timerMap, type HostSetup, type TimerMap } from './host/timer-map.js';

const SETUPS = new WeakMap<Declaration, Map<string, HostSetup>>();

/** The host setup a declaration implies for a guest mode and feature set (stable objects, so maps are cached). */
export function declaredSetup(d: Declaration, config: Pick<TraceConfig, 'guest' | 'features'>): HostSetup {
  let byKey = SETUPS.get(d);
  if (!byKey) SETUPS.set(d, (byKey = new Map<string, HostSetup>()));
  const k = `${config.guest} ${config.features.join(',')}`;
  let s = byKey.get(k);
  if (!s) {
    const guestHas = featureTest(config.features);
    s = {
      table: REGISTER_TABLE, guest: config.guest, guestHas,
      physEcv: guestHas('ecv') || d.host.ecvTraps, nv2: d.page, layout: d.layout, policy: { ecvTraps: d.host.ecvTraps },
    };
    byKey.set(k, s);
  }
  return s;
}

/** The guest hypervisor's context as the declaration implies it, with all guest offsets zero. */
export function declaredVel2Map(d: Declaration, config: Pick<TraceConfig, 'guest' | 'features'>): TimerMap {
  return timerMap(declaredSetup(d, config), 2, { cntvoff: 0n, poff: 0n, cnthctl: 0n });
}

/** Per timer: its CTL or CVAL is served from the VNCR page while the guest hypervisor runs. */
export const pageHeldTimers = (d: Declaration, config: Pick<TraceConfig, 'guest' | 'features'>): readonly boolean[] =>
  declaredVel2Map(d, config).pageHeld;

/** How the hardware routes the guest hypervisor's accesses. */
export const declaredVel2Routes = (d: Declaration, config: Pick<TraceConfig, 'guest' | 'features'>): RouteTable =>
  declaredVel2Map(d, config).routes;
