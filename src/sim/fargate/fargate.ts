/**
 * Fargate on EKS, the parts that are rules rather than plumbing:
 *  - which Fargate profile (if any) a pod matches: a selector matches a pod
 *    by namespace and all its labels, where both may use `*` and `?`
 *    wildcards; a pod matching several profiles may pick one with the
 *    `eks.amazonaws.com/fargate-profile` label (it must still match it);
 *    otherwise EKS picks one of the matches (we pick the first by name, so
 *    runs repeat);
 *  - what the fargate-scheduler refuses, with its event message
 *    ("Pod not supported on Fargate: fields not supported: HostNetwork, ...");
 *  - the size of the micro-VM: the pod's requests (the larger of the sum of
 *    its containers and its largest init container) plus 256 MiB for the
 *    kubelet and friends, rounded up to the next vCPU/memory combination,
 *    reported as the CapacityProvisioned annotation ("0.25vCPU 0.5GB").
 */
import type { KObject } from '../../kube/api/types.ts';
import { milliValue, value } from '../../kube/api/quantity.ts';
import { isDaemonSetPod } from '../../kube/api/pods.ts';

export const FARGATE_PROFILE_LABEL = 'eks.amazonaws.com/fargate-profile';
export const FARGATE_SCHEDULER = 'fargate-scheduler';
export const CAPACITY_ANNOTATION = 'CapacityProvisioned';

/**
 * Capabilities a Fargate pod may add: SYS_PTRACE (the EKS Fargate
 * considerations) and NET_BIND_SERVICE (CoreDNS as EKS ships it adds it and
 * runs on Fargate once its compute-type annotation is removed).
 */
const FARGATE_CAPABILITIES = new Set(['SYS_PTRACE', 'NET_BIND_SERVICE']);

export interface FargateSelector {
  namespace: string;
  labels?: Record<string, string>;
}

export interface FargateProfileLike {
  fargateProfileName: string;
  selectors: FargateSelector[];
  status?: string;
}

function wildcard(pattern: string, s: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === s;
  const re = new RegExp('^' + pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$');
  return re.test(s);
}

/** selectorMatches: namespace matches and every selector label is on the pod (values may use wildcards). */
export function selectorMatches(sel: FargateSelector, namespace: string, labels: Record<string, string>): boolean {
  if (!wildcard(sel.namespace, namespace)) return false;
  for (const [k, v] of Object.entries(sel.labels ?? {})) {
    if (labels[k] === undefined || !wildcard(v, labels[k]!)) return false;
  }
  return true;
}

/**
 * matchProfile returns the profile a pod runs under, or undefined when it
 * should go to node groups (always for DaemonSet pods). Only ACTIVE profiles count (a profile being
 * created or deleted does not schedule pods).
 */
export function matchProfile(profiles: FargateProfileLike[], pod: KObject): FargateProfileLike | undefined {
  // DaemonSet pods target one node each; Fargate never takes them.
  if (isDaemonSetPod(pod)) return undefined;
  const ns = pod.metadata?.namespace ?? 'default';
  const labels = pod.metadata?.labels ?? {};
  const matching = profiles
    .filter((p) => (p.status ?? 'ACTIVE') === 'ACTIVE' && p.selectors.some((s) => selectorMatches(s, ns, labels)))
    .sort((a, b) => (a.fargateProfileName < b.fargateProfileName ? -1 : 1));
  const wanted = labels[FARGATE_PROFILE_LABEL];
  if (wanted !== undefined) return matching.find((p) => p.fargateProfileName === wanted);
  return matching[0];
}

const ALLOWED_VOLUME_TYPES = new Set([
  'emptyDir',
  'secret',
  'configMap',
  'projected',
  'downwardAPI',
  'persistentVolumeClaim', // EFS-backed claims; EBS is refused at attach time
  'nfs',
  'csi',
]);

/**
 * unsupportedReason returns the fargate-scheduler's FailedScheduling message
 * for a pod Fargate cannot run, or undefined when it can. `claimProblem`
 * tells why a persistentVolumeClaim volume cannot be mounted (an EBS-backed
 * PV: "PVC data bound to invalid PV pv-1 with CSI Driver: ebs.csi.aws.com").
 */
export function unsupportedReason(pod: KObject, claimProblem?: (claimName: string) => string | undefined): string | undefined {
  const spec = pod.spec ?? {};
  const parts: string[] = [];
  const fields: string[] = [];
  if (spec.hostNetwork) fields.push('HostNetwork');
  if (spec.hostPID) fields.push('HostPID');
  if (spec.hostIPC) fields.push('HostIPC');
  if (fields.length > 0) parts.push(`fields not supported: ${fields.join(', ')}`);
  const sc: string[] = [];
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  if (containers.some((c: any) => c.securityContext?.privileged)) sc.push('Privileged');
  const added = new Set<string>();
  for (const c of containers) for (const cap of c.securityContext?.capabilities?.add ?? []) if (!FARGATE_CAPABILITIES.has(String(cap).replace(/^CAP_/, ''))) added.add(String(cap).startsWith('CAP_') ? cap : `CAP_${cap}`);
  if (added.size > 0) sc.push(`Capabilities added: ${[...added].join(', ')}`);
  if (sc.length > 0) parts.push(`invalid SecurityContext fields: ${sc.join(', ')}`);
  if (containers.some((c: any) => (c.ports ?? []).some((p: any) => p.hostPort || p.hostIP))) parts.push('port contains HostIP or HostPort');
  const badVolumes: string[] = [];
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type && !ALLOWED_VOLUME_TYPES.has(type)) badVolumes.push(`${v.name} is of an unsupported volume Type`);
    else if (type === 'persistentVolumeClaim' && claimProblem) {
      const why = claimProblem(v.persistentVolumeClaim?.claimName ?? '');
      if (why) badVolumes.push(`${v.name} not supported because: ${why}`);
    }
  }
  if (badVolumes.length > 0) parts.push(`volumes not supported: ${badVolumes.join(', ')}`);
  return parts.length > 0 ? `Pod not supported on Fargate: ${parts.join(', ')}` : undefined;
}

/** vCPU (in milli) and the memory sizes (GiB) Fargate offers with it. */
const COMBINATIONS: Array<{ milliCpu: number; memoryGiB: number[] }> = [
  { milliCpu: 250, memoryGiB: [0.5, 1, 2] },
  { milliCpu: 500, memoryGiB: [1, 2, 3, 4] },
  { milliCpu: 1000, memoryGiB: range(2, 8, 1) },
  { milliCpu: 2000, memoryGiB: range(4, 16, 1) },
  { milliCpu: 4000, memoryGiB: range(8, 30, 1) },
  { milliCpu: 8000, memoryGiB: range(16, 60, 4) },
  { milliCpu: 16000, memoryGiB: range(32, 120, 8) },
];

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let x = from; x <= to; x += step) out.push(x);
  return out;
}

/** Memory Fargate adds to every pod for the kubelet, kube-proxy and containerd. */
export const FARGATE_OVERHEAD_BYTES = 256 * 2 ** 20;

export interface FargateSize {
  milliCpu: number;
  memoryBytes: number;
  /** The CapacityProvisioned annotation value, e.g. "0.25vCPU 0.5GB". */
  capacityProvisioned: string;
}

function sumRequests(pod: KObject, key: 'cpu' | 'memory'): number {
  const read = (c: any) => {
    const q = c.resources?.requests?.[key] ?? c.resources?.limits?.[key];
    return q === undefined ? 0 : key === 'cpu' ? milliValue(q) : value(q);
  };
  const containers = (pod.spec?.containers ?? []).reduce((s: number, c: any) => s + read(c), 0);
  const init = (pod.spec?.initContainers ?? []).reduce((m: number, c: any) => Math.max(m, read(c)), 0);
  return Math.max(containers, init);
}

/**
 * fargateSize picks the smallest combination that holds the pod's CPU and
 * memory (plus overhead). Returns undefined when the pod is larger than the
 * largest combination (16 vCPU, 120 GB): the pod cannot run on Fargate.
 */
export function fargateSize(pod: KObject): FargateSize | undefined {
  const cpu = sumRequests(pod, 'cpu');
  const mem = sumRequests(pod, 'memory') + FARGATE_OVERHEAD_BYTES;
  for (const combo of COMBINATIONS) {
    if (combo.milliCpu < cpu) continue;
    const gib = combo.memoryGiB.find((g) => g * 2 ** 30 >= mem);
    if (gib === undefined) continue;
    return { milliCpu: combo.milliCpu, memoryBytes: gib * 2 ** 30, capacityProvisioned: `${combo.milliCpu / 1000}vCPU ${gib}GB` };
  }
  return undefined;
}
