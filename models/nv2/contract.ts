/**
 * What the NV2 architecture implies for an implementation, from its declaration alone: how the
 * hardware routes the guest hypervisor's accesses under the host policy it declares, and which
 * timers it holds in its VNCR page. The properties judge external implementations by this, so it
 * depends on nothing but the declaration, the trace's config and the architecture's tables.
 */
import { HOST_FEATURES, type Declaration } from '../arch/implementation.js';
import { REGISTER_TABLE, featureTest } from '../arch/registers.js';
import { cpuFeatures, setupKey, type TraceConfig } from '../arch/vocabulary.js';
import type { RouteTable } from './routing.js';
import { hostPolicy } from './host/policy.js';
import { timerMap, type HostSetup, type TimerMap } from './host/timer-map.js';

const SETUPS = new WeakMap<Declaration, Map<number, HostSetup>>();

/** The host setup a declaration implies for a guest mode and feature set (stable objects, so maps are cached). */
export function declaredSetup(d: Declaration, config: Pick<TraceConfig, 'guest' | 'features' | 'absent'>): HostSetup {
  let byKey = SETUPS.get(d);
  if (!byKey) SETUPS.set(d, (byKey = new Map<number, HostSetup>()));
  const k = setupKey(config);
  const hit = byKey.get(k);
  if (hit) return hit;
  const s: HostSetup = {
    table: REGISTER_TABLE, guest: config.guest, guestHas: featureTest(cpuFeatures(config)),
    phys: d.host.cpu ?? HOST_FEATURES, nv2: d.page, layout: d.layout, policy: hostPolicy(d.host.profile ?? 'exact', d.host.ecvTraps),
    counterOffset: d.host.counterOffset ?? 0n,
  };
  byKey.set(k, s);
  return s;
}

/** The guest hypervisor's context as the declaration implies it, with all guest offsets zero. */
export function declaredVel2Map(d: Declaration, config: Pick<TraceConfig, 'guest' | 'features' | 'absent'>): TimerMap {
  return timerMap(declaredSetup(d, config), 2, { cntvoff: 0n, poff: 0n, cnthctl: 0n });
}

/** Per timer: its CTL or CVAL is served from the VNCR page while the guest hypervisor runs. */
export const pageHeldTimers = (d: Declaration, config: Pick<TraceConfig, 'guest' | 'features' | 'absent'>): readonly boolean[] =>
  declaredVel2Map(d, config).pageHeld;

/** How the hardware routes the guest hypervisor's accesses. */
export const declaredVel2Routes = (d: Declaration, config: Pick<TraceConfig, 'guest' | 'features' | 'absent'>): RouteTable =>
  declaredVel2Map(d, config).routes;
