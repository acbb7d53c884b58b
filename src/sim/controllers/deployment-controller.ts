/**
 * The Deployment controller of kube-controller-manager, as one pass over a
 * cluster's watch cache (called by the data plane loop on Deployment,
 * ReplicaSet and pod events), with the arithmetic of
 * src/kube/controllers/deployment/rollout.ts:
 *
 * - the new ReplicaSet is `<deployment>-<pod-template-hash>` with the hash
 *   label in its selector and template, the revision annotation (max old
 *   revision + 1, also when an old template comes back: rollback) and the
 *   desired-replicas / max-replicas annotations;
 * - RollingUpdate scales the new ReplicaSet up within maxSurge and old ones
 *   down within maxUnavailable (unhealthy old replicas first); Recreate
 *   scales old ones to 0 and the new one up once their pods are gone;
 * - paused Deployments are only scaled, never rolled;
 * - old ReplicaSets at 0 beyond revisionHistoryLimit (10) are deleted;
 * - status: replicas, updatedReplicas, readyReplicas, availableReplicas,
 *   unavailableReplicas, observedGeneration and the Available / Progressing
 *   conditions `kubectl rollout status` reads.
 *
 * Not done yet: progressDeadlineSeconds (ProgressDeadlineExceeded),
 * proportional scaling of several ReplicaSets mid-rollout, hash collisions
 * (collisionCount), ScalingReplicaSet events, adoption of orphan ReplicaSets.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { timestamp } from '../../kube/apiserver/registry/generic-store.ts';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  maxRevision,
  maxScaleDownOld,
  newReplicasForScaleUp,
  podTemplateHash,
  resolveFenceposts,
  revisionOf,
} from '../../kube/controllers/deployment/rollout.ts';

export interface DeploymentPassContext {
  reg: ClusterRegistry;
  nowMs: number;
  log: { warn(o: object, msg?: string): void };
}

const MANAGER = { fieldManager: 'kube-controller-manager' };

function controllerUid(o: KObject): string | undefined {
  return (o.metadata?.ownerReferences ?? []).find((r) => r.controller)?.uid;
}

const specReplicas = (rs: KObject): number => rs.spec?.replicas ?? 0;
const statusOf = (rs: KObject | undefined, k: string): number => rs?.status?.[k] ?? 0;

/** syncDeployments runs one reconcile of every Deployment of the cluster. */
export async function syncDeployments(ctx: DeploymentPassContext): Promise<void> {
  const { reg } = ctx;
  const dRes = reg.scheme.get('apps', 'v1', 'deployments');
  const rsRes = reg.scheme.get('apps', 'v1', 'replicasets');
  if (!dRes || !rsRes) return;
  const deployments = reg.cache.list('apps/deployments', '');
  if (deployments.length === 0) return;
  const byOwner = new Map<string, KObject[]>();
  for (const e of reg.cache.list('apps/replicasets', '')) {
    const uid = controllerUid(e.obj);
    if (!uid) continue;
    const l = byOwner.get(uid) ?? [];
    l.push(e.obj);
    byOwner.set(uid, l);
  }
  const now = timestamp(new Date(ctx.nowMs));
  const setReplicas = (rs: KObject, n: number, d: KObject) =>
    reg.guaranteedUpdate(rsRes, rs.metadata!.namespace!, rs.metadata!.name!, (cur) => {
      if (!cur || cur.metadata?.uid !== rs.metadata!.uid) throw new Error('replicaset replaced');
      const next = structuredClone(cur);
      next.metadata!.resourceVersion = '';
      next.spec.replicas = n;
      next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), [DESIRED_REPLICAS_ANNOTATION]: String(d.spec?.replicas ?? 1), [MAX_REPLICAS_ANNOTATION]: String((d.spec?.replicas ?? 1) + resolveFenceposts(d).maxSurge) };
      return next;
    }, MANAGER);

  for (const e of deployments) {
    const d = e.obj;
    const m = d.metadata!;
    if (m.deletionTimestamp) continue;
    try {
      const replicas: number = d.spec?.replicas ?? 1;
      const rss = (byOwner.get(m.uid!) ?? []).filter((rs) => !rs.metadata?.deletionTimestamp);
      const hash = podTemplateHash(d.spec?.template ?? {}, d.status?.collisionCount ?? 0);
      let newRs = rss.find((rs) => rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
      const old = rss.filter((rs) => rs !== newRs);
      const recreate = d.spec?.strategy?.type === 'Recreate';
      const paused = !!d.spec?.paused;
      if (!newRs && !paused) {
        const oldTotal = old.reduce((s, rs) => s + specReplicas(rs), 0);
        const oldPods = old.reduce((s, rs) => s + statusOf(rs, 'replicas'), 0);
        const initial = recreate ? (oldPods === 0 && oldTotal === 0 ? replicas : 0) : newReplicasForScaleUp(d, oldTotal, 0);
        const tmpl = structuredClone(d.spec?.template ?? {});
        tmpl.metadata = { ...(tmpl.metadata ?? {}), labels: { ...(tmpl.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
        const sel = structuredClone(d.spec?.selector ?? {});
        sel.matchLabels = { ...(sel.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
        const rs: KObject = {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${m.name}-${hash}`,
            namespace: m.namespace,
            labels: tmpl.metadata.labels,
            annotations: {
              [DESIRED_REPLICAS_ANNOTATION]: String(replicas),
              [MAX_REPLICAS_ANNOTATION]: String(replicas + resolveFenceposts(d).maxSurge),
              [REVISION_ANNOTATION]: String(maxRevision(old) + 1),
            },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }],
          },
          spec: { replicas: initial, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector: sel, template: tmpl },
        };
        try {
          newRs = await reg.create(rsRes, m.namespace!, rs, MANAGER);
        } catch (err) {
          ctx.log.warn({ err, deployment: m.name }, 'deployment: new replica set not created');
        }
      } else if (newRs && !paused && revisionOf(newRs) <= maxRevision(old)) {
        // An old template came back (rollback): it becomes the newest revision.
        const rev = String(maxRevision(old) + 1);
        await reg.guaranteedUpdate(rsRes, m.namespace!, newRs.metadata!.name!, (cur) => {
          if (!cur) throw new Error('replicaset gone');
          const next = structuredClone(cur);
          next.metadata!.resourceVersion = '';
          next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), [REVISION_ANNOTATION]: rev };
          return next;
        }, MANAGER);
      }
      if (newRs && !paused) {
        // The Deployment carries its current revision (kubectl rollout history/undo read it).
        const rev = newRs.metadata?.annotations?.[REVISION_ANNOTATION];
        if (rev && m.annotations?.[REVISION_ANNOTATION] !== rev) {
          await reg.guaranteedUpdate(dRes, m.namespace!, m.name!, (cur) => {
            if (!cur || cur.metadata?.uid !== m.uid) throw new Error('deployment replaced');
            const next = structuredClone(cur);
            next.metadata!.resourceVersion = '';
            next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), [REVISION_ANNOTATION]: rev };
            return next;
          }, MANAGER);
        }
      }
      if (newRs) {
        const newSpec = specReplicas(newRs);
        if (paused || old.every((rs) => specReplicas(rs) === 0)) {
          // Not rolling: plain scaling of the new ReplicaSet.
          if (!paused && newSpec !== replicas && (!recreate || old.every((rs) => statusOf(rs, 'replicas') === 0))) await setReplicas(newRs, replicas, d);
        } else if (recreate) {
          for (const rs of old) if (specReplicas(rs) > 0) await setReplicas(rs, 0, d);
        } else {
          const allSpec = rss.reduce((s, rs) => s + specReplicas(rs), 0) + (rss.includes(newRs) ? 0 : newSpec);
          const up = newReplicasForScaleUp(d, allSpec, newSpec);
          if (up !== newSpec) await setReplicas(newRs, up, d);
          else {
            // Scale old ones down: unhealthy replicas first, then within maxUnavailable.
            const newAvail = statusOf(newRs, 'availableReplicas');
            let budget = maxScaleDownOld(d, allSpec, newSpec, newAvail);
            const { maxUnavailable } = resolveFenceposts(d);
            const minAvailable = replicas - maxUnavailable;
            let availAll = newAvail + old.reduce((s, rs) => s + statusOf(rs, 'availableReplicas'), 0);
            const sorted = [...old].sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)));
            for (const rs of sorted) {
              if (budget <= 0) break;
              const spec = specReplicas(rs);
              const unhealthy = Math.max(0, spec - statusOf(rs, 'availableReplicas'));
              const healthyDown = Math.max(0, Math.min(spec - unhealthy, availAll - minAvailable));
              const down = Math.min(budget, unhealthy + healthyDown);
              if (down <= 0) continue;
              availAll -= Math.max(0, down - unhealthy);
              budget -= down;
              await setReplicas(rs, spec - down, d);
            }
          }
        }
      }
      // History: old ReplicaSets at 0 beyond revisionHistoryLimit go, oldest revision first.
      const limit: number = d.spec?.revisionHistoryLimit ?? 10;
      const idle = old.filter((rs) => specReplicas(rs) === 0 && statusOf(rs, 'replicas') === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
      for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
        await reg.delete(rsRes, rs.metadata!.namespace!, rs.metadata!.name!, { preconditions: { uid: rs.metadata!.uid } }).catch(() => {});
      }
      await writeStatus(ctx, dRes, d, newRs, rss.filter((rs) => rs !== newRs), now);
    } catch (err) {
      ctx.log.warn({ err, deployment: m.name }, 'deployment sync failed');
    }
  }
}

async function writeStatus(ctx: DeploymentPassContext, dRes: NonNullable<ReturnType<ClusterRegistry['scheme']['get']>>, d: KObject, newRs: KObject | undefined, old: KObject[], now: string): Promise<void> {
  const m = d.metadata!;
  const all = newRs ? [newRs, ...old] : old;
  const replicas: number = d.spec?.replicas ?? 1;
  const sum = (k: string) => all.reduce((s, rs) => s + statusOf(rs, k), 0);
  const available = sum('availableReplicas');
  const totalSpec = all.reduce((s, rs) => s + specReplicas(rs), 0);
  const { maxUnavailable } = resolveFenceposts(d);
  const updated = statusOf(newRs, 'replicas');
  const complete = !!newRs && updated === replicas && sum('replicas') === replicas && available >= replicas && statusOf(newRs, 'availableReplicas') >= replicas;
  const status: Record<string, any> = {
    observedGeneration: m.generation ?? 1,
    replicas: sum('replicas'),
    updatedReplicas: updated,
    readyReplicas: sum('readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, totalSpec - available),
  };
  for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (status[k] === 0) delete status[k];
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  const prev: any[] = d.status?.conditions ?? [];
  const cond = (type: string, st: string, reason: string, message: string) => {
    const p = prev.find((c) => c.type === type);
    const sameStatus = p && p.status === st;
    const same = sameStatus && p.reason === reason && p.message === message;
    return { type, status: st, lastUpdateTime: same ? p.lastUpdateTime : now, lastTransitionTime: sameStatus ? p.lastTransitionTime : now, reason, message };
  };
  const availableCond = available >= replicas - maxUnavailable
    ? cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
    : cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.');
  const rsName = newRs?.metadata?.name ?? '';
  const progressing = d.spec?.paused
    ? cond('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused')
    : complete
      ? cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`)
      : prev.some((c) => c.type === 'Progressing')
        ? cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`)
        : cond('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`);
  status.conditions = [availableCond, progressing];
  const strip = (s: any) => JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map((c: any) => [c.type, c.status, c.reason, c.message]) });
  if (strip(status) === strip(d.status ?? {})) return;
  await ctx.reg.guaranteedUpdate(dRes, m.namespace!, m.name!, (cur) => {
    if (!cur || cur.metadata?.uid !== m.uid) throw new Error('deployment replaced');
    const next = structuredClone(cur);
    next.metadata!.resourceVersion = '';
    next.status = status;
    return next;
  }, { ...MANAGER, subresource: 'status' });
}
