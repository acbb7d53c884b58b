/**
 * The scheduling algorithm, as kube-scheduler's default profile runs it, over
 * plain objects: for one pod, filter every node through the filter plugins in
 * upstream order (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
 * NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity), score
 * the feasible ones (LeastAllocated + BalancedAllocation + a little
 * TaintToleration/NodeAffinity preference), and pick the best. When nothing
 * fits, the result carries upstream's FitError message, e.g.
 *
 *   0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are
 *   available: 3 No preemption victims found for incoming pod.
 *
 * The caller (the scheduler controller in the data plane) keeps NodeInfos
 * current from watches, binds through the API, and emits the
 * FailedScheduling event with this message.
 */
import type { KObject } from '../../kube/api/types.ts';
import { milliValue, value } from '../../kube/api/quantity.ts';
import { labelSelectorFromObject, matchLabels } from '../../kube/apiserver/selectors.ts';

/** Resources in comparable units: milli-cpu, bytes, counts. */
export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  pods: number;
  /** Extended and other resources (e.g. vpc.amazonaws.com/pod-eni, nvidia.com/gpu), in whole units. */
  scalar: Record<string, number>;
}

/** A node with the pods assigned to it (kube-scheduler's framework.NodeInfo). */
export interface NodeInfo {
  node: KObject;
  pods: KObject[];
  /** Sum of requests of `pods` (computed by nodeInfo()). */
  requested: Resources;
  allocatable: Resources;
  /** host ports in use: "protocol/hostIP/port" */
  usedPorts: Set<string>;
  /** Sum of the scoring requests of `pods` (request-less containers count 100m / 200Mi). */
  nonZeroRequested?: { cpu: number; mem: number };
  /** The pods of `pods` with required pod anti-affinity terms (framework.NodeInfo.PodsWithRequiredAntiAffinity). */
  podsWithRequiredAntiAffinity?: KObject[];
}

export type ScheduleResult = { nodeName: string; feasibleNodes: number; evaluatedNodes: number } | { error: string; unschedulable: true; evaluatedNodes: number };

/**
 * How many feasible nodes one scheduling cycle looks for before scoring
 * (kube-scheduler's numFeasibleNodesToFind with the default adaptive
 * percentageOfNodesToScore): every node below 100 nodes, else
 * 50% - 1% per 125 nodes, at least 5% and at least 100 nodes.
 */
export function numFeasibleNodesToFind(numAllNodes: number): number {
  if (numAllNodes < 100) return numAllNodes;
  const percentage = Math.max(5, 50 - Math.floor(numAllNodes / 125));
  return Math.max(100, Math.floor((numAllNodes * percentage) / 100));
}

function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
}

function addList(r: Resources, list: Record<string, string | number> | undefined): void {
  for (const [k, v] of Object.entries(list ?? {})) {
    if (k === 'cpu') r.milliCpu += milliValue(v);
    else if (k === 'memory') r.memory += value(v);
    else if (k === 'ephemeral-storage') r.ephemeralStorage += value(v);
    else if (k === 'pods') r.pods += value(v);
    else r.scalar[k] = (r.scalar[k] ?? 0) + value(v);
  }
}

function maxInto(r: Resources, o: Resources): void {
  r.milliCpu = Math.max(r.milliCpu, o.milliCpu);
  r.memory = Math.max(r.memory, o.memory);
  r.ephemeralStorage = Math.max(r.ephemeralStorage, o.ephemeralStorage);
  for (const [k, v] of Object.entries(o.scalar)) r.scalar[k] = Math.max(r.scalar[k] ?? 0, v);
}

/**
 * podRequests is the effective request of a pod: the larger of the sum of
 * its containers (plus restartable "sidecar" init containers) and its
 * largest init container, plus pod overhead (upstream resource.PodRequests).
 */
/** Requests per pod object (objects from the watch cache are never mutated, so identity is a safe key). */
const requestsCache = new WeakMap<KObject, Resources>();

export function podRequests(pod: KObject): Resources {
  let r = requestsCache.get(pod);
  if (!r) {
    r = computePodRequests(pod);
    requestsCache.set(pod, r);
  }
  return r;
}

function computePodRequests(pod: KObject): Resources {
  const sum = emptyResources();
  for (const c of pod.spec?.containers ?? []) addList(sum, c.resources?.requests);
  const initMax = emptyResources();
  const sidecars = emptyResources();
  for (const c of pod.spec?.initContainers ?? []) {
    const one = emptyResources();
    addList(one, c.resources?.requests);
    if (c.restartPolicy === 'Always') {
      addList(sidecars, c.resources?.requests);
      addList(sum, c.resources?.requests);
    } else {
      // A regular init container runs alongside the sidecars started before it.
      const withSidecars = emptyResources();
      addList(withSidecars, c.resources?.requests);
      withSidecars.milliCpu += sidecars.milliCpu;
      withSidecars.memory += sidecars.memory;
      withSidecars.ephemeralStorage += sidecars.ephemeralStorage;
      maxInto(initMax, withSidecars);
    }
  }
  maxInto(sum, initMax);
  addList(sum, pod.spec?.overhead);
  sum.pods = 1;
  return sum;
}

function isTerminal(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** nodeInfo builds a NodeInfo from a node and the non-terminal pods bound to it. */
export function nodeInfo(node: KObject, pods: KObject[]): NodeInfo {
  const allocatable = emptyResources();
  addList(allocatable, node.status?.allocatable);
  const info: NodeInfo = { node, pods: [], requested: emptyResources(), allocatable, usedPorts: new Set<string>(), nonZeroRequested: { cpu: 0, mem: 0 }, podsWithRequiredAntiAffinity: [] };
  for (const p of pods) if (!isTerminal(p)) addPod(info, p);
  return info;
}

/**
 * assumePod adds a pod to a NodeInfo in place, as the scheduler cache's
 * AssumePod does for a pod it just placed (the same NodeInfo as nodeInfo()
 * with the pod in the list, without recomputing the others).
 */
export function assumePod(info: NodeInfo, pod: KObject): void {
  if (isTerminal(pod)) return;
  if (!info.nonZeroRequested || !info.podsWithRequiredAntiAffinity) {
    Object.assign(info, nodeInfo(info.node, [...info.pods, pod]));
    return;
  }
  addPod(info, pod);
}

/** What a pod adds to a NodeInfo, per pod object (watch-cache objects are never mutated): one lookup per pod and pass. */
const factsCache = new WeakMap<KObject, { r: Resources; nz: { cpu: number; mem: number }; ports: string[]; anti: boolean }>();

function addPod(info: NodeInfo, p: KObject): void {
  let f = factsCache.get(p);
  if (!f) {
    const r = podRequests(p);
    f = { r, nz: nonZero(r, p), ports: hostPortsOf(p), anti: (p.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).length > 0 };
    factsCache.set(p, f);
  }
  const { r, nz } = f;
  const requested = info.requested;
  info.pods.push(p);
  info.nonZeroRequested!.cpu += nz.cpu;
  info.nonZeroRequested!.mem += nz.mem;
  if (f.anti) info.podsWithRequiredAntiAffinity!.push(p);
  requested.milliCpu += r.milliCpu;
  requested.memory += r.memory;
  requested.ephemeralStorage += r.ephemeralStorage;
  requested.pods += 1;
  for (const k in r.scalar) requested.scalar[k] = (requested.scalar[k] ?? 0) + r.scalar[k]!;
  for (const port of f.ports) info.usedPorts.add(port);
}

/** Host ports per pod object (watch-cache objects are never mutated). */
const portsCache = new WeakMap<KObject, string[]>();

function hostPortsOf(pod: KObject): string[] {
  let r = portsCache.get(pod);
  if (!r) {
    r = hostPorts(pod);
    portsCache.set(pod, r);
  }
  return r;
}

function hostPorts(pod: KObject): string[] {
  const out: string[] = [];
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostIP || '0.0.0.0'}/${p.hostPort}`);
    }
  }
  return out;
}

function portsConflict(wanted: string[], used: Set<string>): boolean {
  for (const w of wanted) {
    const [proto, ip, port] = w.split('/');
    for (const u of used) {
      const [uproto, uip, uport] = u.split('/');
      if (proto === uproto && port === uport && (ip === uip || ip === '0.0.0.0' || uip === '0.0.0.0')) return true;
    }
  }
  return false;
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** tolerates reports whether a toleration tolerates a taint (upstream Toleration.ToleratesTaint). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

function untoleratedTaint(node: KObject, pod: KObject, effects: string[]): Taint | undefined {
  const tols: Toleration[] = pod.spec?.tolerations ?? [];
  for (const taint of (node.spec?.taints ?? []) as Taint[]) {
    if (!effects.includes(taint.effect)) continue;
    if (!tols.some((t) => tolerates(t, taint))) return taint;
  }
  return undefined;
}

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

function nodeReqMatches(req: NodeSelectorRequirement, get: (k: string) => string | undefined): boolean {
  const v = get(req.key);
  switch (req.operator) {
    case 'In':
      return v !== undefined && (req.values ?? []).includes(v);
    case 'NotIn':
      return v === undefined || !(req.values ?? []).includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
    case 'Lt': {
      if (v === undefined) return false;
      const n = Number.parseInt(v, 10);
      const b = Number.parseInt(req.values?.[0] ?? '', 10);
      if (Number.isNaN(n) || Number.isNaN(b)) return false;
      return req.operator === 'Gt' ? n > b : n < b;
    }
    default:
      return false;
  }
}

/** nodeSelectorTermMatches: all matchExpressions (labels) and matchFields (metadata.name) hold; an empty term matches nothing. */
function termMatches(term: { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }, node: KObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return (
    exprs.every((r) => nodeReqMatches(r, (k) => labels[k])) &&
    fields.every((r) => nodeReqMatches(r, (k) => (k === 'metadata.name' ? node.metadata?.name : undefined)))
  );
}

/** matchesNodeSelectorAndAffinity: spec.nodeSelector and required node affinity (NodeAffinity filter). */
export function matchesNodeAffinity(pod: KObject, node: KObject): boolean {
  const labels = node.metadata?.labels ?? {};
  const selector = (pod.spec?.nodeSelector ?? {}) as Record<string, string>;
  for (const k of Object.keys(selector)) if (labels[k] !== selector[k]) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) {
    const terms = required.nodeSelectorTerms ?? [];
    if (!terms.some((t: any) => termMatches(t, node))) return false;
  }
  return true;
}

function selectorMatches(sel: any, labels: Record<string, string> | undefined): boolean {
  const s = labelSelectorFromObject(sel);
  return s !== undefined && matchLabels(s, labels);
}

/** The namespaces an affinity term applies to: its namespaces list, or the pod's own namespace. */
function termNamespaces(term: any, pod: KObject): string[] | undefined {
  if (term.namespaceSelector && Object.keys(term.namespaceSelector).length === 0) return undefined; // all namespaces
  const ns: string[] = term.namespaces ?? [];
  return ns.length > 0 ? ns : [pod.metadata?.namespace ?? 'default'];
}

function podMatchesTerm(other: KObject, term: any, owner: KObject): boolean {
  const nss = termNamespaces(term, owner);
  if (nss && !nss.includes(other.metadata?.namespace ?? 'default')) return false;
  return selectorMatches(term.labelSelector, other.metadata?.labels);
}

function topologyValue(node: KObject, key: string): string | undefined {
  return node.metadata?.labels?.[key];
}

const REASON = {
  unschedulable: 'node(s) were unschedulable',
  nodeName: "node(s) didn't match the requested node name",
  affinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  tooManyPods: 'Too many pods',
  podAffinity: "node(s) didn't match pod affinity rules",
  podAntiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
  spread: "node(s) didn't match pod topology spread constraints",
  spreadMissingLabel: "node(s) didn't match pod topology spread constraints (missing required label)",
};

/** Reasons that preemption could resolve (by removing lower-priority pods). */
const PREEMPTABLE = new Set(['Insufficient', REASON.tooManyPods, REASON.ports, REASON.podAntiAffinity, REASON.existingAntiAffinity]);

const NOTHING_SHORT: readonly string[] = Object.freeze([]);

function insufficient(pod: Resources, info: NodeInfo): readonly string[] {
  const a = info.allocatable;
  const r = info.requested;
  // The common case (it fits) allocates nothing.
  let fits = r.pods + 1 <= a.pods && !(pod.milliCpu > 0 && r.milliCpu + pod.milliCpu > a.milliCpu) && !(pod.memory > 0 && r.memory + pod.memory > a.memory) && !(pod.ephemeralStorage > 0 && r.ephemeralStorage + pod.ephemeralStorage > a.ephemeralStorage);
  if (fits) for (const k in pod.scalar) if (pod.scalar[k]! > 0 && (r.scalar[k] ?? 0) + pod.scalar[k]! > (a.scalar[k] ?? 0)) fits = false;
  if (fits) return NOTHING_SHORT;
  const out: string[] = [];
  if (r.pods + 1 > a.pods) out.push(REASON.tooManyPods);
  if (pod.milliCpu > 0 && r.milliCpu + pod.milliCpu > a.milliCpu) out.push('Insufficient cpu');
  if (pod.memory > 0 && r.memory + pod.memory > a.memory) out.push('Insufficient memory');
  if (pod.ephemeralStorage > 0 && r.ephemeralStorage + pod.ephemeralStorage > a.ephemeralStorage) out.push('Insufficient ephemeral-storage');
  for (const [k, v] of Object.entries(pod.scalar)) {
    if (v > 0 && (r.scalar[k] ?? 0) + v > (a.scalar[k] ?? 0)) out.push(`Insufficient ${k}`);
  }
  return out;
}

/** filterNode runs the filter plugins in order; returns the first failing plugin's reasons (empty = feasible). */
export function filterNode(pod: KObject, podReq: Resources, info: NodeInfo, all: NodeInfo[], state: PreFilterState = preFilter(pod, all)): string[] {
  const node = info.node;
  // NodeUnschedulable
  if (node.spec?.unschedulable) {
    const tol = (pod.spec?.tolerations ?? []).some((t: Toleration) => tolerates(t, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }));
    if (!tol) return [REASON.unschedulable];
  }
  // NodeName
  if (pod.spec?.nodeName && pod.spec.nodeName !== node.metadata?.name) return [REASON.nodeName];
  // TaintToleration
  const taint = untoleratedTaint(node, pod, ['NoSchedule', 'NoExecute']);
  if (taint) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
  // NodeAffinity
  if (!matchesNodeAffinity(pod, node)) return [REASON.affinity];
  // NodePorts
  const ports = hostPortsOf(pod);
  if (ports.length > 0 && portsConflict(ports, info.usedPorts)) return [REASON.ports];
  // NodeResourcesFit
  const short = insufficient(podReq, info);
  if (short.length > 0) return [...short];
  // PodTopologySpread (DoNotSchedule constraints)
  const spread = checkTopologySpread(pod, info, state);
  if (spread) return [spread];
  // InterPodAffinity
  const ipa = checkInterPodAffinity(pod, info, all, state);
  if (ipa) return [ipa];
  return [];
}

/**
 * What the filters of one scheduling cycle compute once over every node
 * (upstream's PreFilter extension point): the matching pod counts per
 * topology domain of each DoNotSchedule spread constraint, and the existing
 * pods that carry required anti-affinity terms.
 */
export interface PreFilterState {
  spread: Array<{ constraint: any; counts: Map<string, number> }>;
  antiAffinityPods: Array<{ node: KObject; pod: KObject }>;
}

export function preFilter(pod: KObject, all: NodeInfo[]): PreFilterState {
  const spread: PreFilterState['spread'] = [];
  const constraints = (pod.spec?.topologySpreadConstraints ?? []).filter((c: any) => (c.whenUnsatisfiable ?? 'DoNotSchedule') === 'DoNotSchedule');
  for (const c of constraints) {
    const key: string = c.topologyKey;
    // Count matching pods per domain over the nodes that pass the pod's node affinity (nodeAffinityPolicy Honor).
    const counts = new Map<string, number>();
    for (const n of all) {
      const v = topologyValue(n.node, key);
      if (v === undefined || !matchesNodeAffinity(pod, n.node)) continue;
      const matching = n.pods.filter((p) => (p.metadata?.namespace ?? 'default') === (pod.metadata?.namespace ?? 'default') && selectorMatches(c.labelSelector, p.metadata?.labels)).length;
      counts.set(v, (counts.get(v) ?? 0) + matching);
    }
    spread.push({ constraint: c, counts });
  }
  const antiAffinityPods: PreFilterState['antiAffinityPods'] = [];
  for (const n of all) {
    for (const other of n.podsWithRequiredAntiAffinity ?? n.pods) {
      if ((other.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).length > 0) antiAffinityPods.push({ node: n.node, pod: other });
    }
  }
  return { spread, antiAffinityPods };
}

function checkTopologySpread(pod: KObject, info: NodeInfo, state: PreFilterState): string | undefined {
  for (const { constraint: c, counts: domainCounts } of state.spread) {
    const key: string = c.topologyKey;
    const own = topologyValue(info.node, key);
    if (own === undefined) return REASON.spreadMissingLabel;
    const counts = domainCounts.has(own) ? domainCounts : new Map([...domainCounts, [own, 0]]);
    let min = Infinity;
    for (const v of counts.values()) min = Math.min(min, v);
    const minDomains: number | undefined = c.minDomains;
    if (minDomains !== undefined && counts.size < minDomains) min = 0;
    const self = selectorMatches(c.labelSelector, pod.metadata?.labels) ? 1 : 0;
    if (counts.get(own)! + self - min > (c.maxSkew ?? 1)) return REASON.spread;
  }
  return undefined;
}

function checkInterPodAffinity(pod: KObject, info: NodeInfo, all: NodeInfo[], state: PreFilterState): string | undefined {
  // Upstream order: the incoming pod's affinity, its anti-affinity, then existing pods' anti-affinity.
  const aff = pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  for (const term of aff) {
    const v = topologyValue(info.node, term.topologyKey);
    let found = false;
    let anyMatch = false;
    for (const n of all) {
      for (const other of n.pods) {
        if (!podMatchesTerm(other, term, pod)) continue;
        anyMatch = true;
        if (v !== undefined && topologyValue(n.node, term.topologyKey) === v) found = true;
      }
    }
    // Upstream lets the first pod of a group schedule when it matches its own affinity term.
    if (!found && !(!anyMatch && podMatchesTerm(pod, term, pod))) return REASON.podAffinity;
  }
  const anti = pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  for (const term of anti) {
    const v = topologyValue(info.node, term.topologyKey);
    if (v === undefined) continue;
    for (const n of all) {
      if (topologyValue(n.node, term.topologyKey) !== v) continue;
      if (n.pods.some((other) => podMatchesTerm(other, term, pod))) return REASON.podAntiAffinity;
    }
  }
  for (const { node, pod: other } of state.antiAffinityPods) {
    for (const term of other.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      const v = topologyValue(node, term.topologyKey);
      if (v === undefined || topologyValue(info.node, term.topologyKey) !== v) continue;
      if (podMatchesTerm(pod, term, other)) return REASON.existingAntiAffinity;
    }
  }
  return undefined;
}

/** Requests used for scoring: upstream gives request-less containers 100m cpu / 200Mi memory. */
function nonZero(req: Resources, pod: KObject): { cpu: number; mem: number } {
  const containers = pod.spec?.containers ?? [];
  let cpu = 0;
  let mem = 0;
  for (const c of containers) {
    const r = c.resources?.requests ?? {};
    cpu += r.cpu !== undefined ? milliValue(r.cpu) : 100;
    mem += r.memory !== undefined ? value(r.memory) : 200 * 2 ** 20;
  }
  return { cpu: Math.max(cpu, req.milliCpu), mem: Math.max(mem, req.memory) };
}

function score(pod: KObject, req: Resources, info: NodeInfo, nz = nonZero(req, pod)): number {
  const a = info.allocatable;
  let usedCpu = info.nonZeroRequested?.cpu ?? 0;
  let usedMem = info.nonZeroRequested?.mem ?? 0;
  if (!info.nonZeroRequested) {
    for (const p of info.pods) {
      const x = nonZero(podRequests(p), p);
      usedCpu += x.cpu;
      usedMem += x.mem;
    }
  }
  const cpuFrac = a.milliCpu > 0 ? Math.min(1, (usedCpu + nz.cpu) / a.milliCpu) : 1;
  const memFrac = a.memory > 0 ? Math.min(1, (usedMem + nz.mem) / a.memory) : 1;
  const leastAllocated = ((1 - cpuFrac) * 100 + (1 - memFrac) * 100) / 2;
  const balanced = (1 - Math.abs(cpuFrac - memFrac)) * 100;
  // Preferred node affinity terms add their weight.
  let preferred = 0;
  for (const t of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (termMatches(t.preference ?? {}, info.node)) preferred += t.weight ?? 0;
  }
  // PreferNoSchedule taints the pod does not tolerate count against the node.
  const soft = untoleratedTaint(info.node, pod, ['PreferNoSchedule']) ? 1 : 0;
  return leastAllocated + balanced + preferred - soft * 50;
}

/**
 * schedule picks a node for pod among nodes, or explains why none fits.
 * Ties go to the node that sorts first by name, so results are repeatable.
 * volumeFilter: the pod's bound volumes' node affinity (volume-binding.ts).
 */
export function schedule(pod: KObject, nodes: NodeInfo[], startIndex = 0, volumeFilter?: (node: KObject) => string | undefined): ScheduleResult {
  const req = podRequests(pod);
  const histogram = new Map<string, number>();
  let best: { info: NodeInfo; score: number } | undefined;
  let feasible = 0;
  let preemptable = 0;
  const state = preFilter(pod, nodes);
  const want = numFeasibleNodesToFind(nodes.length);
  const nz = nonZero(req, pod);
  // Upstream evaluates nodes round-robin from where the previous cycle
  // stopped and stops filtering once it has found enough feasible ones.
  let evaluated = 0;
  for (; evaluated < nodes.length && feasible < want; evaluated++) {
    const info = nodes[(startIndex + evaluated) % nodes.length]!;
    const reasons = filterNode(pod, req, info, nodes, state);
    const volume = reasons.length === 0 ? volumeFilter?.(info.node) : undefined; // VolumeBinding (volume-binding.ts)
    if (volume) reasons.push(volume);
    if (reasons.length > 0) {
      for (const r of reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
      if (reasons.every((r) => PREEMPTABLE.has(r) || r.startsWith('Insufficient'))) preemptable++;
      continue;
    }
    feasible++;
    const s = score(pod, req, info, nz);
    const name = info.node.metadata?.name ?? '';
    if (!best || s > best.score || (s === best.score && name < (best.info.node.metadata?.name ?? ''))) best = { info, score: s };
  }
  if (best) return { nodeName: best.info.node.metadata!.name!, feasibleNodes: feasible, evaluatedNodes: evaluated };
  return { error: fitErrorMessage(nodes.length, histogram, preemptable, pod), unschedulable: true, evaluatedNodes: evaluated };
}

/** fitErrorMessage renders upstream's FitError text, with the default preemption plugin's post-filter message. */
export function fitErrorMessage(numNodes: number, histogram: Map<string, number>, preemptable: number, pod: KObject): string {
  if (numNodes === 0) return 'no nodes available to schedule pods';
  let msg = `0/${numNodes} nodes are available`;
  const reasons = [...histogram].map(([r, n]) => `${n} ${r}`).sort();
  msg += reasons.length > 0 ? `: ${reasons.join(', ')}.` : '.';
  if (numNodes > 0 && pod.spec?.preemptionPolicy !== 'Never') {
    const parts: string[] = [];
    if (preemptable > 0) parts.push(`${preemptable} No preemption victims found for incoming pod`);
    if (numNodes - preemptable > 0) parts.push(`${numNodes - preemptable} Preemption is not helpful for scheduling`);
    msg += ` preemption: 0/${numNodes} nodes are available: ${parts.sort().join(', ')}.`;
  }
  return msg;
}
