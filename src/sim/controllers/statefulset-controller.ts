/**
 * The StatefulSet controller of kube-controller-manager as one pass over a
 * cluster's watch cache (stateful_set_control.go's updateStatefulSet):
 *
 * - pods `<set>-<ordinal>` for ordinals [start, start+replicas)
 *   (spec.ordinals.start), labelled `statefulset.kubernetes.io/pod-name`,
 *   `apps.kubernetes.io/pod-index` and `controller-revision-hash`, with
 *   hostname = pod name and subdomain = serviceName;
 * - volumeClaimTemplates: a PVC `<claim>-<set>-<ordinal>` per pod (created
 *   before the pod, labelled with the selector's matchLabels), mounted as the
 *   template's volume; persistentVolumeClaimRetentionPolicy: whenDeleted
 *   Delete makes the set the PVC's owner, whenScaled Delete makes the
 *   condemned pod its owner before the pod is deleted (the garbage collector
 *   does the rest);
 * - podManagementPolicy OrderedReady: one pod created at a time, each
 *   waiting for the previous ordinals to be Running and Ready; scale-down
 *   from the highest ordinal, one at a time; Parallel: all at once;
 * - ControllerRevisions `<set>-<hash>` with the template (`$patch: replace`)
 *   and increasing revision numbers (an old template coming back gets the
 *   next number), trimmed to revisionHistoryLimit;
 * - RollingUpdate: pods with ordinal >= partition not at the update
 *   revision are deleted from the highest ordinal down, one at a time once
 *   every pod is Running and Ready, and come back at the update revision;
 *   pods below the partition are (re)created at the current revision;
 *   OnDelete: pods take the update revision when they are re-created;
 * - status: replicas, readyReplicas, currentReplicas, updatedReplicas,
 *   availableReplicas (minReadySeconds), currentRevision, updateRevision,
 *   observedGeneration, collisionCount, as `kubectl rollout status sts` reads.
 *
 * - events SuccessfulCreate / SuccessfulDelete for pods and claims.
 *
 * Not done: rollingUpdate.maxUnavailable (MaxUnavailableStatefulSet alpha),
 * adoption/release of pods by selector, PVC resize.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { Resource } from '../../kube/api/scheme.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { canonicalJson, fnv32a, isPodAvailable, isPodReady, safeEncodeString } from '../../kube/controllers/deployment/rollout.ts';
import { recordEvent } from './object-events.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';
const MANAGER = { fieldManager: 'kube-controller-manager' };

function controllerUid(o: KObject): string | undefined {
  return (o.metadata?.ownerReferences ?? []).find((r) => r.controller)?.uid;
}

/** The ControllerRevision data of a template (what upstream stores and hashes). */
export function revisionData(template: KObject): Record<string, unknown> {
  return { spec: { template: { ...structuredClone(template), $patch: 'replace' } } };
}

/** revisionName: `<set>-<hash of the revision data and collisionCount>` (controller.ComputeHash). */
export function revisionName(set: KObject): string {
  let s = canonicalJson(revisionData(set.spec?.template ?? {}));
  const cc = set.status?.collisionCount ?? 0;
  if (cc > 0) s += `#${cc}`;
  return `${set.metadata!.name}-${safeEncodeString(String(fnv32a(s)))}`;
}

/** ordinalOf a pod of the set named `<set>-<n>` (undefined otherwise). */
export function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** claimName of a volumeClaimTemplate for an ordinal: `<claim>-<set>-<ordinal>`. */
export function claimName(claim: string, setName: string, ordinal: number): string {
  return `${claim}-${setName}-${ordinal}`;
}

const runningAndReady = (p: KObject) => p.status?.phase === 'Running' && isPodReady(p);
const terminating = (p: KObject) => !!p.metadata?.deletionTimestamp;
const failedPod = (p: KObject) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';

/** The pod of `ordinal` built from a template at a revision (newStatefulSetPod + setPodRevision). */
export function newPod(set: KObject, template: KObject, ordinal: number, revision: string): KObject {
  const m = set.metadata!;
  const name = `${m.name}-${ordinal}`;
  const t = structuredClone(template);
  const spec = t.spec ?? {};
  const volumes: any[] = [...(spec.volumes ?? [])];
  for (const c of set.spec?.volumeClaimTemplates ?? []) {
    const v = { name: c.metadata?.name, persistentVolumeClaim: { claimName: claimName(c.metadata?.name, m.name!, ordinal) } };
    const i = volumes.findIndex((x) => x.name === v.name);
    if (i >= 0) volumes[i] = v;
    else volumes.push(v);
  }
  if (volumes.length) spec.volumes = volumes;
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: m.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

/** syncStatefulSets runs one reconcile of every StatefulSet of the cluster. */
export async function syncStatefulSets(ctx: ControllerContext): Promise<void> {
  const { reg } = ctx;
  const setRes = reg.scheme.get('apps', 'v1', 'statefulsets');
  if (!setRes) return;
  const sets = reg.cache.list('apps/statefulsets', '');
  if (sets.length === 0) return;
  const group = (resource: string) => {
    const m = new Map<string, KObject[]>();
    for (const e of reg.cache.list(resource, '')) {
      const uid = controllerUid(e.obj);
      if (!uid) continue;
      const l = m.get(uid) ?? [];
      l.push(e.obj);
      m.set(uid, l);
    }
    return m;
  };
  const pods = group('pods');
  const revisions = group('apps/controllerrevisions');
  for (const e of sets) {
    const s = e.obj;
    if (s.metadata?.deletionTimestamp) continue;
    try {
      await syncSet(ctx, setRes, s, pods.get(s.metadata!.uid!) ?? [], revisions.get(s.metadata!.uid!) ?? []);
    } catch (err) {
      ctx.log.warn({ err, statefulset: s.metadata?.name }, 'statefulset sync failed');
    }
  }
}

function res(reg: ClusterRegistry, g: string, v: string, r: string): Resource {
  const x = reg.scheme.get(g, v, r);
  if (!x) throw new Error(`${r} not served`);
  return x;
}

async function syncSet(ctx: ControllerContext, setRes: Resource, set: KObject, pods: KObject[], revisions: KObject[]): Promise<void> {
  const { reg } = ctx;
  const m = set.metadata!;
  const ns = m.namespace!;
  const spec = set.spec ?? {};
  const podsRes = res(reg, '', 'v1', 'pods');
  const crRes = res(reg, 'apps', 'v1', 'controllerrevisions');

  // Revisions.
  const updateRevision = revisionName(set);
  const maxRev = revisions.reduce((a, r) => Math.max(a, Number(r.revision ?? 0)), 0);
  let update = revisions.find((r) => r.metadata?.name === updateRevision);
  if (!update) {
    update = await reg.create(crRes, ns, {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: updateRevision,
        namespace: ns,
        labels: { ...(spec.selector?.matchLabels ?? {}), [REVISION_LABEL]: updateRevision },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }],
      },
      data: revisionData(spec.template ?? {}),
      revision: maxRev + 1,
    }, MANAGER);
    revisions = [...revisions, update];
  } else if (Number(update.revision ?? 0) < maxRev) {
    update = await reg.guaranteedUpdate(crRes, ns, updateRevision, (cur) => {
      if (!cur) throw new Error('revision gone');
      const next = structuredClone(cur);
      next.metadata!.resourceVersion = '';
      next.revision = maxRev + 1;
      return next;
    }, MANAGER);
  }
  const currentRevision: string = set.status?.currentRevision && revisions.some((r) => r.metadata?.name === set.status.currentRevision) ? set.status.currentRevision : updateRevision;
  const current = revisions.find((r) => r.metadata?.name === currentRevision) ?? update;
  const templateOf = (rev: KObject): KObject => {
    const t = structuredClone(rev.data?.spec?.template ?? spec.template ?? {});
    delete t.$patch;
    return t;
  };

  const replicas: number = spec.replicas ?? 1;
  const start: number = spec.ordinals?.start ?? 0;
  const monotonic = (spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition: number = rolling ? (spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
  const byOrdinal = new Map<number, KObject>();
  const condemned: KObject[] = [];
  for (const p of pods) {
    const o = ordinalOf(m.name!, p.metadata!.name!);
    if (o === undefined) continue;
    if (o >= start && o < start + replicas) byOrdinal.set(o, p);
    else condemned.push(p);
  }
  condemned.sort((a, b) => ordinalOf(m.name!, b.metadata!.name!)! - ordinalOf(m.name!, a.metadata!.name!)!);

  const minReady: number = spec.minReadySeconds ?? 0;
  // OrderedReady waits for Running and Available (minReadySeconds) predecessors.
  const runningAndAvailable = (p: KObject) => {
    if (!runningAndReady(p)) return false;
    if (isPodAvailable(p, minReady, ctx.nowMs)) return true;
    const r = (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready' && c.status === 'True');
    if (r) ctx.wake(Date.parse(r.lastTransitionTime) + minReady * 1000);
    return false;
  };
  const revisionFor = (ordinal: number) => (rolling && ordinal < start + partition ? current : update!);
  const ev = (reason: string, message: string) => recordEvent(reg, ctx.nowMs, { apiVersion: 'apps/v1', kind: 'StatefulSet', ...set }, 'Normal', reason, message, 'statefulset-controller');
  const del = (p: KObject) =>
    reg
      .delete(podsRes, ns, p.metadata!.name!, { preconditions: { uid: p.metadata!.uid } })
      .then(() => ev('SuccessfulDelete', `delete Pod ${p.metadata!.name} in StatefulSet ${m.name} successful`))
      .catch(() => {});

  await (async () => {
    // Failed pods are replaced.
    for (const [o, p] of byOrdinal) {
      if (failedPod(p) && !terminating(p)) {
        await del(p);
        byOrdinal.delete(o);
        if (monotonic) return;
      }
    }
    // Create missing pods in ordinal order; OrderedReady waits on each.
    for (let o = start; o < start + replicas; o++) {
      const p = byOrdinal.get(o);
      if (!p) {
        const rev = revisionFor(o);
        await ensureClaims(ctx, set, o);
        await reg
          .create(podsRes, ns, newPod(set, templateOf(rev), o, rev.metadata!.name!), MANAGER)
          .then(() => ev('SuccessfulCreate', `create Pod ${m.name}-${o} in StatefulSet ${m.name} successful`))
          .catch((err) => ctx.log.warn({ err, statefulset: m.name }, 'statefulset: pod create failed'));
        if (monotonic) return;
        continue;
      }
      if (monotonic && (terminating(p) || !runningAndAvailable(p))) return;
    }
    // Scale down from the highest ordinal.
    for (const p of condemned) {
      if (terminating(p)) {
        if (monotonic) return;
        continue;
      }
      if (monotonic && [...byOrdinal.values()].some((x) => !runningAndReady(x))) return;
      await releaseClaimsOnScaleDown(ctx, set, p);
      await del(p);
      if (monotonic) return;
    }
    // RollingUpdate: highest ordinal first, down to the partition, one at a time.
    if (!rolling) return;
    for (let o = start + replicas - 1; o >= start + partition; o--) {
      const p = byOrdinal.get(o);
      if (!p) return;
      if (p.metadata?.labels?.[REVISION_LABEL] !== updateRevision && !terminating(p)) {
        await del(p);
        return;
      }
      // Wait for unhealthy pods on update.
      if (terminating(p) || !runningAndReady(p)) return;
    }
  })();

  // Revision history: revisions no pod uses beyond revisionHistoryLimit, oldest first.
  const limit: number = spec.revisionHistoryLimit ?? 10;
  const used = new Set([currentRevision, updateRevision, ...pods.map((p) => p.metadata?.labels?.[REVISION_LABEL])]);
  const idle = revisions.filter((r) => !used.has(r.metadata!.name!)).sort((a, b) => Number(a.revision ?? 0) - Number(b.revision ?? 0));
  for (const r of idle.slice(0, Math.max(0, idle.length - limit))) {
    await reg.delete(crRes, ns, r.metadata!.name!, { preconditions: { uid: r.metadata!.uid } }).catch(() => {});
  }

  // Status from the pods observed at the start of the pass.
  const live = pods.filter((p) => !failedPod(p));
  const status: Record<string, any> = {
    observedGeneration: m.generation ?? 1,
    replicas: live.length,
    readyReplicas: live.filter(runningAndReady).length,
    currentReplicas: live.filter((p) => p.metadata?.labels?.[REVISION_LABEL] === currentRevision).length,
    updatedReplicas: live.filter((p) => p.metadata?.labels?.[REVISION_LABEL] === updateRevision).length,
    availableReplicas: live.filter((p) => runningAndReady(p) && isPodAvailable(p, minReady, ctx.nowMs)).length,
    currentRevision,
    updateRevision,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  if (minReady > 0) {
    for (const p of live) {
      const r = (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready' && c.status === 'True');
      if (r && !isPodAvailable(p, minReady, ctx.nowMs)) ctx.wake(Date.parse(r.lastTransitionTime) + minReady * 1000);
    }
  }
  // completeRollingUpdate: every pod at the update revision and ready.
  if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas && status.replicas === replicas) {
    status.currentRevision = updateRevision;
    status.currentReplicas = status.updatedReplicas;
  }
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas']) if (status[k] === 0) delete status[k];
  const cur = set.status ?? {};
  const keys = ['observedGeneration', 'replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'currentRevision', 'updateRevision', 'collisionCount'];
  if (keys.every((k) => (cur[k] ?? 0) === (status[k] ?? 0))) return;
  await reg.guaranteedUpdate(setRes, ns, m.name!, (c) => {
    if (!c || c.metadata?.uid !== m.uid) throw new Error('statefulset replaced');
    const next = structuredClone(c);
    next.metadata!.resourceVersion = '';
    next.status = { ...(c.status?.conditions ? { conditions: c.status.conditions } : {}), ...status };
    return next;
  }, { ...MANAGER, subresource: 'status' });
}

/** Creates the PVCs of an ordinal that do not exist yet (createPersistentVolumeClaims). */
async function ensureClaims(ctx: ControllerContext, set: KObject, ordinal: number): Promise<void> {
  const templates: any[] = set.spec?.volumeClaimTemplates ?? [];
  if (templates.length === 0) return;
  const { reg } = ctx;
  const pvcRes = res(reg, '', 'v1', 'persistentvolumeclaims');
  const m = set.metadata!;
  const whenDeleted = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain';
  for (const t of templates) {
    const name = claimName(t.metadata?.name, m.name!, ordinal);
    if (reg.cache.get(reg.keyFor(pvcRes, m.namespace!, name))) continue;
    const pvc: KObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name,
        namespace: m.namespace,
        labels: { ...(t.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
        ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ...(whenDeleted === 'Delete' ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }] } : {}),
      },
      spec: structuredClone(t.spec ?? {}),
    };
    await reg
      .create(pvcRes, m.namespace!, pvc, MANAGER)
      .then(() => recordEvent(reg, ctx.nowMs, { apiVersion: 'apps/v1', kind: 'StatefulSet', ...set }, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${m.name}-${ordinal} in StatefulSet ${m.name} success`, 'statefulset-controller'))
      .catch((err) => ctx.log.warn({ err, pvc: name }, 'statefulset: claim create failed'));
  }
}

/** whenScaled: Delete — the condemned pod becomes the owner of its claims, so they go with it. */
async function releaseClaimsOnScaleDown(ctx: ControllerContext, set: KObject, pod: KObject): Promise<void> {
  if ((set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain') !== 'Delete') return;
  const { reg } = ctx;
  const pvcRes = res(reg, '', 'v1', 'persistentvolumeclaims');
  const m = set.metadata!;
  const o = ordinalOf(m.name!, pod.metadata!.name!)!;
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const name = claimName(t.metadata?.name, m.name!, o);
    await reg
      .guaranteedUpdate(pvcRes, m.namespace!, name, (cur) => {
        if (!cur) throw new Error('claim gone');
        const next = structuredClone(cur);
        next.metadata!.resourceVersion = '';
        const refs = (next.metadata!.ownerReferences ?? []).filter((r: any) => r.uid !== pod.metadata!.uid && !(r.kind === 'StatefulSet' && r.uid === m.uid));
        refs.push({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name, uid: pod.metadata!.uid, controller: true, blockOwnerDeletion: true });
        next.metadata!.ownerReferences = refs;
        return next;
      }, MANAGER)
      .catch(() => {});
  }
}

/** The StatefulSet controller (see the module comment). */
export const STATEFULSET_CONTROLLER: WorkloadController = {
  name: 'statefulset',
  resources: ['apps/statefulsets', 'apps/controllerrevisions', 'pods'],
  sync: syncStatefulSets,
};
