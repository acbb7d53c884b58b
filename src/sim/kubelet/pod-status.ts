/**
 * The pod statuses a kubelet writes, step by step, without containers:
 *
 *   bound -> Pending/ContainerCreating -> Running (Ready after probes)
 *         -> Succeeded/Failed (when the simulated program ends)
 *
 * Each function returns a whole `status` for the pod at that step, shaped as
 * a real kubelet writes it (conditions in kubelet's order, containerStatuses
 * with state/ready/started/restartCount/image/imageID/containerID, hostIP,
 * podIP(s), startTime, qosClass), so `kubectl get pods`, `describe`,
 * `rollout status` and controllers read them as they would on EKS.
 *
 * What a container "does" is declared with annotations on the pod (or its
 * template), documented in docs/simulation.md:
 *   sim.localeks.io/duration:    how long containers run before exiting ("30s", "2m");
 *                                 absent = forever (a server)
 *   sim.localeks.io/exit-code:   exit code when they end (default 0)
 *   sim.localeks.io/start-delay: time from binding to Running (default per timing profile)
 */
import type { KObject } from '../../kube/api/types.ts';

export const ANNOTATION_DURATION = 'sim.localeks.io/duration';
export const ANNOTATION_EXIT_CODE = 'sim.localeks.io/exit-code';
export const ANNOTATION_START_DELAY = 'sim.localeks.io/start-delay';

/** parseDuration reads "1h2m3.5s", "250ms", "10" (seconds) into milliseconds; undefined when invalid. */
export function parseDuration(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
    matched = re.lastIndex;
  }
  return matched === t.length && t.length > 0 ? total : undefined;
}

/** QoS class as kube computes it (Guaranteed, Burstable, BestEffort). */
export function qosClass(pod: KObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || q === undefined || String(q) !== String(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function cond(type: string, status: boolean, at: string, extra: Record<string, string> = {}): Record<string, unknown> {
  return { type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: at, ...extra };
}

function imageRef(image: string): string {
  const name = image.includes('@') ? image.split('@')[0]! : image.replace(/:[^:/]+$/, '');
  return name.includes('/') ? (name.split('/')[0]!.includes('.') ? name : `docker.io/${name}`) : `docker.io/library/${name}`;
}

/** imageId returns a stable fake digest reference for an image. */
export function imageId(image: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < image.length; i++) h = Math.imul(h ^ image.charCodeAt(i), 16777619) >>> 0;
  const hex = (h.toString(16).padStart(8, '0').repeat(8)).slice(0, 64);
  return `${imageRef(image)}@sha256:${hex}`;
}

function containerId(podUid: string, name: string): string {
  let h = 2166136261;
  const s = `${podUid}/${name}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return `containerd://${h.toString(16).padStart(8, '0').repeat(8)}`;
}

export interface PodNetwork {
  hostIP: string;
  /** Absent while the CNI has not assigned one. */
  podIP?: string;
}

/** containerCreatingStatus: bound, sandbox being created (waiting ContainerCreating). */
export function containerCreatingStatus(pod: KObject, net: PodNetwork, now: string, scheduledAt?: string): Record<string, unknown> {
  const at = scheduledAt ?? now;
  const hasInit = (pod.spec?.initContainers ?? []).length > 0;
  return {
    phase: 'Pending',
    conditions: [
      cond('PodReadyToStartContainers', false, now),
      cond('Initialized', !hasInit, now, hasInit ? { reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${pod.spec.initContainers.map((c: any) => c.name).join(' ')}]` } : {}),
      cond('Ready', false, now, { reason: 'ContainersNotReady', message: `containers with unready status: [${(pod.spec?.containers ?? []).map((c: any) => c.name).join(' ')}]` }),
      cond('ContainersReady', false, now, { reason: 'ContainersNotReady', message: `containers with unready status: [${(pod.spec?.containers ?? []).map((c: any) => c.name).join(' ')}]` }),
      cond('PodScheduled', true, at),
    ],
    hostIP: net.hostIP,
    hostIPs: [{ ip: net.hostIP }],
    startTime: now,
    containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
      name: c.name,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: c.image,
      imageID: '',
      started: false,
    })),
    ...(hasInit
      ? {
          initContainerStatuses: pod.spec.initContainers.map((c: any) => ({
            name: c.name,
            state: { waiting: { reason: 'PodInitializing' } },
            lastState: {},
            ready: false,
            restartCount: 0,
            image: c.image,
            imageID: '',
            started: false,
          })),
        }
      : {}),
    qosClass: qosClass(pod),
  };
}

/** runningStatus: every container running; `ready` tells whether readiness has passed. */
export function runningStatus(pod: KObject, net: PodNetwork, startedAt: string, now: string, ready: boolean, scheduledAt?: string): Record<string, unknown> {
  const uid = pod.metadata?.uid ?? '';
  const hasInit = (pod.spec?.initContainers ?? []).length > 0;
  const names = (pod.spec?.containers ?? []).map((c: any) => c.name).join(' ');
  return {
    phase: 'Running',
    conditions: [
      cond('PodReadyToStartContainers', true, startedAt),
      cond('Initialized', true, startedAt),
      cond('Ready', ready, now, ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${names}]` }),
      cond('ContainersReady', ready, now, ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${names}]` }),
      cond('PodScheduled', true, scheduledAt ?? startedAt),
    ],
    hostIP: net.hostIP,
    hostIPs: [{ ip: net.hostIP }],
    ...(net.podIP ? { podIP: net.podIP, podIPs: [{ ip: net.podIP }] } : {}),
    startTime: startedAt,
    containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
      name: c.name,
      state: { running: { startedAt } },
      lastState: {},
      ready,
      restartCount: 0,
      image: c.image,
      imageID: imageId(c.image ?? ''),
      containerID: containerId(uid, c.name),
      started: true,
    })),
    ...(hasInit
      ? {
          initContainerStatuses: pod.spec.initContainers.map((c: any) => ({
            name: c.name,
            state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: startedAt, containerID: containerId(uid, c.name) } },
            lastState: {},
            ready: true,
            restartCount: 0,
            image: c.image,
            imageID: imageId(c.image ?? ''),
            containerID: containerId(uid, c.name),
            started: false,
          })),
        }
      : {}),
    qosClass: qosClass(pod),
  };
}

/** terminatedStatus: the containers exited with exitCode (restartPolicy Never/OnFailure decides the phase upstream of this). */
export function terminatedStatus(pod: KObject, net: PodNetwork, startedAt: string, finishedAt: string, exitCode: number): Record<string, unknown> {
  const uid = pod.metadata?.uid ?? '';
  const ok = exitCode === 0;
  const reason = ok ? 'Completed' : 'Error';
  const names = (pod.spec?.containers ?? []).map((c: any) => c.name).join(' ');
  return {
    phase: ok ? 'Succeeded' : 'Failed',
    conditions: [
      cond('PodReadyToStartContainers', false, finishedAt),
      cond('Initialized', true, startedAt, ok ? { reason: 'PodCompleted' } : {}),
      cond('Ready', false, finishedAt, { reason: ok ? 'PodCompleted' : 'PodFailed', ...(ok ? {} : { message: `containers with unready status: [${names}]` }) }),
      cond('ContainersReady', false, finishedAt, { reason: ok ? 'PodCompleted' : 'PodFailed', ...(ok ? {} : { message: `containers with unready status: [${names}]` }) }),
      cond('PodScheduled', true, startedAt),
    ],
    hostIP: net.hostIP,
    hostIPs: [{ ip: net.hostIP }],
    ...(net.podIP ? { podIP: net.podIP, podIPs: [{ ip: net.podIP }] } : {}),
    startTime: startedAt,
    containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
      name: c.name,
      state: { terminated: { exitCode, reason, startedAt, finishedAt, containerID: containerId(uid, c.name) } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: c.image,
      imageID: imageId(c.image ?? ''),
      containerID: containerId(uid, c.name),
      started: false,
    })),
    qosClass: qosClass(pod),
  };
}

/** readinessDelayMs: the longest initialDelaySeconds among startup and readiness probes (probes pass once reached). */
export function readinessDelayMs(pod: KObject): number {
  let max = 0;
  for (const c of pod.spec?.containers ?? []) {
    for (const p of [c.startupProbe, c.readinessProbe]) {
      if (p) max = Math.max(max, (p.initialDelaySeconds ?? 0) * 1000 + (p.periodSeconds ?? 10) * 1000 * Math.max(0, (p.successThreshold ?? 1) - 1));
    }
  }
  return max;
}

/** programOutcome: when (after start) and how the pod's containers end; undefined = they run until deleted. */
export function programOutcome(pod: KObject): { afterMs: number; exitCode: number } | undefined {
  const a = pod.metadata?.annotations ?? {};
  const d = parseDuration(a[ANNOTATION_DURATION]);
  if (d === undefined) return undefined;
  const code = Number.parseInt(a[ANNOTATION_EXIT_CODE] ?? '0', 10);
  return { afterMs: d, exitCode: Number.isFinite(code) ? code : 0 };
}
