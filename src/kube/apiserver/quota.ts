/**
 * LimitRanger and ResourceQuota admission, and the quota controller that
 * keeps ResourceQuota status.used current.
 *  - LimitRanger: Container limits of LimitRanges default pod containers'
 *    requests/limits (annotating the pod as upstream does) and enforce
 *    min/max;
 *  - ResourceQuota: creates that would exceed a quota's hard limits are
 *    rejected with upstream's "exceeded quota" message.
 */
import type { KObject } from '../api/types.ts';
import type { Resource } from '../api/scheme.ts';
import { newForbidden } from './errors.ts';
import type { ClusterRegistry } from './registry/generic-store.ts';

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** Parses a resource.Quantity ("500m", "128Mi", "1e3") to a number. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(String(q ?? '').trim());
  if (!m) return NaN;
  const mult = SUFFIX[m[2]!];
  return mult === undefined ? NaN : Number(m[1]) * mult;
}

/** Formats a number back as a quantity in the style of the given unit (cpu → m, memory → bytes). */
function formatQuantity(v: number, resource: string): string {
  if (/cpu$/.test(resource)) return Number.isInteger(v) ? String(v) : `${Math.round(v * 1000)}m`;
  if (/memory$|storage$/.test(resource)) {
    for (const [s, m] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) if (v >= m && v % m === 0) return `${v / m}${s}`;
  }
  return String(Math.round(v * 1000) / 1000);
}

function containersOf(pod: KObject): any[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

/** LimitRanger: defaults and min/max of Container limits. */
export function admitLimitRanges(reg: ClusterRegistry, pod: KObject): void {
  const ns = pod.metadata?.namespace ?? '';
  const ranges = reg.cache.list('limitranges', ns).map((e) => e.obj);
  if (ranges.length === 0) return;
  const notes: string[] = [];
  const errs: string[] = [];
  for (const lr of ranges) {
    for (const lim of lr.spec?.limits ?? []) {
      if (lim.type !== 'Container') continue;
      for (const c of pod.spec?.containers ?? []) {
        c.resources ??= {};
        const setReq: string[] = [];
        const setLim: string[] = [];
        for (const [k, v] of Object.entries(lim.default ?? {})) {
          c.resources.limits ??= {};
          if (c.resources.limits[k] === undefined) {
            c.resources.limits[k] = v;
            setLim.push(k);
          }
        }
        for (const [k, v] of Object.entries(lim.defaultRequest ?? lim.default ?? {})) {
          c.resources.requests ??= {};
          if (c.resources.requests[k] === undefined) {
            c.resources.requests[k] = c.resources.limits?.[k] !== undefined && lim.defaultRequest?.[k] === undefined ? c.resources.limits[k] : v;
            setReq.push(k);
          }
        }
        if (setReq.length) notes.push(`${setReq.join(', ')} request for container ${c.name}`);
        if (setLim.length) notes.push(`${setLim.join(', ')} limit for container ${c.name}`);
        for (const [k, max] of Object.entries(lim.max ?? {})) {
          const l = c.resources.limits?.[k];
          if (l === undefined) errs.push(`maximum ${k} usage per Container is ${max}.  No limit is specified`);
          else if (parseQuantity(l) > parseQuantity(max)) errs.push(`maximum ${k} usage per Container is ${max}, but limit is ${l}`);
        }
        for (const [k, min] of Object.entries(lim.min ?? {})) {
          const r = c.resources.requests?.[k];
          if (r === undefined) errs.push(`minimum ${k} usage per Container is ${min}.  No request is specified`);
          else if (parseQuantity(r) < parseQuantity(min)) errs.push(`minimum ${k} usage per Container is ${min}, but request is ${r}`);
        }
      }
    }
  }
  if (errs.length) throw newForbidden({ group: "", resource: "pods" }, pod.metadata?.name ?? "", errs.length === 1 ? errs[0]! : `[${errs.join(", ")}]`);
  if (notes.length) pod.metadata!.annotations = { ...(pod.metadata!.annotations ?? {}), 'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${notes.join('; ')}` };
}

/**
 * LimitRange admission of a PersistentVolumeClaim (create and update, as
 * upstream's LimitRanger): `type: PersistentVolumeClaim` limits bound the
 * storage request.
 */
export function admitPvcLimitRanges(reg: ClusterRegistry, pvc: KObject): void {
  const ns = pvc.metadata?.namespace ?? '';
  const ranges = reg.cache.list('limitranges', ns).map((e) => e.obj);
  if (ranges.length === 0) return;
  const errs: string[] = [];
  const requests: Record<string, unknown> = pvc.spec?.resources?.requests ?? {};
  for (const lr of ranges) {
    for (const lim of lr.spec?.limits ?? []) {
      if (lim.type !== 'PersistentVolumeClaim') continue;
      for (const [k, min] of Object.entries(lim.min ?? {})) {
        const r = requests[k];
        if (r === undefined) errs.push(`minimum ${k} usage per PersistentVolumeClaim is ${min}.  No request is specified`);
        else if (parseQuantity(r) < parseQuantity(min)) errs.push(`minimum ${k} usage per PersistentVolumeClaim is ${min}, but request is ${r}`);
      }
      for (const [k, max] of Object.entries(lim.max ?? {})) {
        const r = requests[k];
        if (r === undefined) errs.push(`maximum ${k} usage per PersistentVolumeClaim is ${max}.  No request is specified`);
        else if (parseQuantity(r) > parseQuantity(max)) errs.push(`maximum ${k} usage per PersistentVolumeClaim is ${max}, but request is ${r}`);
      }
    }
  }
  if (errs.length) throw newForbidden({ group: '', resource: 'persistentvolumeclaims' }, pvc.metadata?.name ?? '', errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`);
}

/** Object-count quota names of a storage resource. */
function countNames(storageResource: string): string[] {
  const [a, b] = storageResource.includes('/') ? storageResource.split('/') : ['', storageResource];
  const group = b === undefined ? '' : a!;
  const res = b ?? a!;
  const names = [group ? `count/${res}.${group}` : `count/${res}`];
  const legacy: Record<string, string> = { pods: 'pods', services: 'services', configmaps: 'configmaps', secrets: 'secrets', persistentvolumeclaims: 'persistentvolumeclaims', replicationcontrollers: 'replicationcontrollers', resourcequotas: 'resourcequotas' };
  if (!group && legacy[res]) names.push(legacy[res]!);
  return names;
}

function podUsage(pod: KObject): Record<string, number> {
  const u: Record<string, number> = {};
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return u;
  for (const c of pod.spec?.containers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) {
      const n = parseQuantity(v);
      u[`requests.${k}`] = (u[`requests.${k}`] ?? 0) + n;
      if (k === 'cpu' || k === 'memory') u[k] = (u[k] ?? 0) + n;
    }
    for (const [k, v] of Object.entries(c.resources?.limits ?? {})) u[`limits.${k}`] = (u[`limits.${k}`] ?? 0) + parseQuantity(v);
  }
  return u;
}

/** Usage of everything a quota can track in a namespace, from the cache. */
export function namespaceUsage(reg: ClusterRegistry, ns: string): Record<string, number> {
  const used: Record<string, number> = {};
  const seen = new Set<string>();
  for (const r of reg.scheme.all()) {
    if (!r.namespaced || r.virtual || seen.has(r.storageResource)) continue;
    seen.add(r.storageResource);
    const items = reg.cache.list(r.storageResource, ns);
    let n = items.length;
    if (r.storageResource === 'pods') n = items.filter((e) => !['Succeeded', 'Failed'].includes(e.obj.status?.phase)).length;
    for (const name of countNames(r.storageResource)) used[name] = n;
    if (r.storageResource === 'pods') for (const e of items) for (const [k, v] of Object.entries(podUsage(e.obj))) used[k] = (used[k] ?? 0) + v;
    if (r.storageResource === 'services') {
      used['services.nodeports'] = items.reduce((s, e) => s + (e.obj.spec?.ports ?? []).filter((p: any) => p.nodePort).length, 0);
      used['services.loadbalancers'] = items.filter((e) => e.obj.spec?.type === 'LoadBalancer').length;
    }
    if (r.storageResource === 'persistentvolumeclaims') used['requests.storage'] = items.reduce((s, e) => s + parseQuantity(e.obj.spec?.resources?.requests?.storage ?? 0), 0);
  }
  return used;
}

/** ResourceQuota admission of a create, or of an update (old given: charged for the increase only). */
export function admitQuota(reg: ClusterRegistry, res: Resource, obj: KObject, old?: KObject): void {
  if (!res.namespaced) return;
  const ns = obj.metadata?.namespace ?? '';
  const quotas = reg.cache.list('resourcequotas', ns).map((e) => e.obj);
  if (quotas.length === 0) return;
  const usage = (o: KObject): Record<string, number> => {
    const u: Record<string, number> = {};
    if (res.storageResource === 'pods') Object.assign(u, podUsage(o));
    if (res.storageResource === 'services') {
      u['services.nodeports'] = (o.spec?.ports ?? []).filter((p: any) => p.nodePort).length;
      u['services.loadbalancers'] = o.spec?.type === 'LoadBalancer' ? 1 : 0;
    }
    if (res.storageResource === 'persistentvolumeclaims') u['requests.storage'] = parseQuantity(o.spec?.resources?.requests?.storage ?? 0);
    return u;
  };
  const delta: Record<string, number> = {};
  if (!old) {
    for (const n of countNames(res.storageResource)) delta[n] = 1;
    Object.assign(delta, usage(obj));
  } else {
    // An update is charged only for what it adds (upstream evaluates new minus old usage; counts do not change).
    const before = usage(old);
    for (const [k, v] of Object.entries(usage(obj))) if (v - (before[k] ?? 0) > 0) delta[k] = v - (before[k] ?? 0);
    if (Object.keys(delta).length === 0) return;
  }
  let used: Record<string, number> | undefined;
  for (const q of quotas) {
    const hard: Record<string, unknown> = q.spec?.hard ?? {};
    const tracked = Object.keys(hard).filter((k) => delta[k] !== undefined || (!old && res.storageResource === 'pods' && /^(requests|limits)\.(cpu|memory)$|^(cpu|memory)$/.test(k)));
    if (tracked.length === 0) continue;
    if (res.storageResource === 'pods' && !old) {
      const missing = tracked.filter((k) => /^(requests\.|limits\.)?(cpu|memory)$/.test(k) && delta[k] === undefined);
      if (missing.length) throw newForbidden(res, obj.metadata?.name ?? '', `failed quota: ${q.metadata!.name}: must specify ${missing.sort().join(',')}`);
    }
    used ??= namespaceUsage(reg, ns);
    const over = tracked.filter((k) => (used![k] ?? 0) + (delta[k] ?? 0) > parseQuantity(hard[k]));
    if (over.length) {
      const fmt = (vals: (k: string) => number) => over.sort().map((k) => `${k}=${formatQuantity(vals(k), k)}`).join(',');
      throw newForbidden(res, obj.metadata?.name ?? '', `exceeded quota: ${q.metadata!.name}, requested: ${fmt((k) => delta[k] ?? 0)}, used: ${fmt((k) => used![k] ?? 0)}, limited: ${over.sort().map((k) => `${k}=${hard[k]}`).join(',')}`);
    }
  }
}

interface Log {
  warn(obj: unknown, msg?: string): void;
}

/** Keeps status.hard/used of ResourceQuotas current (the resourcequota controller). */
export class QuotaController {
  private unsubscribe: (() => void) | undefined;
  private dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly reg: ClusterRegistry,
    private readonly log: Log,
  ) {}

  start(): void {
    void this.reg.cache.ready().then(() => {
      if (this.stopped) return;
      this.unsubscribe = this.reg.cache.onAny((evs) => {
        for (const e of evs) if (e.namespace && this.reg.cache.count('resourcequotas', e.namespace) > 0) this.dirty.add(e.namespace);
        this.schedule();
      });
      for (const e of this.reg.cache.list('resourcequotas', '')) this.dirty.add(e.obj.metadata!.namespace!);
      this.schedule();
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer || this.dirty.size === 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync();
    }, 100);
    this.timer.unref();
  }

  private async sync(): Promise<void> {
    const nss = [...this.dirty];
    this.dirty.clear();
    const qRes = this.reg.scheme.get('', 'v1', 'resourcequotas')!;
    for (const ns of nss) {
      const used = namespaceUsage(this.reg, ns);
      for (const e of this.reg.cache.list('resourcequotas', ns)) {
        const q = e.obj;
        const hard: Record<string, unknown> = q.spec?.hard ?? {};
        const status = { hard: { ...hard }, used: Object.fromEntries(Object.keys(hard).map((k) => [k, formatQuantity(used[k] ?? 0, k)])) };
        if (JSON.stringify(q.status ?? {}) === JSON.stringify(status)) continue;
        try {
          await this.reg.guaranteedUpdate(qRes, ns, q.metadata!.name!, (cur) => {
            if (!cur) return cur as unknown as KObject;
            cur.status = status;
            cur.metadata!.resourceVersion = '';
            return cur;
          }, { subresource: 'status', fieldManager: 'resourcequota-controller' });
        } catch (err) {
          this.log.warn({ err, quota: q.metadata?.name }, 'quota status');
        }
      }
    }
    this.schedule();
  }
}
