/**
 * The resource metrics API (metrics.k8s.io/v1beta1, what metrics-server
 * serves on EKS): PodMetrics and NodeMetrics, read-only (get, list), so
 * `kubectl top pods|nodes` and the HorizontalPodAutoscaler work.
 *
 * Nothing runs, so usage comes from a model (documented in
 * docs/simulation.md). Each container of a Running pod uses:
 *   - `sim.localeks.io/cpu-usage.<container>` or `sim.localeks.io/cpu-usage`
 *     on the pod: a quantity ("250m", "1") or a share of the container's
 *     request (limit when no request) such as "80%";
 *   - `sim.localeks.io/memory-usage[.<container>]` likewise ("300Mi", "50%");
 *   - otherwise 1m of CPU and 10% of its memory request (4Mi without one).
 * A node uses the sum of its Running pods plus the kubelet and system
 * daemons' share: 40m of CPU and 400Mi of memory.
 *
 * Annotating pods (`kubectl annotate pods -l app=web
 * sim.localeks.io/cpu-usage=90% --overwrite`) changes load without a rollout.
 */
import type { Resource } from '../api/scheme.ts';
import type { KObject } from '../api/types.ts';
import { parseQuantity } from '../api/quantity.ts';
import { newBadRequest, newNotFound } from './errors.ts';
import { type LabelSelector, matchLabels, parseLabelSelector, parseFieldSelector, matchFields } from './selectors.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const CPU_USAGE_ANNOTATION = 'sim.localeks.io/cpu-usage';
export const MEMORY_USAGE_ANNOTATION = 'sim.localeks.io/memory-usage';

/** What the node's own daemons use on top of its pods. */
export const NODE_SYSTEM_USAGE = { milliCpu: 40, bytes: 400 * 2 ** 20 };

function metricsResource(resource: string, kind: string, namespaced: boolean): Resource {
  return {
    group: METRICS_GROUP,
    version: 'v1beta1',
    resource,
    singular: '',
    kind,
    listKind: `${kind}List`,
    namespaced,
    verbs: ['get', 'list'],
    shortNames: [],
    categories: [],
    subresources: [],
    storageResource: `${METRICS_GROUP}/${resource}`,
    tracksGeneration: false,
    preferred: true,
    virtual: true,
  };
}

/** The two resources metrics-server serves, for the cluster's Scheme (discovery lists them). */
export const METRICS_RESOURCES: readonly Resource[] = [metricsResource('nodes', 'NodeMetrics', false), metricsResource('pods', 'PodMetrics', true)];

/** A container's usage in milli-cores and bytes. */
export interface Usage {
  milliCpu: number;
  bytes: number;
}

function amount(spec: string | undefined, base: number | undefined, unitScale: number): number | undefined {
  if (spec === undefined) return undefined;
  const s = spec.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct) return base === undefined ? 0 : (Number(pct[1]) / 100) * base;
  try {
    return parseQuantity(s) * unitScale;
  } catch {
    return undefined;
  }
}

function req(c: any, r: string, scale: number): number | undefined {
  const q = c.resources?.requests?.[r] ?? c.resources?.limits?.[r];
  if (q === undefined) return undefined;
  try {
    return parseQuantity(q) * scale;
  } catch {
    return undefined;
  }
}

/** containerUsage: the modelled usage of one container of a pod (see the module comment). */
export function containerUsage(pod: KObject, container: any): Usage {
  const a = pod.metadata?.annotations ?? {};
  const cpuReq = req(container, 'cpu', 1000);
  const memReq = req(container, 'memory', 1);
  const cpu = amount(a[`${CPU_USAGE_ANNOTATION}.${container.name}`] ?? a[CPU_USAGE_ANNOTATION], cpuReq, 1000) ?? 1;
  const mem = amount(a[`${MEMORY_USAGE_ANNOTATION}.${container.name}`] ?? a[MEMORY_USAGE_ANNOTATION], memReq, 1) ?? (memReq !== undefined ? memReq * 0.1 : 4 * 2 ** 20);
  return { milliCpu: Math.max(0, Math.round(cpu)), bytes: Math.max(0, Math.round(mem)) };
}

/** podReports: metrics-server reports Running pods that are not being deleted. */
export function podReports(pod: KObject): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
}

/** podUsage: per-container usage of a reported pod. */
export function podUsage(pod: KObject): Array<{ name: string; usage: Usage }> {
  return (pod.spec?.containers ?? []).map((c: any) => ({ name: c.name, usage: containerUsage(pod, c) }));
}

const cpuString = (m: number) => `${Math.round(m * 1e6)}n`;
const memString = (b: number) => `${Math.round(b / 1024)}Ki`;

function stamp(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The PodMetrics object of a pod. */
export function podMetrics(pod: KObject, nowMs: number): KObject {
  const m = pod.metadata ?? {};
  return {
    kind: 'PodMetrics',
    apiVersion: `${METRICS_GROUP}/v1beta1`,
    metadata: { name: m.name, namespace: m.namespace, creationTimestamp: stamp(nowMs), ...(m.labels ? { labels: { ...m.labels } } : {}) },
    timestamp: stamp(nowMs - 15_000),
    window: '15s',
    containers: podUsage(pod).map((c) => ({ name: c.name, usage: { cpu: cpuString(c.usage.milliCpu), memory: memString(c.usage.bytes) } })),
  } as KObject;
}

/** The NodeMetrics object of a node given the pods bound to it. */
export function nodeMetrics(node: KObject, pods: KObject[], nowMs: number): KObject {
  let cpu = NODE_SYSTEM_USAGE.milliCpu;
  let mem = NODE_SYSTEM_USAGE.bytes;
  for (const p of pods) {
    if (!podReports(p)) continue;
    for (const c of podUsage(p)) {
      cpu += c.usage.milliCpu;
      mem += c.usage.bytes;
    }
  }
  const m = node.metadata ?? {};
  return {
    kind: 'NodeMetrics',
    apiVersion: `${METRICS_GROUP}/v1beta1`,
    metadata: { name: m.name, creationTimestamp: stamp(nowMs), ...(m.labels ? { labels: { ...m.labels } } : {}) },
    timestamp: stamp(nowMs - 20_000),
    window: '20s',
    usage: { cpu: cpuString(cpu), memory: memString(mem) },
  } as KObject;
}

/** The cached objects metrics are computed from. */
export interface MetricsSource {
  pods(namespace: string): KObject[];
  nodes(): KObject[];
}

/**
 * serveMetrics answers GET/LIST of a metrics.k8s.io resource (the caller
 * has checked the verb). Lists honour labelSelector and the metadata.name /
 * metadata.namespace field selectors as metrics-server does.
 */
export function serveMetrics(src: MetricsSource, r: Resource, verb: string, namespace: string, name: string, q: URLSearchParams, nowMs: number): KObject {
  const gr = { group: METRICS_GROUP, resource: r.resource === 'pods' ? 'podmetrics' : 'nodemetrics' };
  const labelSel: LabelSelector = parseLabelSelector(q.get('labelSelector'));
  const fieldSel = parseFieldSelector(q.get('fieldSelector'));
  for (const f of fieldSel) if (f.field !== 'metadata.name' && f.field !== 'metadata.namespace') throw newBadRequest(`field label not supported: ${f.field}`);
  const keep = (o: KObject) => matchLabels(labelSel, o.metadata?.labels) && matchFields(fieldSel, { 'metadata.name': o.metadata?.name ?? '', 'metadata.namespace': o.metadata?.namespace ?? '' });
  if (r.resource === 'pods') {
    const pods = src.pods(namespace).filter(podReports);
    if (verb === 'get') {
      const p = pods.find((x) => x.metadata?.name === name);
      if (!p) throw newNotFound(gr, name);
      return podMetrics(p, nowMs);
    }
    return { kind: 'PodMetricsList', apiVersion: `${METRICS_GROUP}/v1beta1`, metadata: {}, items: pods.filter(keep).map((p) => podMetrics(p, nowMs)) } as KObject;
  }
  const byNode = new Map<string, KObject[]>();
  for (const p of src.pods('')) {
    const n = p.spec?.nodeName;
    if (!n) continue;
    const l = byNode.get(n) ?? [];
    l.push(p);
    byNode.set(n, l);
  }
  const ready = (n: KObject) => (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
  const nodes = src.nodes().filter(ready);
  if (verb === 'get') {
    const n = nodes.find((x) => x.metadata?.name === name);
    if (!n) throw newNotFound(gr, name);
    return nodeMetrics(n, byNode.get(name) ?? [], nowMs);
  }
  return { kind: 'NodeMetricsList', apiVersion: `${METRICS_GROUP}/v1beta1`, metadata: {}, items: nodes.filter(keep).map((n) => nodeMetrics(n, byNode.get(n.metadata!.name!) ?? [], nowMs)) } as KObject;
}
