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
      // started turns true once the startup probe has passed (at once without one).
      started: ready || Date.parse(now) - Date.parse(startedAt) >= startupDelayMs(c),
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

/** startupDelayMs: when a container's startup probe first passes, after its start (0 without one). */
export function startupDelayMs(container: any): number {
  const p = container?.startupProbe;
  return p ? (p.initialDelaySeconds ?? 0) * 1000 : 0;
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

/** A pod annotation: how long its containers take to exit after SIGTERM (after any preStop hook). Default 0. */
export const ANNOTATION_STOP_DURATION = 'sim.localeks.io/stop-duration';

/** The kubelet's container restart back-off: 10 s doubling per restart, at most 5 minutes. */
export function restartBackoffMs(restartCount: number): number {
  return Math.min(300_000, 10_000 * 2 ** Math.max(0, restartCount - 1));
}

/**
 * stopDurationMs: how long the containers take to stop once the pod is
 * deleted: the longest preStop hook (`sleep` action, or an exec `sleep N`)
 * plus the stop-duration annotation. The kubelet kills them at the grace
 * period regardless.
 */
export function stopDurationMs(pod: KObject): number {
  let hook = 0;
  for (const c of pod.spec?.containers ?? []) {
    const pre = c.lifecycle?.preStop;
    if (!pre) continue;
    if (pre.sleep?.seconds !== undefined) hook = Math.max(hook, Number(pre.sleep.seconds) * 1000);
    const cmd = (pre.exec?.command ?? []).join(' ');
    const m = /\bsleep\s+(\d+(?:\.\d+)?)/.exec(cmd);
    if (m) hook = Math.max(hook, Number(m[1]) * 1000);
  }
  return hook + (parseDuration(pod.metadata?.annotations?.[ANNOTATION_STOP_DURATION]) ?? 0);
}

/**
 * restartedStatus: the pod's status after its containers ended with
 * exitCode under restartPolicy Always: restartCount + 1 and lastState
 * terminated; running again at `now` (exit 0), or waiting in
 * CrashLoopBackOff (non-zero exit) until restartBackoffMs(restartCount) has passed.
 */
export function restartedStatus(pod: KObject, prev: Record<string, any>, net: PodNetwork, now: string, exitCode: number, scheduledAt?: string): Record<string, unknown> {
  const uid = pod.metadata?.uid ?? '';
  const crash = exitCode !== 0;
  const base = runningStatus(pod, net, now, now, !crash && readinessDelayMs(pod) === 0, scheduledAt) as any;
  base.startTime = prev.startTime ?? now;
  const prevStatuses: any[] = prev.containerStatuses ?? [];
  base.containerStatuses = base.containerStatuses.map((cs: any) => {
    const old = prevStatuses.find((x) => x.name === cs.name) ?? {};
    const restartCount = (old.restartCount ?? 0) + 1;
    const startedAt = old.state?.running?.startedAt ?? now;
    const lastState = { terminated: { exitCode, reason: crash ? 'Error' : 'Completed', startedAt, finishedAt: now, containerID: containerId(uid, cs.name) } };
    if (!crash) return { ...cs, restartCount, lastState };
    const backoff = restartBackoffMs(restartCount) / 1000;
    return {
      ...cs,
      restartCount,
      lastState,
      ready: false,
      started: false,
      state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${backoff >= 60 ? `${backoff / 60}m0s` : `${backoff}s`} restarting failed container=${cs.name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${uid})` } },
    };
  });
  return base;
}

/** backOffRestartedStatus: running again after a CrashLoopBackOff wait (restartCount and lastState kept). */
export function backOffRestartedStatus(pod: KObject, prev: Record<string, any>, net: PodNetwork, now: string, scheduledAt?: string): Record<string, unknown> {
  return carryRestarts(runningStatus(pod, net, now, now, readinessDelayMs(pod) === 0, scheduledAt), prev);
}

/** carryRestarts keeps the previous status's restart counts, last states and pod startTime in a freshly built status (in place; returns it). */
export function carryRestarts(status: Record<string, any>, prev: Record<string, any>): Record<string, any> {
  if (prev.startTime) status.startTime = prev.startTime;
  const prevStatuses: any[] = prev.containerStatuses ?? [];
  status.containerStatuses = (status.containerStatuses ?? []).map((cs: any) => {
    const old = prevStatuses.find((x) => x.name === cs.name);
    return old ? { ...cs, restartCount: old.restartCount ?? 0, lastState: old.lastState ?? {} } : cs;
  });
  return status;
}

/** A pod annotation: how long each init container runs (in order) before the next starts. Default 0: they complete at once. */
export const ANNOTATION_INIT_DURATION = 'sim.localeks.io/init-duration';

/** initDurationMs: how long each init container of the pod runs (0 without init containers or the annotation). */
export function initDurationMs(pod: KObject): number {
  if ((pod.spec?.initContainers ?? []).length === 0) return 0;
  return parseDuration(pod.metadata?.annotations?.[ANNOTATION_INIT_DURATION]) ?? 0;
}

/**
 * initStatus: init container `index` running since `now` (earlier ones
 * Completed), the later ones and the app containers waiting
 * PodInitializing; `kubectl get pods` shows Init:<index>/<n>.
 */
export function initStatus(pod: KObject, net: PodNetwork, now: string, index: number, prev: Record<string, any>, scheduledAt?: string): Record<string, unknown> {
  const uid = pod.metadata?.uid ?? '';
  const inits: any[] = pod.spec?.initContainers ?? [];
  const base = containerCreatingStatus(pod, net, now, scheduledAt) as any;
  base.startTime = prev.startTime ?? now;
  if (net.podIP) {
    base.podIP = net.podIP;
    base.podIPs = [{ ip: net.podIP }];
  }
  base.conditions = base.conditions.map((c: any) => (c.type === 'PodReadyToStartContainers' ? { ...c, status: 'True' } : c));
  base.containerStatuses = base.containerStatuses.map((cs: any) => ({ ...cs, state: { waiting: { reason: 'PodInitializing' } } }));
  const prevInit: any[] = prev.initContainerStatuses ?? [];
  base.initContainerStatuses = inits.map((c: any, i: number) => {
    const common = { name: c.name, lastState: {}, restartCount: 0, image: c.image, imageID: imageId(c.image ?? ''), containerID: containerId(uid, c.name) };
    if (i < index) {
      const old = prevInit.find((x) => x.name === c.name);
      const startedAt = old?.state?.terminated?.startedAt ?? old?.state?.running?.startedAt ?? now;
      return { ...common, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: old?.state?.terminated?.finishedAt ?? now, containerID: common.containerID } }, ready: true, started: false };
    }
    if (i === index) return { ...common, state: { running: { startedAt: now } }, ready: false, started: true };
    return { name: c.name, state: { waiting: { reason: 'PodInitializing' } }, lastState: {}, ready: false, restartCount: 0, image: c.image, imageID: '', started: false };
  });
  return base;
}

/** carryInitTimes keeps the init containers' real start and finish times (from the init phase) in a running status (in place; returns it). */
export function carryInitTimes(status: Record<string, any>, prev: Record<string, any>): Record<string, any> {
  if (prev.startTime) status.startTime = prev.startTime;
  const prevInit: any[] = prev.initContainerStatuses ?? [];
  const now = status.containerStatuses?.[0]?.state?.running?.startedAt;
  status.initContainerStatuses = (status.initContainerStatuses ?? []).map((cs: any) => {
    const old = prevInit.find((x) => x.name === cs.name);
    const startedAt = old?.state?.terminated?.startedAt ?? old?.state?.running?.startedAt;
    if (!startedAt) return cs;
    return { ...cs, state: { terminated: { ...cs.state.terminated, startedAt, finishedAt: old?.state?.terminated?.finishedAt ?? now } } };
  });
  return status;
}
