/**
 * The EndpointSlice and Endpoints controllers of kube-controller-manager, as
 * one pass over a cluster's watch cache, for every Service with a selector
 * (not ExternalName):
 *
 * - EndpointSlices (discovery.k8s.io/v1) `<service>-<random>`, labels
 *   kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by
 *   endpointslice-controller.k8s.io (plus the Service's labels), owned by the
 *   Service; one endpoint per pod with an IP that is not terminal:
 *   conditions ready (Ready and not terminating, or publishNotReadyAddresses),
 *   serving (Ready) and terminating (deletionTimestamp), targetRef, nodeName,
 *   zone (the node's topology.kubernetes.io/zone), hostname (pod hostname
 *   under a subdomain equal to the Service name); ports resolved per pod
 *   (named targetPorts looked up in the pod's containers), pods with the same
 *   resolved ports share slices of at most 100 endpoints;
 * - the Endpoints object of the same name: ready pods in addresses, not-ready
 *   ones in notReadyAddresses, terminating pods left out (unless
 *   publishNotReadyAddresses), subsets grouped by port set, at most 1000
 *   addresses (then the endpoints.kubernetes.io/over-capacity annotation);
 *   Endpoints whose Service is gone are deleted.
 *
 * - the EndpointSlice mirroring controller: a Service without selector whose
 *   Endpoints object a user wrote gets slices managed by
 *   endpointslicemirroring-controller.k8s.io, owned by the Endpoints (not
 *   for Endpoints labelled endpointslice.kubernetes.io/skip-mirror=true).
 *
 * Not done yet: topology hints, dual-stack (IPv6 slices), the 1000-address
 * limit of mirroring.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { generateName, timestamp } from '../../kube/apiserver/registry/generic-store.ts';
import { labelSelectorFromObject, matchLabels } from '../../kube/apiserver/selectors.ts';
import { isPodReady } from '../../kube/controllers/deployment/rollout.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MAX_ENDPOINTS_PER_SLICE = 100;
export const MAX_ENDPOINTS_ADDRESSES = 1000;
const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** resolvePort finds the pod's port for a Service port (podutil.FindPort): a number, or a named container port. */
export function resolvePort(pod: KObject, sp: Record<string, any>): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(String(tp))) return Number(tp);
  const proto = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === proto) return p.containerPort;
  }
  return undefined;
}

/** The ports of a Service whose target ports are all numbers: the same for every pod. */
function fixedPorts(svc: KObject): SlicePort[] | undefined {
  const ports: any[] = svc.spec?.ports ?? [];
  if (ports.some((sp) => typeof (sp.targetPort ?? sp.port) === 'string' && !/^\d+$/.test(sp.targetPort))) return undefined;
  return ports.map((sp) => ({ name: sp.name ?? '', port: Number(sp.targetPort ?? sp.port), protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) }));
}

function podPorts(svc: KObject, pod: KObject): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolvePort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** Pods a Service selects that belong in its endpoints (upstream ShouldPodBeInEndpoints with terminating pods kept for slices). */
export function servicePods(svc: KObject, pods: KObject[]): KObject[] {
  const sel = labelSelectorFromObject({ matchLabels: svc.spec?.selector ?? {} });
  if (!sel) return [];
  return pods.filter((p) => {
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return false;
    if (!p.status?.podIP) return false;
    return matchLabels(sel, p.metadata?.labels);
  });
}

/** desiredSlices computes the EndpointSlices' addressType/endpoints/ports of a Service (pure). */
export function desiredSlices(svc: KObject, pods: KObject[], nodeZone: (node: string) => string | undefined): Array<{ ports: SlicePort[]; endpoints: Record<string, any>[] }> {
  const publish = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, { ports: SlicePort[]; endpoints: Record<string, any>[] }>();
  const sorted = servicePods(svc, pods).sort((a, b) => cmp(a.metadata!.name!, b.metadata!.name!));
  const fixed = fixedPorts(svc);
  const fixedKey = fixed && JSON.stringify(fixed);
  for (const pod of sorted) {
    if (String(pod.status.podIP).includes(':')) continue; // IPv4 slices only
    const ports = fixed ?? podPorts(svc, pod);
    const key = fixedKey ?? JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    const terminating = !!pod.metadata?.deletionTimestamp;
    const ready = isPodReady(pod);
    const m = pod.metadata!;
    const zone = pod.spec?.nodeName ? nodeZone(pod.spec.nodeName) : undefined;
    g.endpoints.push({
      addresses: [pod.status.podIP],
      conditions: { ready: publish || (ready && !terminating), serving: publish || ready, terminating },
      ...(pod.spec?.hostname && pod.spec?.subdomain === svc.metadata?.name ? { hostname: pod.spec.hostname } : {}),
      targetRef: { kind: 'Pod', namespace: m.namespace, name: m.name, uid: m.uid },
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      ...(zone ? { zone } : {}),
    });
  }
  const out: Array<{ ports: SlicePort[]; endpoints: Record<string, any>[] }> = [];
  for (const g of groups.values()) {
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) out.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  // A Service selecting nothing still has one (empty) slice.
  if (out.length === 0) out.push({ ports: [], endpoints: [] });
  return out;
}

/** desiredSubsets computes the Endpoints object's subsets of a Service (pure; upstream's RepackSubsets order). */
export function desiredSubsets(svc: KObject, pods: KObject[]): { subsets: Record<string, any>[]; overCapacity: boolean } {
  const publish = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, { ports: SlicePort[]; addresses: any[]; notReadyAddresses: any[] }>();
  let total = 0;
  let overCapacity = false;
  const headless = svc.spec?.clusterIP === 'None';
  // Upstream's RepackSubsets order: by IP (as a string), then pod uid.
  const sorted = servicePods(svc, pods).sort((a, b) => cmp(a.status.podIP, b.status.podIP) || cmp(a.metadata!.uid!, b.metadata!.uid!));
  for (const pod of sorted) {
    if (pod.metadata?.deletionTimestamp && !publish) continue;
    const ports = (svc.spec?.ports ?? []).length === 0 ? (headless ? [] : undefined) : podPorts(svc, pod);
    if (ports === undefined || (ports.length === 0 && !headless)) continue;
    if (total >= MAX_ENDPOINTS_ADDRESSES) {
      overCapacity = true;
      break;
    }
    total++;
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, addresses: [], notReadyAddresses: [] }));
    const m = pod.metadata!;
    const addr = {
      ip: pod.status.podIP,
      ...(pod.spec?.hostname && pod.spec?.subdomain === svc.metadata?.name ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: m.namespace, name: m.name, uid: m.uid },
    };
    if (publish || isPodReady(pod)) g.addresses.push(addr);
    else g.notReadyAddresses.push(addr);
  }
  const subsets: Record<string, any>[] = [];
  for (const g of groups.values()) {
    const s: Record<string, any> = {};
    if (g.addresses.length) s.addresses = g.addresses;
    if (g.notReadyAddresses.length) s.notReadyAddresses = g.notReadyAddresses;
    if (g.ports.length) s.ports = [...g.ports].sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port);
    subsets.push(s);
  }
  return { subsets, overCapacity };
}

function serviceLabels(svc: KObject): Record<string, string> {
  const l: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') l['service.kubernetes.io/headless'] = '';
  return l;
}

type Res = NonNullable<ReturnType<ClusterRegistry['scheme']['get']>>;

/** Writes the slices of one Service: slices that match stay, others are rewritten in place, the difference is created or deleted. */
function reconcileSlices(
  reg: ClusterRegistry,
  sliceRes: Res,
  ns: string,
  service: string,
  want: Array<{ ports: SlicePort[]; endpoints: Record<string, any>[] }>,
  have: KObject[],
  labels: Record<string, string>,
  owner: Record<string, unknown>[],
  manager: string,
  now: string,
  onFail: () => void,
  log: { warn(o: object, msg?: string): void },
): Promise<unknown>[] {
  const jobs: Promise<unknown>[] = [];
  const same = (s: KObject, w: { ports: SlicePort[]; endpoints: any[] }) =>
    JSON.stringify(s.endpoints ?? []) === JSON.stringify(w.endpoints) && JSON.stringify(s.ports ?? []) === JSON.stringify(w.ports) && JSON.stringify(s.metadata?.labels ?? {}) === JSON.stringify(labels);
  const unmatchedWant = want.filter((w) => !have.some((s) => same(s, w)));
  const unmatchedHave = have.filter((s) => !want.some((w) => same(s, w)));
  for (let i = 0; i < Math.max(unmatchedWant.length, unmatchedHave.length); i++) {
    const w = unmatchedWant[i];
    const s = unmatchedHave[i];
    if (w && s) {
      jobs.push(
        reg
          .guaranteedUpdate(sliceRes, ns, s.metadata!.name!, (cur) => {
            if (!cur || cur.metadata?.uid !== s.metadata!.uid) throw new Error('slice replaced');
            const next = structuredClone(cur);
            next.metadata!.resourceVersion = '';
            next.metadata!.labels = labels;
            next.endpoints = w.endpoints;
            next.ports = w.ports;
            return next;
          }, { fieldManager: manager })
          .catch((err) => {
            onFail();
            log.warn({ err, service }, 'endpointslice update failed');
          }),
      );
    } else if (w) {
      jobs.push(
        reg
          .create(sliceRes, ns, {
            apiVersion: 'discovery.k8s.io/v1',
            kind: 'EndpointSlice',
            metadata: { name: generateName(`${service}-`), namespace: ns, labels, annotations: { [TRIGGER_TIME_ANNOTATION]: now }, ownerReferences: owner },
            addressType: 'IPv4',
            endpoints: w.endpoints,
            ports: w.ports,
          }, { fieldManager: manager })
          .catch((err) => {
            onFail();
            log.warn({ err, service }, 'endpointslice create failed');
          }),
      );
    } else if (s) {
      jobs.push(reg.delete(sliceRes, ns, s.metadata!.name!, { preconditions: { uid: s.metadata!.uid } }).catch(() => {}));
    }
  }
  return jobs;
}

/** The EndpointSlice mirroring controller's manager name. */
export const MIRROR_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';

/**
 * mirroredSlices: the slices the mirroring controller makes of a custom
 * Endpoints object (a Service without selector): one group per subset,
 * ready addresses ready, notReadyAddresses not, IPv4 only, 100 per slice.
 */
export function mirroredSlices(ep: KObject): Array<{ ports: SlicePort[]; endpoints: Record<string, any>[] }> {
  const out: Array<{ ports: SlicePort[]; endpoints: Record<string, any>[] }> = [];
  for (const ss of ep.subsets ?? []) {
    const ports: SlicePort[] = (ss.ports ?? []).map((p: any) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
    const toEp = (a: any, ready: boolean) => ({
      addresses: [a.ip],
      conditions: { ready },
      ...(a.hostname ? { hostname: a.hostname } : {}),
      ...(a.targetRef ? { targetRef: a.targetRef } : {}),
      ...(a.nodeName ? { nodeName: a.nodeName } : {}),
    });
    const eps = [...(ss.addresses ?? []).map((a: any) => toEp(a, true)), ...(ss.notReadyAddresses ?? []).map((a: any) => toEp(a, false))].filter((e) => !String(e.addresses[0]).includes(':'));
    for (let i = 0; i < eps.length; i += MAX_ENDPOINTS_PER_SLICE) out.push({ ports, endpoints: eps.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  return out;
}

/** The EndpointSlices one controller manages, by `<namespace>/<service>`. */
function slicesByService(reg: ClusterRegistry, manager: string): Map<string, KObject[]> {
  const out = new Map<string, KObject[]>();
  for (const e of reg.cache.list('discovery.k8s.io/endpointslices', '')) {
    const s = e.obj;
    if (s.metadata?.labels?.[MANAGED_BY_LABEL] !== manager) continue;
    const key = `${s.metadata!.namespace}/${s.metadata!.labels?.[SERVICE_NAME_LABEL]}`;
    const l = out.get(key) ?? [];
    l.push(s);
    out.set(key, l);
  }
  return out;
}

/** The mirroring controller: slices for the custom Endpoints of Services without a selector. */
function syncMirroring(reg: ClusterRegistry, sliceRes: Res, svcRes: Res, now: string, log: { warn(o: object, msg?: string): void }): Promise<unknown>[] {
  const jobs: Promise<unknown>[] = [];
  const mirrored = slicesByService(reg, MIRROR_CONTROLLER);
  const done = new Set<string>();
  for (const e of reg.cache.list('endpoints', '')) {
    const ep = e.obj;
    const ns = ep.metadata!.namespace!;
    const name = ep.metadata!.name!;
    const svc = reg.cache.get(reg.keyFor(svcRes, ns, name))?.obj;
    if (!svc || svc.metadata?.deletionTimestamp || (svc.spec?.selector && Object.keys(svc.spec.selector).length > 0)) continue;
    if (ep.metadata?.labels?.['endpointslice.kubernetes.io/skip-mirror'] === 'true') continue;
    const key = `${ns}/${name}`;
    done.add(key);
    const labels: Record<string, string> = { ...(ep.metadata?.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MIRROR_CONTROLLER };
    const owner = [{ apiVersion: 'v1', kind: 'Endpoints', name, uid: ep.metadata!.uid, controller: true, blockOwnerDeletion: true }];
    const have = [...(mirrored.get(key) ?? [])].sort((a, b) => cmp(a.metadata!.name!, b.metadata!.name!));
    jobs.push(...reconcileSlices(reg, sliceRes, ns, name, mirroredSlices(ep), have, labels, owner, MIRROR_CONTROLLER, now, () => {}, log));
  }
  for (const [key, l] of mirrored) {
    if (done.has(key)) continue;
    for (const s of l) jobs.push(reg.delete(sliceRes, s.metadata!.namespace!, s.metadata!.name!, { preconditions: { uid: s.metadata!.uid } }).catch(() => {}));
  }
  return jobs;
}

/** Per cluster registry: service key -> signature of the inputs last reconciled (skip unchanged services). */
const lastSeen = new WeakMap<object, Map<string, string>>();

/** syncEndpoints runs one reconcile of the EndpointSlices and Endpoints of every Service of the cluster. */
export async function syncEndpoints(ctx: Pick<ControllerContext, 'reg' | 'nowMs' | 'log'>): Promise<void> {
  const { reg } = ctx;
  const svcRes = reg.scheme.get('', 'v1', 'services');
  const epRes = reg.scheme.get('', 'v1', 'endpoints');
  const sliceRes = reg.scheme.get('discovery.k8s.io', 'v1', 'endpointslices');
  if (!svcRes || !epRes || !sliceRes) return;
  const serviceEntries = reg.cache.list('services', '');
  const services = serviceEntries.map((e) => e.obj);
  const svcRev = new Map(serviceEntries.map((e) => [`${e.obj.metadata!.namespace}/${e.obj.metadata!.name}`, e.rev]));
  const podsByNs = new Map<string, KObject[]>();
  const nsRev = new Map<string, number>();
  for (const e of reg.cache.list('pods', '')) {
    const ns = e.obj.metadata!.namespace!;
    const l = podsByNs.get(ns) ?? [];
    l.push(e.obj);
    podsByNs.set(ns, l);
    if (e.rev > (nsRev.get(ns) ?? 0)) nsRev.set(ns, e.rev);
  }
  let seen = lastSeen.get(reg);
  if (!seen) lastSeen.set(reg, (seen = new Map()));
  const nodesRev = reg.cache.list('nodes', '').reduce((m, e) => Math.max(m, e.rev), 0);
  const zones = new Map<string, string | undefined>();
  for (const e of reg.cache.list('nodes', '')) zones.set(e.obj.metadata!.name!, e.obj.metadata?.labels?.['topology.kubernetes.io/zone']);
  const slicesBySvc = slicesByService(reg, SLICE_CONTROLLER);
  const now = timestamp(new Date(ctx.nowMs));
  const jobs: Promise<unknown>[] = [];
  const wanted = new Set<string>();
  for (const svc of services) {
    const m = svc.metadata!;
    const ns = m.namespace!;
    if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0 || svc.spec?.type === 'ExternalName' || m.deletionTimestamp) continue;
    const skey = `${ns}/${m.name}`;
    wanted.add(skey);
    const pods = podsByNs.get(ns) ?? [];
    // Nothing this Service's endpoints depend on changed since the last pass: skip it.
    const have0 = slicesBySvc.get(skey) ?? [];
    const epEntry = reg.cache.get(reg.keyFor(epRes, ns, m.name!));
    const inputs = `${svcRev.get(skey)}|${pods.length}|${nsRev.get(ns) ?? 0}|${nodesRev}|${have0.map((x) => x.metadata!.resourceVersion).join(',')}|${epEntry?.rev ?? 0}`;
    if (seen.get(skey) === inputs) continue;
    seen.set(skey, inputs);
    // EndpointSlices.
    const want = desiredSlices(svc, pods, (n) => zones.get(n));
    const have = [...(slicesBySvc.get(`${ns}/${m.name}`) ?? [])].sort((a, b) => String(a.metadata!.name).localeCompare(String(b.metadata!.name)));
    const labels = { ...serviceLabels(svc), [SERVICE_NAME_LABEL]: m.name!, [MANAGED_BY_LABEL]: SLICE_CONTROLLER };
    const owner = [{ apiVersion: 'v1', kind: 'Service', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }];
    jobs.push(...reconcileSlices(reg, sliceRes, ns, m.name!, want, have, labels, owner, SLICE_CONTROLLER, now, () => seen!.delete(skey), ctx.log));
    // Endpoints.
    const { subsets, overCapacity } = desiredSubsets(svc, pods);
    const cur = reg.cache.get(reg.keyFor(epRes, ns, m.name!))?.obj;
    const epLabels = serviceLabels(svc);
    const overNow = cur?.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION] === 'truncated';
    if (cur && JSON.stringify(cur.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(cur.metadata?.labels ?? {}) === JSON.stringify(epLabels) && overNow === overCapacity) continue;
    if (cur?.metadata?.labels?.['endpointslice.kubernetes.io/skip-mirror'] === 'true' && !cur.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION]) continue;
    jobs.push(
      reg
        .guaranteedUpdate(epRes, ns, m.name!, (c) => {
          const next: KObject = c ? structuredClone(c) : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: m.name, namespace: ns } };
          next.metadata!.resourceVersion = '';
          next.metadata!.labels = epLabels;
          const ann: Record<string, string> = { ...(next.metadata!.annotations ?? {}), [TRIGGER_TIME_ANNOTATION]: now };
          if (overCapacity) ann[OVER_CAPACITY_ANNOTATION] = 'truncated';
          else delete ann[OVER_CAPACITY_ANNOTATION];
          next.metadata!.annotations = ann;
          if (subsets.length) next.subsets = subsets;
          else delete next.subsets;
          return next;
        }, { fieldManager: 'endpoint-controller', createIfMissing: true })
        .catch((err) => {
          seen!.delete(skey);
          ctx.log.warn({ err, service: m.name }, 'endpoints update failed');
        }),
    );
  }
  jobs.push(...syncMirroring(reg, sliceRes, svcRes, now, ctx.log));
  // Endpoints this controller wrote whose Service is gone.
  for (const e of reg.cache.list('endpoints', '')) {
    const o = e.obj;
    const key = `${o.metadata!.namespace}/${o.metadata!.name}`;
    if (wanted.has(key) || !o.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION]) continue;
    const svc = reg.cache.get(reg.keyFor(svcRes, o.metadata!.namespace!, o.metadata!.name!))?.obj;
    if (svc && !svc.metadata?.deletionTimestamp && svc.spec?.selector && Object.keys(svc.spec.selector).length > 0) continue;
    if (svc && !svc.spec?.selector) continue; // a selector-less Service's Endpoints belong to its user
    jobs.push(reg.delete(epRes, o.metadata!.namespace!, o.metadata!.name!, { preconditions: { uid: o.metadata!.uid } }).catch(() => {}));
  }
  await Promise.all(jobs);
}

/** The EndpointSlice and Endpoints controllers, as the data plane loop runs them. */
export const endpointsController: WorkloadController = {
  name: 'endpoints',
  resources: ['services', 'pods', 'endpoints'],
  sync: syncEndpoints,
};
