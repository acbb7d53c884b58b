/**
 * The DaemonSet controller of kube-controller-manager (pkg/controller/daemon),
 * as one pass over a cluster's watch cache:
 *
 * - a node should run a daemon pod when the pod template's nodeSelector and
 *   required node affinity match it and it tolerates the node's NoSchedule /
 *   NoExecute taints, with the tolerations upstream adds to every daemon pod
 *   (not-ready, unreachable, disk/memory/pid-pressure, unschedulable, and
 *   network-unavailable for hostNetwork pods); an untolerated NoSchedule taint
 *   only stops new pods, an untolerated NoExecute taint removes them. Fargate
 *   nodes (label eks.amazonaws.com/compute-type=fargate) never run them;
 * - daemon pods are created with generateName `<ds>-`, the template's labels
 *   plus controller-revision-hash and pod-template-generation, and a required
 *   node affinity `matchFields metadata.name In [<node>]` so the default
 *   scheduler binds them (upstream's ReplaceDaemonSetPodNodeNameNodeAffinity);
 *   failed pods are deleted and replaced, extra pods on a node are deleted;
 * - RollingUpdate replaces old pods within maxUnavailable, or with maxSurge
 *   starts the new pod beside the old one and deletes the old once the new is
 *   available (upstream's rollingUpdate); OnDelete replaces only deleted pods;
 * - ControllerRevisions `<ds>-<hash>` hold the template of each revision
 *   (data = {spec: {template: ..., $patch: replace}}), a template that comes
 *   back gets the next revision number (rollback), and revisions no pod uses
 *   beyond revisionHistoryLimit are deleted;
 * - status: desiredNumberScheduled, currentNumberScheduled,
 *   numberMisscheduled, numberReady, updatedNumberScheduled, numberAvailable,
 *   numberUnavailable, observedGeneration (what `kubectl rollout status ds/x`
 *   reads).
 *
 * Events: SuccessfulCreate "Created pod: <name>" and SuccessfulDelete
 * "Deleted pod: <name>" on the DaemonSet, from daemonset-controller.
 *
 * Not done yet: adoption of orphan pods and revisions, the create backoff of
 * failed pods, hash collisions (collisionCount), slow-start batches.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { generateName, timestamp } from '../../kube/apiserver/registry/generic-store.ts';
import { intOrPercent, isPodAvailable, isPodReady, podTemplateHash } from '../../kube/controllers/deployment/rollout.ts';
import { matchesNodeAffinity, tolerates } from '../scheduler/scheduler.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

export const REVISION_HASH_LABEL = 'controller-revision-hash';
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
export const FARGATE_COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';

const MANAGER = { fieldManager: 'kube-controller-manager' };

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/**
 * daemonPodTolerations returns the template's tolerations plus those the
 * controller adds to every daemon pod (util.AddOrUpdateDaemonPodTolerations).
 */
export function daemonPodTolerations(existing: Toleration[] | undefined, hostNetwork: boolean): Toleration[] {
  const out = [...(existing ?? [])];
  const add: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) add.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  for (const t of add) if (!out.some((o) => o.key === t.key && o.effect === t.effect && o.operator === t.operator)) out.push(t);
  return out;
}

/**
 * nodeShouldRunDaemonPod (upstream NodeShouldRunDaemonPod): whether the node
 * should get a daemon pod of this template, and whether an existing one may
 * continue running there.
 */
export function nodeShouldRunDaemonPod(node: KObject, template: KObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  if (node.metadata?.labels?.[FARGATE_COMPUTE_TYPE_LABEL] === 'fargate') return { shouldRun: false, shouldContinueRunning: false };
  const pod: KObject = { spec: { ...(template.spec ?? {}), tolerations: daemonPodTolerations(template.spec?.tolerations, !!template.spec?.hostNetwork) } };
  if (template.spec?.nodeName && template.spec.nodeName !== node.metadata?.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesNodeAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  let shouldRun = true;
  for (const taint of (node.spec?.taints ?? []) as Array<{ key: string; value?: string; effect: string }>) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if ((pod.spec.tolerations as Toleration[]).some((t) => tolerates(t, taint))) continue;
    if (taint.effect === 'NoExecute') return { shouldRun: false, shouldContinueRunning: false };
    shouldRun = false;
  }
  return { shouldRun, shouldContinueRunning: true };
}

/** targetNodeName: the node a daemon pod is for (spec.nodeName, else its matchFields metadata.name affinity). */
export function targetNodeName(pod: KObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** The pod spec of a daemon pod for one node: tolerations added, required node affinity pinned to the node. */
export function daemonPodSpec(template: KObject, nodeName: string): Record<string, any> {
  const spec = structuredClone(template.spec ?? {});
  spec.tolerations = daemonPodTolerations(spec.tolerations, !!spec.hostNetwork);
  spec.affinity ??= {};
  spec.affinity.nodeAffinity ??= {};
  spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
  };
  return spec;
}

/** The controller-revision-hash of a DaemonSet's current template (controller.ComputeHash). */
export function daemonSetHash(ds: KObject): string {
  return podTemplateHash(ds.spec?.template ?? {}, ds.status?.collisionCount ?? 0);
}

function isUpdated(pod: KObject, hash: string, generation: number | undefined): boolean {
  const l = pod.metadata?.labels ?? {};
  if (l[REVISION_HASH_LABEL] !== undefined) return l[REVISION_HASH_LABEL] === hash;
  return generation !== undefined && l[TEMPLATE_GENERATION_LABEL] === String(generation);
}

const byCreation = (a: KObject, b: KObject) =>
  String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) || String(a.metadata?.name).localeCompare(String(b.metadata?.name));

/** What one reconcile of a DaemonSet decides. */
export interface DaemonSetPlan {
  /** Nodes to create a pod on (with the current template). */
  create: string[];
  /** Pods to delete. */
  delete: KObject[];
  status: Record<string, number>;
}

/**
 * planDaemonSet computes, from the nodes and the DaemonSet's pods, the pods
 * to create and delete (manage + rollingUpdate) and the status; pure.
 */
export function planDaemonSet(ds: KObject, nodes: KObject[], pods: KObject[], nowMs: number): DaemonSetPlan {
  const hash = daemonSetHash(ds);
  const generation: number | undefined = ds.metadata?.generation;
  const template = ds.spec?.template ?? {};
  const minReady: number = ds.spec?.minReadySeconds ?? 0;
  const strategy = ds.spec?.updateStrategy ?? {};
  const rolling = (strategy.type ?? 'RollingUpdate') === 'RollingUpdate';
  const byNode = new Map<string, KObject[]>();
  for (const p of pods) {
    const n = targetNodeName(p);
    if (!n) continue;
    const l = byNode.get(n) ?? [];
    l.push(p);
    byNode.set(n, l);
  }
  const nodeNames = new Set(nodes.map((n) => n.metadata!.name!));
  const create: string[] = [];
  const del = new Map<string, KObject>();
  const should = new Map<string, { shouldRun: boolean; shouldContinueRunning: boolean }>();
  for (const node of nodes) should.set(node.metadata!.name!, nodeShouldRunDaemonPod(node, template));
  const desired = [...should.values()].filter((s) => s.shouldRun).length;
  const resolve = (v: unknown, dflt: number | string) => intOrPercent(v as any, desired, true, dflt);
  let maxSurge = rolling ? resolve(strategy.rollingUpdate?.maxSurge, 0) : 0;
  let maxUnavailable = rolling ? resolve(strategy.rollingUpdate?.maxUnavailable, 1) : 0;
  if (rolling && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  if (!rolling) maxSurge = 0;

  // manage: pods that should be on each node.
  for (const node of nodes) {
    const name = node.metadata!.name!;
    const { shouldRun, shouldContinueRunning } = should.get(name)!;
    const here = byNode.get(name) ?? [];
    if (shouldRun && here.length === 0) {
      create.push(name);
      continue;
    }
    if (shouldContinueRunning) {
      const running: KObject[] = [];
      for (const p of here) {
        if (p.metadata?.deletionTimestamp) continue;
        if (p.status?.phase === 'Failed') del.set(p.metadata!.uid!, p);
        else running.push(p);
      }
      running.sort(byCreation);
      if (maxSurge > 0) {
        const oldestNew = running.find((p) => isUpdated(p, hash, generation));
        const oldestOld = running.find((p) => !isUpdated(p, hash, generation));
        for (const p of running) if (p !== oldestNew && p !== oldestOld) del.set(p.metadata!.uid!, p);
        if (oldestNew && oldestOld && isPodAvailable(oldestNew, minReady, nowMs)) del.set(oldestOld.metadata!.uid!, oldestOld);
      } else {
        for (const p of running.slice(1)) del.set(p.metadata!.uid!, p);
      }
    } else {
      for (const p of here) if (!p.metadata?.deletionTimestamp) del.set(p.metadata!.uid!, p);
    }
  }
  // Pods for nodes that no longer exist.
  for (const [n, l] of byNode) if (!nodeNames.has(n)) for (const p of l) if (!p.metadata?.deletionTimestamp) del.set(p.metadata!.uid!, p);

  // rollingUpdate.
  if (rolling) {
    const candidates: string[] = [];
    let numUnavailable = 0;
    let numSurge = 0;
    const surgeNodes: string[] = [];
    const allowedSurge: string[] = [];
    for (const node of nodes) {
      const name = node.metadata!.name!;
      if (!should.get(name)!.shouldRun) continue;
      const live = (byNode.get(name) ?? []).filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Failed');
      const news = live.filter((p) => isUpdated(p, hash, generation));
      const olds = live.filter((p) => !isUpdated(p, hash, generation));
      if (news.length > 1 || olds.length > 1) continue; // manage fixes it first
      const newPod = news[0];
      const oldPod = olds[0];
      if (maxSurge === 0) {
        if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
        else if (newPod) {
          if (!isPodAvailable(newPod, minReady, nowMs)) numUnavailable++;
        } else if (oldPod) {
          if (!isPodAvailable(oldPod, minReady, nowMs)) del.set(oldPod.metadata!.uid!, oldPod);
          else if (numUnavailable < maxUnavailable) candidates.push(oldPod.metadata!.uid!);
        }
      } else {
        if (!oldPod) continue;
        if (!newPod) {
          if (!isPodAvailable(oldPod, minReady, nowMs)) allowedSurge.push(name);
          else if (numSurge < maxSurge) surgeNodes.push(name);
        } else if (!isPodAvailable(newPod, minReady, nowMs)) numSurge++;
        else del.set(oldPod.metadata!.uid!, oldPod);
      }
    }
    if (maxSurge === 0) {
      const remaining = Math.max(0, Math.min(maxUnavailable - numUnavailable, candidates.length));
      const all = new Map(pods.map((p) => [p.metadata!.uid!, p]));
      for (const uid of candidates.slice(0, remaining)) del.set(uid, all.get(uid)!);
    } else {
      const remaining = Math.max(0, Math.min(maxSurge - numSurge, surgeNodes.length));
      for (const n of [...allowedSurge, ...surgeNodes.slice(0, remaining)]) if (!create.includes(n)) create.push(n);
    }
  }

  // status (updateDaemonSetStatus).
  const status: Record<string, number> = {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 0,
    observedGeneration: generation ?? 1,
    updatedNumberScheduled: 0,
    numberAvailable: 0,
    numberUnavailable: 0,
  };
  for (const node of nodes) {
    const name = node.metadata!.name!;
    const here = (byNode.get(name) ?? []).filter((p) => !(p.metadata?.deletionTimestamp && (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')));
    const scheduled = here.length > 0;
    if (should.get(name)!.shouldRun) {
      status.desiredNumberScheduled!++;
      if (!scheduled) continue;
      status.currentNumberScheduled!++;
      const pod = [...here].sort(byCreation)[0]!;
      if (isPodReady(pod)) {
        status.numberReady!++;
        if (isPodAvailable(pod, minReady, nowMs)) status.numberAvailable!++;
      }
      if (isUpdated(pod, hash, generation)) status.updatedNumberScheduled!++;
    } else if (scheduled) status.numberMisscheduled!++;
  }
  status.numberUnavailable = status.desiredNumberScheduled! - status.numberAvailable!;
  return { create, delete: [...del.values()], status };
}

/** Records the controller's SuccessfulCreate / SuccessfulDelete event on the DaemonSet. */
async function dsEvent(reg: ClusterRegistry, ds: KObject, reason: string, message: string, nowMs: number): Promise<void> {
  const evRes = reg.scheme.get('', 'v1', 'events');
  if (!evRes) return;
  const m = ds.metadata!;
  const now = timestamp(new Date(nowMs));
  await reg
    .create(evRes, m.namespace!, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: generateName(`${m.name}.`), namespace: m.namespace },
      involvedObject: { kind: 'DaemonSet', namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: 'apps/v1', resourceVersion: m.resourceVersion },
      reason,
      message,
      source: { component: 'daemonset-controller' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type: 'Normal',
      reportingComponent: 'daemonset-controller',
      reportingInstance: '',
    }, { fieldManager: 'kube-controller-manager' })
    .catch(() => {});
}

function controllerUid(o: KObject): string | undefined {
  return (o.metadata?.ownerReferences ?? []).find((r) => r.controller)?.uid;
}

function revisionNumber(r: KObject): number {
  return Number(r.revision ?? 0) || 0;
}

/** Keeps the ControllerRevisions of a DaemonSet: current one present with the highest revision, history trimmed. */
async function syncRevisions(reg: ClusterRegistry, ds: KObject, revisions: KObject[], pods: KObject[], hash: string): Promise<void> {
  const crRes = reg.scheme.get('apps', 'v1', 'controllerrevisions');
  if (!crRes) return;
  const m = ds.metadata!;
  const ns = m.namespace!;
  const max = revisions.reduce((a, r) => Math.max(a, revisionNumber(r)), 0);
  const current = revisions.find((r) => r.metadata?.labels?.[REVISION_HASH_LABEL] === hash || r.metadata?.name === `${m.name}-${hash}`);
  if (!current) {
    const template = structuredClone(ds.spec?.template ?? {});
    await reg
      .create(crRes, ns, {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: {
          name: `${m.name}-${hash}`,
          namespace: ns,
          labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }],
        },
        data: { spec: { template: { ...template, $patch: 'replace' } } },
        revision: max + 1,
      }, MANAGER)
      .catch(() => {});
  } else if (revisionNumber(current) < max) {
    await reg
      .guaranteedUpdate(crRes, ns, current.metadata!.name!, (cur) => {
        if (!cur) throw new Error('revision gone');
        const next = structuredClone(cur);
        next.metadata!.resourceVersion = '';
        next.revision = max + 1;
        return next;
      }, MANAGER)
      .catch(() => {});
  }
  // History: revisions no live pod uses, beyond revisionHistoryLimit, oldest first.
  const limit: number = ds.spec?.revisionHistoryLimit ?? 10;
  const used = new Set(pods.map((p) => p.metadata?.labels?.[REVISION_HASH_LABEL]).filter(Boolean));
  const idle = revisions.filter((r) => r !== current && !used.has(r.metadata?.labels?.[REVISION_HASH_LABEL])).sort((a, b) => revisionNumber(a) - revisionNumber(b));
  for (const r of idle.slice(0, Math.max(0, idle.length - limit))) {
    await reg.delete(crRes, ns, r.metadata!.name!, { preconditions: { uid: r.metadata!.uid } }).catch(() => {});
  }
}

/** Per cluster registry: DaemonSet uid -> signature of the inputs last reconciled (skip unchanged DaemonSets). */
const lastSeen = new WeakMap<object, Map<string, string>>();

/** syncDaemonSets runs one reconcile of every DaemonSet of the cluster. */
export async function syncDaemonSets(ctx: Pick<ControllerContext, 'reg' | 'nowMs' | 'wake' | 'log'>): Promise<void> {
  const { reg } = ctx;
  const dsRes = reg.scheme.get('apps', 'v1', 'daemonsets');
  const podsRes = reg.scheme.get('', 'v1', 'pods');
  if (!dsRes || !podsRes) return;
  const list = reg.cache.list('apps/daemonsets', '');
  if (list.length === 0) return;
  const nodeEntries = reg.cache.list('nodes', '');
  const nodes = nodeEntries.map((e) => e.obj).filter((n) => !n.metadata?.deletionTimestamp);
  const nodesSig = `${nodeEntries.length}/${nodeEntries.reduce((a, e) => Math.max(a, e.rev), 0)}`;
  const podsByOwner = new Map<string, KObject[]>();
  const ownerRev = new Map<string, number>();
  for (const e of reg.cache.list('pods', '')) {
    const uid = controllerUid(e.obj);
    if (!uid) continue;
    const l = podsByOwner.get(uid) ?? [];
    l.push(e.obj);
    podsByOwner.set(uid, l);
    if (e.rev > (ownerRev.get(uid) ?? 0)) ownerRev.set(uid, e.rev);
  }
  const revsByOwner = new Map<string, KObject[]>();
  const revsRev = new Map<string, number>();
  for (const e of reg.cache.list('apps/controllerrevisions', '')) {
    const uid = controllerUid(e.obj);
    if (!uid) continue;
    const l = revsByOwner.get(uid) ?? [];
    l.push(e.obj);
    revsByOwner.set(uid, l);
    if (e.rev > (revsRev.get(uid) ?? 0)) revsRev.set(uid, e.rev);
  }
  let seen = lastSeen.get(reg);
  if (!seen) lastSeen.set(reg, (seen = new Map()));
  const jobs: Promise<unknown>[] = [];
  for (const e of list) {
    const ds = e.obj;
    const m = ds.metadata!;
    const ns = m.namespace!;
    const pods = podsByOwner.get(m.uid!) ?? [];
    // Nothing this DaemonSet depends on changed since the last pass (and no minReadySeconds clock): skip it.
    const uidKey = m.uid!;
    const inputs = `${e.rev}|${nodesSig}|${pods.length}/${ownerRev.get(uidKey) ?? 0}|${revsByOwner.get(uidKey)?.length ?? 0}/${revsRev.get(uidKey) ?? 0}`;
    if (!(ds.spec?.minReadySeconds > 0) && seen.get(uidKey) === inputs) continue;
    seen.set(uidKey, inputs);
    const forget = () => seen!.delete(uidKey);
    const hash = daemonSetHash(ds);
    const plan = planDaemonSet(ds, nodes, pods, ctx.nowMs);
    if (!m.deletionTimestamp) {
      try {
        await syncRevisions(reg, ds, revsByOwner.get(m.uid!) ?? [], pods, hash);
      } catch (err) {
        forget();
        ctx.log.warn({ err, ds: m.name }, 'daemonset: revision sync failed');
      }
      const t = ds.spec?.template ?? {};
      for (const nodeName of plan.create) {
        const pod: KObject = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            generateName: `${m.name}-`,
            namespace: ns,
            labels: { ...(t.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash, [TEMPLATE_GENERATION_LABEL]: String(m.generation ?? 1) },
            ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }],
          },
          spec: daemonPodSpec(t, nodeName),
        };
        jobs.push(
          reg
            .create(podsRes, ns, pod, MANAGER)
            .then((p) => dsEvent(reg, ds, 'SuccessfulCreate', `Created pod: ${p.metadata!.name}`, ctx.nowMs))
            .catch((err) => {
              forget();
              ctx.log.warn({ err, ds: m.name, node: nodeName }, 'daemonset: pod create failed');
            }),
        );
      }
      for (const p of plan.delete) {
        jobs.push(
          reg
            .delete(podsRes, ns, p.metadata!.name!, { preconditions: { uid: p.metadata!.uid } })
            .then(() => dsEvent(reg, ds, 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`, ctx.nowMs))
            .catch(forget),
        );
      }
      // minReadySeconds: come back when a ready pod becomes available.
      const minReady: number = ds.spec?.minReadySeconds ?? 0;
      if (minReady > 0) {
        for (const p of pods) {
          if (!isPodReady(p) || isPodAvailable(p, minReady, ctx.nowMs)) continue;
          const ready = (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
          ctx.wake(Date.parse(ready.lastTransitionTime) + minReady * 1000);
        }
      }
    }
    const cur = ds.status ?? {};
    if (Object.entries(plan.status).every(([k, v]) => (cur[k] ?? 0) === v) && ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'].every((k) => k in cur)) continue;
    jobs.push(
      reg
        .guaranteedUpdate(dsRes, ns, m.name!, (c) => {
          if (!c || c.metadata?.uid !== m.uid) throw new Error('daemonset replaced');
          const next = structuredClone(c);
          next.metadata!.resourceVersion = '';
          const status: Record<string, unknown> = { ...(c.status ?? {}), ...plan.status };
          for (const k of ['updatedNumberScheduled', 'numberAvailable', 'numberUnavailable']) if (status[k] === 0) delete status[k];
          next.status = status;
          return next;
        }, { ...MANAGER, subresource: 'status' })
        .catch((err) => {
          forget();
          ctx.log.warn({ err, ds: m.name }, 'daemonset: status update failed');
        }),
    );
  }
  await Promise.all(jobs);
}

/** The DaemonSet controller, as the data plane loop runs it. */
export const daemonSetController: WorkloadController = {
  name: 'daemonset',
  resources: ['apps/daemonsets', 'apps/controllerrevisions', 'nodes', 'pods'],
  sync: syncDaemonSets,
};
